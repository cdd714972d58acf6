// models/llama/llama_plugin_abi.h — the model-plugin C functions shared by every plugin built on the Llama forward.
#pragma once

#include "llmatc/model.h"

namespace llmatc::llama {

// The create/destroy/describe/forward slots of llmatc_model_plugin for a LlamaModel. Each catches every exception
// and returns a status with its message set through g_host->set_error. The llama and vicuna plugins put these in
// their tables beside their own probe and chat template.
llmatc_status abi_create(const llmatc_model_load_params* params, llmatc_model** out) noexcept;
void abi_destroy(llmatc_model* model) noexcept;
llmatc_status abi_describe(const llmatc_model* model, llmatc_model_desc* out) noexcept;
llmatc_status abi_forward(llmatc_model* model, const llmatc_kv_cache* cache, const llmatc_batch* batch) noexcept;

}  // namespace llmatc::llama
