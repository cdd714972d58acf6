// models/llama/llama_weights.h — the Llama tensors, checked against the hyper-parameters and prepared on a backend.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llama/llama_hparams.h"
#include "llmatc/model.h"

namespace llmatc::llama {

struct LlamaLayerWeights {
    llmatc_weight* attn_norm = nullptr;  // input_layernorm [hidden]
    llmatc_weight* q_proj = nullptr;     // [n_heads * head_dim, hidden]
    llmatc_weight* k_proj = nullptr;     // [n_kv_heads * head_dim, hidden]
    llmatc_weight* v_proj = nullptr;     // [n_kv_heads * head_dim, hidden]
    llmatc_weight* o_proj = nullptr;     // [hidden, n_heads * head_dim]
    llmatc_weight* ffn_norm = nullptr;   // post_attention_layernorm [hidden]
    llmatc_weight* gate_proj = nullptr;  // [intermediate, hidden]
    llmatc_weight* up_proj = nullptr;    // [intermediate, hidden]
    llmatc_weight* down_proj = nullptr;  // [hidden, intermediate]
};

// Owns every prepared weight of one model; frees them on the backend they were made on. Not copyable.
class LlamaWeights {
public:
    // Reads and checks every tensor (presence, rank, exact shape), then prepares it with kernels->weight_create.
    // Matrices are kept in `storage` (a dtype, or -1 for each tensor's own); norm vectors always in F32. A quantized
    // `storage` whose blocks do not tile a matrix's rows falls back for that matrix (see fallback_count()).
    // lm_head.weight falls back to model.embed_tokens.weight when the embeddings are tied or it is absent and
    // tie_word_embeddings is true. Throws LlamaError naming the tensor and `model_dir` on any failure.
    LlamaWeights(const LlamaHparams& hp, const llmatc_tensor_source& tensors, const llmatc_kernels& kernels,
                 llmatc_dtype storage, const std::string& model_dir);
    ~LlamaWeights();
    LlamaWeights(const LlamaWeights&) = delete;
    LlamaWeights& operator=(const LlamaWeights&) = delete;

    llmatc_weight* embed_tokens = nullptr;  // [vocab, hidden]
    llmatc_weight* final_norm = nullptr;    // model.norm [hidden]
    llmatc_weight* lm_head = nullptr;       // [vocab, hidden]; == embed_tokens when tied (not owned twice)
    std::vector<LlamaLayerWeights> layers;

    uint64_t total_bytes() const { return total_bytes_; }
    // Bytes one decode step reads: every matrix and norm plus lm_head, but only one row of the embedding table.
    uint64_t bytes_read_per_token() const { return bytes_per_token_; }
    // Matrices kept in another type than the requested quantization because its blocks do not tile their rows.
    int fallback_count() const { return fallbacks_; }

private:
    llmatc_weight* prepare(const std::string& name, std::vector<int64_t> shape, llmatc_dtype storage);

    const llmatc_tensor_source& tensors_;
    const llmatc_kernels& kernels_;
    std::string model_dir_;
    std::vector<llmatc_weight*> owned_;
    uint64_t total_bytes_ = 0;
    uint64_t bytes_per_token_ = 0;
    int fallbacks_ = 0;
};

}  // namespace llmatc::llama
