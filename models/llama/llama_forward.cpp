// models/llama/llama_forward.cpp — the Llama forward pass for one engine step, written against the kernel library.
#include <cmath>
#include <cstddef>
#include <string>

#include "llama/llama_error.h"
#include "llama/llama_host.h"
#include "llama/llama_model.h"

namespace llmatc::llama {

namespace {

void check(llmatc_status status, const char* what, int32_t layer = -1) {
    if (status == LLMATC_OK) return;
    std::string where = std::string("llama forward: ") + what;
    if (layer >= 0) where += " (layer " + std::to_string(layer) + ")";
    throw LlamaError(status, where + ": " + host_last_error());
}

[[noreturn]] void bad_step(const std::string& what) {
    throw LlamaError(LLMATC_ERR_INVALID_ARGUMENT, "llama forward: " + what);
}

// The batch's device_logits (since ABI 1.1) when the caller's struct has the field, else NULL.
float* device_logits_of(const llmatc_batch& batch) {
    if (batch.struct_size < offsetof(llmatc_batch, device_logits) + sizeof(batch.device_logits)) return nullptr;
    return batch.device_logits;
}

}  // namespace

void LlamaModel::check_step(const llmatc_kv_cache& cache, const llmatc_batch& batch) const {
    if (cache.n_layers != hp_.n_layers || cache.n_kv_heads != hp_.n_kv_heads || cache.head_dim != hp_.head_dim)
        bad_step("KV cache shape (" + std::to_string(cache.n_layers) + " layers, " + std::to_string(cache.n_kv_heads) +
                 " kv heads, head_dim " + std::to_string(cache.head_dim) + ") does not match the model (" +
                 std::to_string(hp_.n_layers) + ", " + std::to_string(hp_.n_kv_heads) + ", " +
                 std::to_string(hp_.head_dim) + ")");
    if (batch.n_tokens <= 0 || !batch.token_ids || !batch.positions)
        bad_step("the batch has no tokens (n_tokens " + std::to_string(batch.n_tokens) + ")");
    if (batch.n_seqs <= 0 || !batch.seqs) bad_step("the batch has no sequences");
    if (batch.n_logit_rows < 0 ||
        (batch.n_logit_rows > 0 && (!batch.logit_rows || (!batch.logits && !device_logits_of(batch)))))
        bad_step("logit rows requested without row indices or an output buffer");
    for (int32_t i = 0; i < batch.n_logit_rows; ++i) {
        const int32_t row = batch.logit_rows[i];
        if (row < 0 || row >= batch.n_tokens || (i > 0 && row <= batch.logit_rows[i - 1]))
            bad_step("logit_rows must be ascending rows of the batch; entry " + std::to_string(i) + " is " +
                     std::to_string(row));
    }
    for (int32_t i = 0; i < batch.n_tokens; ++i)
        if (batch.positions[i] < 0)
            bad_step("position " + std::to_string(batch.positions[i]) + " of row " + std::to_string(i) +
                     " is negative");
}

void LlamaModel::forward(const llmatc_kv_cache& cache, const llmatc_batch& batch) {
    check_step(cache, batch);
    scratch_.reserve(batch.n_tokens, batch.n_logit_rows);
    check(kernels_.embedding(kernels_.ctx, weights_->embed_tokens, batch.token_ids, batch.n_tokens, scratch_.residual),
          "embedding");
    for (int32_t layer = 0; layer < hp_.n_layers; ++layer) run_layer(layer, cache, batch);
    write_outputs(batch);
}

void LlamaModel::run_layer(int32_t layer, const llmatc_kv_cache& cache, const llmatc_batch& batch) {
    const LlamaLayerWeights& w = weights_->layers[layer];
    void* ctx = kernels_.ctx;
    const int64_t n = batch.n_tokens;
    const int64_t hidden = hp_.hidden_size;
    LlamaScratch& s = scratch_;

    // Attention block: x += o_proj(attention(rope(q), rope(k), v)) on the normed stream.
    check(kernels_.rmsnorm(ctx, s.residual, w.attn_norm, n, hidden, hp_.rms_norm_eps, s.normed), "input_layernorm", layer);
    check(kernels_.matmul(ctx, w.q_proj, s.normed, n, s.q), "q_proj", layer);
    check(kernels_.matmul(ctx, w.k_proj, s.normed, n, s.k), "k_proj", layer);
    check(kernels_.matmul(ctx, w.v_proj, s.normed, n, s.v), "v_proj", layer);
    check(kernels_.rope(ctx, s.q, batch.positions, n, hp_.n_heads, hp_.head_dim, hp_.rope_theta, hp_.rope_pos_scale),
          "rope(q)", layer);
    check(kernels_.rope(ctx, s.k, batch.positions, n, hp_.n_kv_heads, hp_.head_dim, hp_.rope_theta,
                        hp_.rope_pos_scale),
          "rope(k)", layer);
    check(kernels_.kv_write(ctx, &cache, layer, &batch, s.k, s.v), "kv_write", layer);
    const float scale = 1.0f / std::sqrt(static_cast<float>(hp_.head_dim));
    check(kernels_.attention(ctx, &cache, layer, &batch, s.q, hp_.n_heads, scale, s.attn), "attention", layer);
    check(kernels_.matmul(ctx, w.o_proj, s.attn, n, s.normed), "o_proj", layer);
    check(kernels_.add(ctx, s.residual, s.normed, n * hidden), "attention residual", layer);

    // MLP block: x += down(silu(gate(x')) * up(x')) with x' the normed stream.
    check(kernels_.rmsnorm(ctx, s.residual, w.ffn_norm, n, hidden, hp_.rms_norm_eps, s.normed),
          "post_attention_layernorm", layer);
    check(kernels_.matmul(ctx, w.gate_proj, s.normed, n, s.gate), "gate_proj", layer);
    check(kernels_.matmul(ctx, w.up_proj, s.normed, n, s.up), "up_proj", layer);
    check(kernels_.silu_mul(ctx, s.gate, s.up, n * hp_.intermediate_size, s.gate), "silu_mul", layer);
    check(kernels_.matmul(ctx, w.down_proj, s.gate, n, s.normed), "down_proj", layer);
    check(kernels_.add(ctx, s.residual, s.normed, n * hidden), "mlp residual", layer);
}

void LlamaModel::write_outputs(const llmatc_batch& batch) {
    void* ctx = kernels_.ctx;
    const int64_t hidden = hp_.hidden_size;
    LlamaScratch& s = scratch_;

    if (batch.hidden) {
        check(kernels_.rmsnorm(ctx, s.residual, weights_->final_norm, batch.n_tokens, hidden, hp_.rms_norm_eps,
                               s.normed),
              "final norm");
        check(kernels_.to_host(ctx, batch.hidden, s.normed, size_t(batch.n_tokens) * hidden * sizeof(float)),
              "copy of hidden states");
    }
    if (batch.n_logit_rows == 0) return;

    // Only the wanted rows go through the final norm and lm_head, gathered as runs of consecutive rows (usually one
    // run: the last row of each sequence, or all rows when every position's logits are wanted).
    int32_t i = 0;
    while (i < batch.n_logit_rows) {
        int32_t run = 1;
        while (i + run < batch.n_logit_rows && batch.logit_rows[i + run] == batch.logit_rows[i] + run) ++run;
        check(kernels_.rmsnorm(ctx, s.residual + int64_t(batch.logit_rows[i]) * hidden, weights_->final_norm, run,
                               hidden, hp_.rms_norm_eps, s.logit_input + int64_t(i) * hidden),
              "final norm");
        i += run;
    }
    // With device_logits the caller samples in backend memory: lm_head writes there and nothing is copied back.
    if (float* device_logits = device_logits_of(batch)) {
        check(kernels_.matmul(ctx, weights_->lm_head, s.logit_input, batch.n_logit_rows, device_logits), "lm_head");
        return;
    }
    check(kernels_.matmul(ctx, weights_->lm_head, s.logit_input, batch.n_logit_rows, s.logits), "lm_head");
    check(kernels_.to_host(ctx, batch.logits, s.logits,
                           size_t(batch.n_logit_rows) * size_t(hp_.vocab_size) * sizeof(float)),
          "copy of logits");
}

}  // namespace llmatc::llama
