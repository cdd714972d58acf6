// models/llama/llama_scratch.cpp — allocation and growth of the forward pass's activation buffers.
#include "llama/llama_scratch.h"

#include <algorithm>
#include <string>

#include "llama/llama_error.h"

namespace llmatc::llama {

float* LlamaScratch::alloc_floats(int64_t count) {
    const size_t bytes = size_t(count) * sizeof(float);
    auto* p = static_cast<float*>(kernels_.alloc(kernels_.ctx, bytes));
    if (!p)
        throw LlamaError(LLMATC_ERR_OUT_OF_MEMORY, "llama forward: cannot allocate " + std::to_string(bytes) +
                                                       " bytes of activations on the " + kernels_.name + " backend");
    return p;
}

void LlamaScratch::release() {
    for (float** p : {&residual, &normed, &q, &k, &v, &attn, &gate, &up, &logit_input, &logits}) {
        kernels_.free(kernels_.ctx, *p);
        *p = nullptr;
    }
    token_capacity_ = logit_capacity_ = 0;
}

void LlamaScratch::reserve(int64_t n_tokens, int64_t n_logit_rows) {
    if (n_tokens <= token_capacity_ && n_logit_rows <= logit_capacity_) return;
    // Never shrink: a prefill sizes the buffers once and the decode steps after it reuse them.
    const int64_t tokens = std::max(n_tokens, token_capacity_);
    const int64_t rows = std::max<int64_t>({int64_t(1), n_logit_rows, logit_capacity_});
    release();
    const int64_t hidden = hp_.hidden_size, q_dim = int64_t(hp_.n_heads) * hp_.head_dim;
    const int64_t kv_dim = int64_t(hp_.n_kv_heads) * hp_.head_dim, inter = hp_.intermediate_size;
    try {
        residual = alloc_floats(tokens * hidden);
        normed = alloc_floats(tokens * hidden);
        q = alloc_floats(tokens * q_dim);
        k = alloc_floats(tokens * kv_dim);
        v = alloc_floats(tokens * kv_dim);
        attn = alloc_floats(tokens * q_dim);
        gate = alloc_floats(tokens * inter);
        up = alloc_floats(tokens * inter);
        logit_input = alloc_floats(rows * hidden);
        logits = alloc_floats(rows * int64_t(hp_.vocab_size));
    } catch (...) {
        release();
        throw;
    }
    token_capacity_ = tokens;
    logit_capacity_ = rows;
}

}  // namespace llmatc::llama
