// models/vicuna/vicuna_plugin.cpp — the `vicuna` model plugin: Vicuna checkpoints on the Llama forward, with
// FastChat's Vicuna v1.1 conversation template.
#include <algorithm>
#include <cctype>
#include <string_view>

#include "llama/llama_hparams.h"
#include "llama/llama_host.h"
#include "llama/llama_plugin_abi.h"
#include "llmatc/model.h"
#include "llmatc/plugin_export.h"
#include "vicuna/vicuna_chat_template.h"

namespace {

bool names_vicuna(std::string_view name) {
    constexpr std::string_view family = "vicuna";
    auto it = std::search(name.begin(), name.end(), family.begin(), family.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
    });
    return it != name.end();
}

// 150 — above the llama plugin's 100 — when the checkpoint is a Llama and the user's name for it says "vicuna"
// (any case); 0 otherwise, so a plain Llama never gets Vicuna's template.
int32_t probe_vicuna(const char* config_json, size_t config_json_len, const char* model_name,
                     size_t model_name_len) noexcept {
    try {
        if (!config_json || !model_name) return 0;
        if (!names_vicuna({model_name, model_name_len})) return 0;
        return llmatc::llama::config_names_llama_architecture({config_json, config_json_len}) ? 150 : 0;
    } catch (...) {
        return 0;
    }
}

const llmatc_model_plugin k_vicuna_plugin = {
    sizeof(llmatc_model_plugin),
    LLMATC_ABI_VERSION,
    llmatc::llama::kLlamaArchitectures,
    probe_vicuna,
    llmatc::llama::abi_create,
    llmatc::llama::abi_destroy,
    llmatc::llama::abi_describe,
    llmatc::llama::abi_forward,
    llmatc::vicuna::kVicunaChatTemplate,
};

}  // namespace

LLMATC_PLUGIN_DEFINE(llmatc::llama::g_host, LLMATC_PLUGIN_MODEL, "vicuna", "0.1.0",
                     "Vicuna (LlamaForCausalLM checkpoints named *vicuna*), FastChat Vicuna v1.1 template",
                     &k_vicuna_plugin)
