// core/kernels/cpu/cpu_attention.cpp — the paged KV cache on the CPU: writing a batch's keys/values into their
// slots, and causal grouped-query attention over each sequence's blocks with an online softmax.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/fp16.h"
#include "util/error.h"

namespace llmatc::cpu {

namespace {

// Multiply-adds a chunk of attention tasks should hold before it is worth handing to another thread.
constexpr double kMinAttentionChunkWork = 32768.0;

[[noreturn]] void fail(const char* kernel, const std::string& what) {
    throw Error(LLMATC_ERR_INVALID_ARGUMENT, std::string(kernel) + ": " + what);
}

void validate_cache(const char* kernel, const llmatc_kv_cache* cache, int32_t layer) {
    if (!cache) fail(kernel, "cache is NULL");
    if (cache->struct_size < sizeof(llmatc_kv_cache))
        fail(kernel, "cache struct_size " + std::to_string(cache->struct_size) + " is too small");
    if (cache->dtype != LLMATC_DTYPE_F32 && cache->dtype != LLMATC_DTYPE_F16)
        throw Error(LLMATC_ERR_UNSUPPORTED, std::string(kernel) + ": KV cache dtype must be F32 or F16");
    if (layer < 0 || layer >= cache->n_layers)
        fail(kernel, "layer " + std::to_string(layer) + " is outside [0, " + std::to_string(cache->n_layers) + ")");
    if (cache->n_kv_heads <= 0 || cache->head_dim <= 0 || cache->head_dim > kMaxHeadDim || cache->block_size <= 0 ||
        cache->n_blocks <= 0)
        fail(kernel, "cache geometry is invalid (n_kv_heads, head_dim, block_size, n_blocks must be positive; "
                     "head_dim at most " + std::to_string(kMaxHeadDim) + ")");
    if (!cache->k || !cache->v || !cache->k[layer] || !cache->v[layer])
        fail(kernel, "cache buffers of layer " + std::to_string(layer) + " are NULL");
}

void validate_batch(const char* kernel, const llmatc_kv_cache* cache, const llmatc_batch* batch) {
    if (!batch) fail(kernel, "batch is NULL");
    // ABI 1.0's batch ends before device_logits (since 1.1), which these kernels do not read.
    if (batch->struct_size < offsetof(llmatc_batch, device_logits))
        fail(kernel, "batch struct_size " + std::to_string(batch->struct_size) + " is too small");
    if (batch->n_tokens < 0 || batch->n_seqs < 0) fail(kernel, "negative n_tokens or n_seqs");
    if (batch->n_seqs > 0 && !batch->seqs) fail(kernel, "batch seqs is NULL");
    for (int32_t s = 0; s < batch->n_seqs; ++s) {
        const llmatc_batch_seq& seq = batch->seqs[s];
        const std::string which = "sequence " + std::to_string(s);
        if (seq.n_new < 1 || seq.n_past < 0) fail(kernel, which + " has n_new < 1 or n_past < 0");
        if (seq.first_row < 0 || int64_t(seq.first_row) + seq.n_new > batch->n_tokens)
            fail(kernel, which + " rows [" + std::to_string(seq.first_row) + ", +" + std::to_string(seq.n_new) +
                             ") fall outside the batch's " + std::to_string(batch->n_tokens) + " rows");
        const int64_t needed = int64_t(seq.n_past) + seq.n_new;
        if (!seq.block_table || int64_t(seq.n_blocks) * cache->block_size < needed)
            fail(kernel, which + " has " + std::to_string(seq.n_blocks) + " blocks of " +
                             std::to_string(cache->block_size) + " tokens, needs " + std::to_string(needed) +
                             " tokens");
        const int64_t used_blocks = (needed + cache->block_size - 1) / cache->block_size;
        for (int64_t b = 0; b < used_blocks; ++b)
            if (seq.block_table[b] < 0 || seq.block_table[b] >= cache->n_blocks)
                fail(kernel, which + " block table entry " + std::to_string(b) + " = " +
                                 std::to_string(seq.block_table[b]) + " is outside [0, " +
                                 std::to_string(cache->n_blocks) + ")");
    }
}

inline int64_t slot_of(const llmatc_batch_seq& seq, int32_t block_size, int64_t position) {
    return int64_t(seq.block_table[position / block_size]) * block_size + position % block_size;
}

}  // namespace

void op_kv_write(CpuContext& ctx, const llmatc_kv_cache* cache, int32_t layer, const llmatc_batch* batch,
                 const float* k, const float* v) {
    validate_cache("kv_write", cache, layer);
    validate_batch("kv_write", cache, batch);
    if (batch->n_tokens == 0) return;
    if (!k || !v) fail("kv_write", "k or v is NULL");
    const int64_t row = int64_t(cache->n_kv_heads) * cache->head_dim;
    const bool f16 = cache->dtype == LLMATC_DTYPE_F16;
    void* k_cache = cache->k[layer];
    void* v_cache = cache->v[layer];
    ctx.pool.parallel_for(batch->n_seqs, 1, [&](int64_t begin, int64_t end, int) {
        for (int64_t s = begin; s < end; ++s) {
            const llmatc_batch_seq& seq = batch->seqs[s];
            for (int32_t i = 0; i < seq.n_new; ++i) {
                const int64_t slot = slot_of(seq, cache->block_size, int64_t(seq.n_past) + i);
                const float* k_src = k + (int64_t(seq.first_row) + i) * row;
                const float* v_src = v + (int64_t(seq.first_row) + i) * row;
                if (f16) {
                    uint16_t* k_dst = static_cast<uint16_t*>(k_cache) + slot * row;
                    uint16_t* v_dst = static_cast<uint16_t*>(v_cache) + slot * row;
                    for (int64_t c = 0; c < row; ++c) {
                        k_dst[c] = f32_to_fp16(k_src[c]);
                        v_dst[c] = f32_to_fp16(v_src[c]);
                    }
                } else {
                    float* k_dst = static_cast<float*>(k_cache) + slot * row;
                    float* v_dst = static_cast<float*>(v_cache) + slot * row;
                    for (int64_t c = 0; c < row; ++c) {
                        k_dst[c] = k_src[c];
                        v_dst[c] = v_src[c];
                    }
                }
            }
        }
    });
}

void op_attention(CpuContext& ctx, const llmatc_kv_cache* cache, int32_t layer, const llmatc_batch* batch,
                  const float* q, int32_t n_heads, float scale, float* out) {
    validate_cache("attention", cache, layer);
    validate_batch("attention", cache, batch);
    if (n_heads <= 0 || n_heads % cache->n_kv_heads != 0)
        fail("attention", "n_heads " + std::to_string(n_heads) + " is not a positive multiple of n_kv_heads " +
                              std::to_string(cache->n_kv_heads));
    if (batch->n_tokens == 0) return;
    if (!q || !out) fail("attention", "q or out is NULL");

    const int32_t n_kv_heads = cache->n_kv_heads;
    const int32_t head_dim = cache->head_dim;
    const int32_t group = n_heads / n_kv_heads;
    const int64_t kv_row = int64_t(n_kv_heads) * head_dim;
    const int64_t q_row = int64_t(n_heads) * head_dim;

    // Which sequence each batch row belongs to; rows no sequence claims get no attention (and are an error).
    auto* row_seq = static_cast<int32_t*>(ctx.row_to_seq.reserve(size_t(batch->n_tokens) * sizeof(int32_t)));
    for (int32_t r = 0; r < batch->n_tokens; ++r) row_seq[r] = -1;
    for (int32_t s = 0; s < batch->n_seqs; ++s)
        for (int32_t i = 0; i < batch->seqs[s].n_new; ++i) row_seq[batch->seqs[s].first_row + i] = s;
    for (int32_t r = 0; r < batch->n_tokens; ++r)
        if (row_seq[r] < 0) fail("attention", "batch row " + std::to_string(r) + " belongs to no sequence");

    // Per thread: group * head_dim accumulators, group running maxima and group running sums.
    const size_t per_thread = size_t(group) * size_t(head_dim + 2);
    auto* scratch = static_cast<float*>(ctx.thread_scratch.reserve(per_thread * sizeof(float) * ctx.pool.size()));

    const IsaKernels& kern = *ctx.kernels;
    const bool f16 = cache->dtype == LLMATC_DTYPE_F16;
    const void* k_cache = cache->k[layer];
    const void* v_cache = cache->v[layer];

    // One task per (row, kv head): the group's query heads share every key/value read.
    const int64_t n_tasks = int64_t(batch->n_tokens) * n_kv_heads;
    // Tiny tasks (short contexts, small heads) are grouped so that a chunk is worth handing to another thread.
    int64_t longest_context = 1;
    for (int32_t s = 0; s < batch->n_seqs; ++s)
        longest_context = std::max<int64_t>(longest_context, int64_t(batch->seqs[s].n_past) + batch->seqs[s].n_new);
    const double work_per_task = 2.0 * double(group) * double(head_dim) * double(longest_context);
    const int64_t chunk = ctx.pool.chunk_for_work(n_tasks, 1, work_per_task, kMinAttentionChunkWork, 4);
    ctx.pool.parallel_for(n_tasks, chunk, [&](int64_t begin, int64_t end, int thread) {
        float* acc = scratch + per_thread * size_t(thread);
        float* running_max = acc + size_t(group) * head_dim;
        float* running_sum = running_max + group;
        for (int64_t task = begin; task < end; ++task) {
            const int64_t r = task / n_kv_heads;
            const int32_t kv_head = int32_t(task % n_kv_heads);
            const llmatc_batch_seq& seq = batch->seqs[row_seq[r]];
            const int64_t position = int64_t(seq.n_past) + (r - seq.first_row);
            for (int32_t g = 0; g < group; ++g) {
                running_max[g] = -std::numeric_limits<float>::infinity();
                running_sum[g] = 0.0f;
            }
            for (size_t c = 0; c < size_t(group) * head_dim; ++c) acc[c] = 0.0f;
            for (int64_t p = 0; p <= position; ++p) {
                const int64_t offset = slot_of(seq, cache->block_size, p) * kv_row + int64_t(kv_head) * head_dim;
                for (int32_t g = 0; g < group; ++g) {
                    const float* qh = q + r * q_row + int64_t(kv_head * group + g) * head_dim;
                    const float score =
                        scale * (f16 ? kern.dot_f16(qh, static_cast<const uint16_t*>(k_cache) + offset, head_dim)
                                     : kern.dot_f32(qh, static_cast<const float*>(k_cache) + offset, head_dim));
                    // Online softmax: rescale what was accumulated when the maximum grows.
                    float rescale = 1.0f, weight;
                    if (score > running_max[g]) {
                        rescale = std::exp(running_max[g] - score);
                        running_max[g] = score;
                        weight = 1.0f;
                    } else {
                        weight = std::exp(score - running_max[g]);
                    }
                    running_sum[g] = running_sum[g] * rescale + weight;
                    float* acc_g = acc + size_t(g) * head_dim;
                    if (f16) {
                        kern.scale_add_f16(acc_g, rescale, weight, static_cast<const uint16_t*>(v_cache) + offset,
                                           head_dim);
                    } else {
                        kern.scale_add_f32(acc_g, rescale, weight, static_cast<const float*>(v_cache) + offset,
                                           head_dim);
                    }
                }
            }
            for (int32_t g = 0; g < group; ++g) {
                float* dst = out + r * q_row + int64_t(kv_head * group + g) * head_dim;
                const float inv_sum = 1.0f / running_sum[g];
                for (int32_t c = 0; c < head_dim; ++c) dst[c] = acc[size_t(g) * head_dim + c] * inv_sum;
            }
        }
    });
}

}  // namespace llmatc::cpu
