// models/llama/llama_plugin_abi.cpp — C ABI wrappers around LlamaModel: no exception crosses the plugin boundary.
#include "llama/llama_plugin_abi.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "llama/llama_error.h"
#include "llama/llama_host.h"
#include "llama/llama_model.h"

namespace llmatc::llama {

namespace {

llmatc_status fail(llmatc_status status, const std::string& message) {
    if (g_host && g_host->set_error) g_host->set_error(message.data(), message.size());
    return status;
}

// Runs `body`, turning whatever it throws into a status and a message.
template <typename Body>
llmatc_status guarded(const char* what, Body&& body) noexcept {
    try {
        body();
        return LLMATC_OK;
    } catch (const LlamaError& e) {
        return fail(e.status(), e.what());
    } catch (const std::bad_alloc&) {
        return fail(LLMATC_ERR_OUT_OF_MEMORY, std::string("llama ") + what + ": out of memory");
    } catch (const std::exception& e) {
        return fail(LLMATC_ERR_INTERNAL, std::string("llama ") + what + ": " + e.what());
    } catch (...) {
        return fail(LLMATC_ERR_INTERNAL, std::string("llama ") + what + ": unknown exception");
    }
}

LlamaModel* as_model(llmatc_model* model) { return reinterpret_cast<LlamaModel*>(model); }
const LlamaModel* as_model(const llmatc_model* model) { return reinterpret_cast<const LlamaModel*>(model); }

}  // namespace

llmatc_status abi_create(const llmatc_model_load_params* params, llmatc_model** out) noexcept {
    if (!params || !out) return fail(LLMATC_ERR_INVALID_ARGUMENT, "llama create: params and out must not be NULL");
    *out = nullptr;
    return guarded("create", [&] { *out = reinterpret_cast<llmatc_model*>(new LlamaModel(*params)); });
}

void abi_destroy(llmatc_model* model) noexcept { delete as_model(model); }

llmatc_status abi_describe(const llmatc_model* model, llmatc_model_desc* out) noexcept {
    if (!model || !out) return fail(LLMATC_ERR_INVALID_ARGUMENT, "llama describe: model and out must not be NULL");
    return guarded("describe", [&] {
        // The caller's struct may be older (smaller) than ours: copy only what it has room for.
        const uint32_t caller_size = out->struct_size;
        const llmatc_model_desc& desc = as_model(model)->desc();
        std::memcpy(out, &desc, std::min<size_t>(caller_size, sizeof(desc)));
        out->struct_size = caller_size;
    });
}

llmatc_status abi_forward(llmatc_model* model, const llmatc_kv_cache* cache, const llmatc_batch* batch) noexcept {
    if (!model || !cache || !batch)
        return fail(LLMATC_ERR_INVALID_ARGUMENT, "llama forward: model, cache and batch must not be NULL");
    return guarded("forward", [&] { as_model(model)->forward(*cache, *batch); });
}

}  // namespace llmatc::llama
