// models/llama/llama_model.h — one Llama model: hyper-parameters, prepared weights, activation buffers, the forward.
#pragma once

#include <memory>
#include <string>

#include "llama/llama_hparams.h"
#include "llama/llama_scratch.h"
#include "llama/llama_weights.h"
#include "llmatc/model.h"

namespace llmatc::llama {

// What llmatc_model* points to for the llama and vicuna plugins. Construction and forward() throw LlamaError;
// the C ABI wrappers (llama_plugin_abi.cpp) turn that into a status. forward() from one thread at a time.
class LlamaModel {
public:
    // Parses config.json and prepares every weight on params.kernels (borrowed; both must outlive the model).
    explicit LlamaModel(const llmatc_model_load_params& params);

    const llmatc_model_desc& desc() const { return desc_; }
    const LlamaHparams& hparams() const { return hp_; }

    // One engine step (see llmatc_model_plugin.forward): embeds the batch, runs every layer writing its keys and
    // values into `cache`, and fills batch.logits for batch.logit_rows (and batch.hidden when asked).
    void forward(const llmatc_kv_cache& cache, const llmatc_batch& batch);

private:
    void check_step(const llmatc_kv_cache& cache, const llmatc_batch& batch) const;
    void run_layer(int32_t layer, const llmatc_kv_cache& cache, const llmatc_batch& batch);
    void write_outputs(const llmatc_batch& batch);

    LlamaHparams hp_;
    const llmatc_kernels& kernels_;
    std::string model_dir_;
    std::unique_ptr<LlamaWeights> weights_;
    LlamaScratch scratch_;
    llmatc_model_desc desc_{};
};

}  // namespace llmatc::llama
