// models/llama/llama_model.cpp — building a Llama model from load parameters and describing it to the engine.
#include "llama/llama_model.h"

#include <string>
#include <string_view>

#include "llama/llama_error.h"
#include "llama/llama_host.h"

namespace llmatc::llama {

namespace {

const llmatc_kernels& require_kernels(const llmatc_model_load_params& params) {
    if (!params.kernels) throw LlamaError(LLMATC_ERR_INVALID_ARGUMENT, "llama: no kernel backend given to create()");
    return *params.kernels;
}

}  // namespace

LlamaModel::LlamaModel(const llmatc_model_load_params& params)
    : hp_(parse_llama_hparams(std::string_view(params.config_json ? params.config_json : "", params.config_json_len),
                              params.model_dir ? params.model_dir : "")),
      kernels_(require_kernels(params)),
      model_dir_(params.model_dir ? params.model_dir : "(unnamed checkpoint)"),
      scratch_(hp_, kernels_) {
    if (!params.tensors) throw LlamaError(LLMATC_ERR_INVALID_ARGUMENT, "llama: no tensor source given for " + model_dir_);
    weights_ = std::make_unique<LlamaWeights>(hp_, *params.tensors, kernels_, params.weight_storage, model_dir_);

    desc_.struct_size = sizeof(desc_);
    desc_.abi_version = LLMATC_ABI_VERSION;
    desc_.architecture = hp_.architecture.c_str();
    desc_.vocab_size = hp_.vocab_size;
    desc_.hidden_size = hp_.hidden_size;
    desc_.n_layers = hp_.n_layers;
    desc_.n_kv_heads = hp_.n_kv_heads;
    desc_.head_dim = hp_.head_dim;
    desc_.max_position_embeddings = hp_.max_position_embeddings;
    desc_.weight_bytes = weights_->total_bytes();
    desc_.bytes_read_per_token = weights_->bytes_read_per_token();

    if (weights_->fallback_count() > 0)
        host_log(LLMATC_LOG_INFO, "llama",
                 std::to_string(weights_->fallback_count()) +
                     " matrices kept unquantized (or in Q8_0 for Q4_K): their rows are not a multiple of the "
                     "quantization block");
    host_log(LLMATC_LOG_INFO, "llama",
             hp_.architecture + ": " + std::to_string(hp_.n_layers) + " layers, hidden " +
                 std::to_string(hp_.hidden_size) + ", heads " + std::to_string(hp_.n_heads) + "/" +
                 std::to_string(hp_.n_kv_heads) + " (q/kv), head_dim " + std::to_string(hp_.head_dim) + ", vocab " +
                 std::to_string(hp_.vocab_size) + (hp_.tie_word_embeddings ? ", tied lm_head" : "") + "; " +
                 std::to_string(desc_.weight_bytes) + " weight bytes on " + kernels_.name);
}

}  // namespace llmatc::llama
