// models/llama/llama_plugin.cpp — the `llama` model plugin: LlamaForCausalLM with Llama-2 chat's template.
#include "llama/llama2_chat_template.h"
#include "llama/llama_hparams.h"
#include "llama/llama_host.h"
#include "llama/llama_plugin_abi.h"
#include "llmatc/model.h"
#include "llmatc/plugin_export.h"

namespace {

// 100 (the generic architecture match) for every config.json whose `architectures` names a Llama architecture.
int32_t probe_llama(const char* config_json, size_t config_json_len, const char*, size_t) noexcept {
    try {
        if (!config_json) return 0;
        return llmatc::llama::config_names_llama_architecture({config_json, config_json_len}) ? 100 : 0;
    } catch (...) {
        return 0;
    }
}

const llmatc_model_plugin k_llama_plugin = {
    sizeof(llmatc_model_plugin),
    LLMATC_ABI_VERSION,
    llmatc::llama::kLlamaArchitectures,
    probe_llama,
    llmatc::llama::abi_create,
    llmatc::llama::abi_destroy,
    llmatc::llama::abi_describe,
    llmatc::llama::abi_forward,
    llmatc::llama::kLlama2ChatTemplate,
};

}  // namespace

LLMATC_PLUGIN_DEFINE(llmatc::llama::g_host, LLMATC_PLUGIN_MODEL, "llama", "0.1.0",
                     "Llama and Llama 2 (LlamaForCausalLM), Llama-2 chat template", &k_llama_plugin)
