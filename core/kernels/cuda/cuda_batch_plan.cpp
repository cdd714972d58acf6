// core/kernels/cuda/cuda_batch_plan.cpp — validating a batch on the host and flattening it for the attention and
// kv_write kernels (see cuda_batch_plan.h).
#include "cuda/cuda_batch_plan.h"

#include <algorithm>
#include <cstddef>
#include <string>

#include "cuda/cuda_error.h"

namespace llmatc::cuda {

namespace {

[[noreturn]] void bad(const char* kernel, const std::string& what) {
    fail(LLMATC_ERR_INVALID_ARGUMENT, std::string(kernel) + ": " + what);
}

}  // namespace

void validate_cache(const char* kernel, const llmatc_kv_cache* cache, int32_t layer) {
    if (!cache) bad(kernel, "cache is NULL");
    if (cache->struct_size < sizeof(llmatc_kv_cache))
        bad(kernel, "cache struct_size " + std::to_string(cache->struct_size) + " is too small");
    if (cache->dtype != LLMATC_DTYPE_F32 && cache->dtype != LLMATC_DTYPE_F16)
        fail(LLMATC_ERR_UNSUPPORTED, std::string(kernel) + ": KV cache dtype must be F32 or F16");
    if (layer < 0 || layer >= cache->n_layers)
        bad(kernel, "layer " + std::to_string(layer) + " is outside [0, " + std::to_string(cache->n_layers) + ")");
    if (cache->n_kv_heads <= 0 || cache->head_dim <= 0 || cache->block_size <= 0 || cache->n_blocks <= 0)
        bad(kernel, "cache geometry is invalid (n_kv_heads, head_dim, block_size, n_blocks must be positive)");
    if (cache->head_dim > kMaxAttentionHeadDim)
        fail(LLMATC_ERR_UNSUPPORTED, std::string(kernel) + ": head_dim " + std::to_string(cache->head_dim) +
                                         " is above the " + std::to_string(kMaxAttentionHeadDim) +
                                         " the CUDA kernels handle");
    if (!cache->k || !cache->v || !cache->k[layer] || !cache->v[layer])
        bad(kernel, "cache buffers of layer " + std::to_string(layer) + " are NULL");
}

HostBatchPlan build_batch_plan(const char* kernel, const llmatc_kv_cache& cache, const llmatc_batch* batch) {
    if (!batch) bad(kernel, "batch is NULL");
    // ABI 1.0's batch ends before device_logits (since 1.1), which these kernels do not read.
    if (batch->struct_size < offsetof(llmatc_batch, device_logits))
        bad(kernel, "batch struct_size " + std::to_string(batch->struct_size) + " is too small");
    if (batch->n_tokens < 0 || batch->n_seqs < 0) bad(kernel, "negative n_tokens or n_seqs");
    if (batch->n_seqs > 0 && !batch->seqs) bad(kernel, "batch seqs is NULL");

    HostBatchPlan plan;
    DeviceBatchPlan& L = plan.layout;
    std::vector<int32_t>& d = plan.data;
    L.n_tokens = batch->n_tokens;
    L.n_seqs = batch->n_seqs;
    L.row_seq = 0;
    d.assign(size_t(batch->n_tokens), -1);
    L.seq_n_past = int32_t(d.size());
    L.seq_first_row = L.seq_n_past + batch->n_seqs;
    L.seq_table = L.seq_first_row + batch->n_seqs;
    d.resize(size_t(L.seq_table) + size_t(batch->n_seqs));

    for (int32_t s = 0; s < batch->n_seqs; ++s) {
        const llmatc_batch_seq& seq = batch->seqs[s];
        const std::string which = "sequence " + std::to_string(s);
        if (seq.n_new < 1 || seq.n_past < 0) bad(kernel, which + " has n_new < 1 or n_past < 0");
        if (seq.first_row < 0 || int64_t(seq.first_row) + seq.n_new > batch->n_tokens)
            bad(kernel, which + " rows [" + std::to_string(seq.first_row) + ", +" + std::to_string(seq.n_new) +
                            ") fall outside the batch's " + std::to_string(batch->n_tokens) + " rows");
        const int64_t needed = int64_t(seq.n_past) + seq.n_new;
        if (!seq.block_table || int64_t(seq.n_blocks) * cache.block_size < needed)
            bad(kernel, which + " has " + std::to_string(seq.n_blocks) + " blocks of " +
                            std::to_string(cache.block_size) + " tokens, needs " + std::to_string(needed) + " tokens");
        if (needed > 0x7fffffffLL) bad(kernel, which + " is longer than 2^31 tokens");
        const int64_t used_blocks = (needed + cache.block_size - 1) / cache.block_size;
        for (int64_t b = 0; b < used_blocks; ++b)
            if (seq.block_table[b] < 0 || seq.block_table[b] >= cache.n_blocks)
                bad(kernel, which + " block table entry " + std::to_string(b) + " = " +
                                std::to_string(seq.block_table[b]) + " is outside [0, " +
                                std::to_string(cache.n_blocks) + ")");
        for (int32_t i = 0; i < seq.n_new; ++i) {
            int32_t& owner = d[size_t(seq.first_row) + i];
            if (owner >= 0)
                bad(kernel, "batch row " + std::to_string(seq.first_row + i) + " belongs to sequences " +
                                std::to_string(owner) + " and " + std::to_string(s));
            owner = s;
        }
        d[size_t(L.seq_n_past) + s] = seq.n_past;
        d[size_t(L.seq_first_row) + s] = seq.first_row;
        d[size_t(L.seq_table) + s] = int32_t(d.size());
        d.insert(d.end(), seq.block_table, seq.block_table + used_blocks);
    }
    for (int32_t r = 0; r < batch->n_tokens; ++r)
        if (d[size_t(r)] < 0) bad(kernel, "batch row " + std::to_string(r) + " belongs to no sequence");

    L.decode_rows = int32_t(d.size());
    for (int32_t s = 0; s < batch->n_seqs; ++s) {
        const llmatc_batch_seq& seq = batch->seqs[s];
        if (seq.n_new >= kPrefillMinRows) continue;
        for (int32_t i = 0; i < seq.n_new; ++i) d.push_back(seq.first_row + i);
        L.max_decode_context = std::max(L.max_decode_context, seq.n_past + seq.n_new);
    }
    L.n_decode_rows = int32_t(d.size()) - L.decode_rows;
    L.prefill_tiles = int32_t(d.size());
    for (int32_t s = 0; s < batch->n_seqs; ++s) {
        const llmatc_batch_seq& seq = batch->seqs[s];
        if (seq.n_new < kPrefillMinRows) continue;
        for (int32_t i = 0; i < seq.n_new; i += kPrefillTileRows) {
            d.push_back(s);
            d.push_back(seq.first_row + i);
            d.push_back(std::min(kPrefillTileRows, seq.n_new - i));
        }
    }
    L.n_prefill_tiles = (int32_t(d.size()) - L.prefill_tiles) / 3;
    return plan;
}

}  // namespace llmatc::cuda
