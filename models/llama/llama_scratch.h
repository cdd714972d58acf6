// models/llama/llama_scratch.h — the forward pass's activation buffers in backend memory, grown on demand.
#pragma once

#include <cstdint>

#include "llama/llama_hparams.h"
#include "llmatc/kernels.h"

namespace llmatc::llama {

// Activation buffers for a step of up to capacity() rows. reserve() reallocates only when a step is larger than any
// before, so a steady decode loop allocates nothing. Not thread-safe (one step at a time, like the model).
class LlamaScratch {
public:
    LlamaScratch(const LlamaHparams& hp, const llmatc_kernels& kernels) : hp_(hp), kernels_(kernels) {}
    ~LlamaScratch() { release(); }
    LlamaScratch(const LlamaScratch&) = delete;
    LlamaScratch& operator=(const LlamaScratch&) = delete;

    // Makes room for `n_tokens` rows and `n_logit_rows` logit rows. Throws LlamaError(OUT_OF_MEMORY) naming the size.
    void reserve(int64_t n_tokens, int64_t n_logit_rows);

    float* residual = nullptr;    // [n, hidden] the residual stream
    float* normed = nullptr;      // [n, hidden] norm output; also o_proj/down_proj output before the residual add
    float* q = nullptr;           // [n, n_heads * head_dim]
    float* k = nullptr;           // [n, n_kv_heads * head_dim]
    float* v = nullptr;           // [n, n_kv_heads * head_dim]
    float* attn = nullptr;        // [n, n_heads * head_dim]
    float* gate = nullptr;        // [n, intermediate]; silu(gate) * up in place
    float* up = nullptr;          // [n, intermediate]
    float* logit_input = nullptr; // [r, hidden] final-norm rows whose logits are wanted
    float* logits = nullptr;      // [r, vocab]

private:
    float* alloc_floats(int64_t count);
    void release();

    const LlamaHparams& hp_;
    const llmatc_kernels& kernels_;
    int64_t token_capacity_ = 0;
    int64_t logit_capacity_ = 0;
};

}  // namespace llmatc::llama
