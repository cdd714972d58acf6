// core/engine/engine_api.cpp — the llmatc_engine_api C table over EngineImpl: every entry catches and returns a status.
#include <spdlog/spdlog.h>

#include <cstring>
#include <string>
#include <string_view>

#include "engine/engine_impl.h"
#include "engine/sampling_params.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace llmatc::engine {

namespace {

EngineImpl* self(void* engine) { return static_cast<EngineImpl*>(engine); }

std::string_view name_of(const char* model, size_t model_len) {
    return model ? std::string_view(model, model_len) : std::string_view();
}

// Runs `body`, turning exceptions into a status and the thread's error message (what host->last_error reads).
template <typename Body>
llmatc_status guarded(const char* what, Body&& body) noexcept {
    try {
        body();
        return LLMATC_OK;
    } catch (const Error& e) {
        set_thread_error(e.what());
        return e.status();
    } catch (const std::bad_alloc&) {
        set_thread_error(std::string(what) + ": out of memory");
        return LLMATC_ERR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        set_thread_error(std::string(what) + ": " + e.what());
        return LLMATC_ERR_INTERNAL;
    } catch (...) {
        set_thread_error(std::string(what) + ": unknown exception");
        return LLMATC_ERR_INTERNAL;
    }
}

int32_t api_model_count(void*) { return 1; }

llmatc_status api_model_info(void* engine, int32_t index, llmatc_model_info* out) {
    return guarded("model_info", [&] {
        if (!out) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "model_info: out is NULL");
        if (index != 0)
            throw Error(LLMATC_ERR_NOT_FOUND, "model_info: index " + std::to_string(index) + " out of range (1 model)");
        *out = self(engine)->model_info();
    });
}

void api_default_sampling(void*, llmatc_sampling_params* out) {
    if (out) fill_default_sampling(out);
}

llmatc_status api_tokenize(void* engine, const char* model, size_t model_len, const char* text, size_t text_len,
                           int32_t add_special, int32_t* out, size_t cap, size_t* n_out) {
    return guarded("tokenize", [&] {
        if (!n_out || (text_len > 0 && !text))
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "tokenize: text or n_out is NULL");
        const Tokenizer& tok = self(engine)->model_named(name_of(model, model_len)).tokenizer();
        std::vector<int32_t> ids = tok.encode(std::string_view(text ? text : "", text_len), add_special != 0);
        *n_out = ids.size();
        if (ids.size() > cap || (!ids.empty() && !out))
            throw Error(LLMATC_ERR_OUT_OF_MEMORY, "tokenize: " + std::to_string(ids.size()) +
                                                      " ids do not fit a buffer of " + std::to_string(cap));
        std::copy(ids.begin(), ids.end(), out);
    });
}

llmatc_status api_detokenize(void* engine, const char* model, size_t model_len, const int32_t* ids, size_t n,
                             int32_t skip_special, llmatc_bytes_callback sink, void* user) {
    return guarded("detokenize", [&] {
        if (!sink || (n > 0 && !ids)) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "detokenize: ids or sink is NULL");
        const Tokenizer& tok = self(engine)->model_named(name_of(model, model_len)).tokenizer();
        std::string text = tok.decode({ids, n}, skip_special != 0);
        sink(text.data(), text.size(), user);
    });
}

llmatc_status api_token_text(void* engine, const char* model, size_t model_len, int32_t id,
                             llmatc_bytes_callback sink, void* user) {
    return guarded("token_text", [&] {
        if (!sink) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "token_text: sink is NULL");
        const Tokenizer& tok = self(engine)->model_named(name_of(model, model_len)).tokenizer();
        if (id < 0 || id >= tok.vocab_size())
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "token id " + std::to_string(id) +
                                                         " is outside the vocabulary [0, " +
                                                         std::to_string(tok.vocab_size()) + ")");
        std::string text = tok.token_text(id);
        sink(text.data(), text.size(), user);
    });
}

llmatc_status api_apply_chat_template(void* engine, const char* model, size_t model_len, const char* messages_json,
                                      size_t messages_json_len, int32_t add_generation_prompt,
                                      llmatc_bytes_callback sink, void* user) {
    return guarded("apply_chat_template", [&] {
        if (!sink || (messages_json_len > 0 && !messages_json))
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "apply_chat_template: messages or sink is NULL");
        std::string prompt = self(engine)->render_chat(name_of(model, model_len),
                                                       std::string_view(messages_json, messages_json_len),
                                                       add_generation_prompt != 0);
        sink(prompt.data(), prompt.size(), user);
    });
}

llmatc_status api_submit(void* engine, const llmatc_request* request, uint64_t* request_id) {
    return guarded("submit", [&] {
        if (!request || !request_id) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "submit: request or request_id is NULL");
        *request_id = self(engine)->submit(*request);
    });
}

void api_cancel(void* engine, uint64_t request_id) {
    try {
        self(engine)->cancel(request_id);
    } catch (const std::exception& e) {
        spdlog::error("engine: cancel({}) failed: {}", request_id, e.what());
    }
}

llmatc_status api_embed(void* engine, const char* model, size_t model_len, const int32_t* tokens, int32_t n,
                        float* out, size_t out_cap) {
    return guarded("embed", [&] {
        EngineImpl* e = self(engine);
        e->model_named(name_of(model, model_len));
        if (n < 0 || (n > 0 && !tokens)) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "embed: tokens is NULL");
        const size_t hidden = static_cast<size_t>(e->model_info().hidden_size);
        if (!out || out_cap < hidden)
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "embed: the output holds " + std::to_string(out_cap) +
                                                         " floats but the embedding has " + std::to_string(hidden));
        std::vector<float> v = e->embed({tokens, static_cast<size_t>(n)});
        std::copy(v.begin(), v.end(), out);
    });
}

void api_metrics_text(void* engine, llmatc_bytes_callback sink, void* user) {
    if (!sink) return;
    try {
        std::string text = self(engine)->metrics_text();
        sink(text.data(), text.size(), user);
    } catch (const std::exception& e) {
        spdlog::error("engine: metrics_text failed: {}", e.what());
    }
}

int32_t api_healthy(void* engine) { return self(engine)->healthy() ? 1 : 0; }

const char* api_version(void*) { return LLMATC_VERSION; }

}  // namespace

void fill_engine_api(EngineImpl* engine, llmatc_engine_api* api) {
    *api = llmatc_engine_api{};
    api->struct_size = sizeof(llmatc_engine_api);
    api->abi_version = LLMATC_ABI_VERSION;
    api->engine = engine;
    api->model_count = api_model_count;
    api->model_info = api_model_info;
    api->default_sampling = api_default_sampling;
    api->tokenize = api_tokenize;
    api->detokenize = api_detokenize;
    api->token_text = api_token_text;
    api->apply_chat_template = api_apply_chat_template;
    api->submit = api_submit;
    api->cancel = api_cancel;
    api->embed = api_embed;
    api->metrics_text = api_metrics_text;
    api->healthy = api_healthy;
    api->version = api_version;
}

}  // namespace llmatc::engine
