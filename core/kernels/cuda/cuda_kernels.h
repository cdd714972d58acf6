// core/kernels/cuda/cuda_kernels.h — host-side launchers of the CUDA kernels (defined in the .cu files). Arguments
// are device pointers unless stated; shapes are checked by the caller (cuda_backend.cpp). Launchers queue work on
// `stream` and return without waiting; a bad launch throws CudaError.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "llmatc/kernels.h"

namespace llmatc::cuda {

// dst[i] = convert(src[i]) for i < n between F32, F16 and BF16.
void launch_convert(cudaStream_t stream, const void* src, llmatc_dtype src_dtype, void* dst, llmatc_dtype dst_dtype,
                    int64_t n);

// out[i, :] = table[ids[i], :] as F32. ids: device, already range-checked.
void launch_embedding(cudaStream_t stream, const void* table, llmatc_dtype dtype, int64_t cols, const int32_t* ids,
                      int64_t n, float* out);
void launch_rmsnorm(cudaStream_t stream, const float* x, const float* weight, int64_t n, int64_t dim, float eps,
                    float* out);
// inv_freq: device [head_dim / 2], already divided by the position scale; positions: device [n].
void launch_rope(cudaStream_t stream, float* x, const int32_t* positions, const float* inv_freq, int64_t n,
                 int32_t n_heads, int32_t head_dim);
void launch_silu_mul(cudaStream_t stream, const float* gate, const float* up, int64_t n, float* out);
void launch_add(cudaStream_t stream, float* x, const float* y, int64_t n);
void launch_softmax(cudaStream_t stream, float* x, int64_t n, int64_t dim);

// y[n, rows] = x[n, cols] * W^T for small n (<= kMaxGemvRows): one pass over W, read with 16-byte loads.
constexpr int64_t kMaxGemvRows = 8;
void launch_gemv(cudaStream_t stream, const void* w, llmatc_dtype dtype, int64_t rows, int64_t cols, const float* x,
                 int64_t n, float* y);

// The per-step description of a batch in device memory, built by BatchPlan (cuda_batch_plan.h). Offsets index
// one int32 array.
struct DeviceBatchPlan {
    const int32_t* data = nullptr;  // device
    int32_t n_tokens = 0;
    int32_t n_seqs = 0;
    int32_t row_seq = 0;       // [n_tokens] sequence of each row
    int32_t seq_n_past = 0;    // [n_seqs]
    int32_t seq_first_row = 0; // [n_seqs]
    int32_t seq_table = 0;     // [n_seqs] offset of the sequence's block table in data
    int32_t decode_rows = 0;   // [n_decode_rows] rows attended one by one (split along the keys)
    int32_t n_decode_rows = 0;
    int32_t prefill_tiles = 0; // [n_prefill_tiles * 3]: (sequence, first row, row count) of query tiles
    int32_t n_prefill_tiles = 0;
    int32_t max_decode_context = 0;  // longest key range of a decode row
};

struct KvLayer {
    void* k = nullptr;
    void* v = nullptr;
    llmatc_dtype dtype = LLMATC_DTYPE_F32;  // F32 or F16
    int32_t n_kv_heads = 0;
    int32_t head_dim = 0;
    int32_t block_size = 0;
};

void launch_kv_write(cudaStream_t stream, const KvLayer& kv, const DeviceBatchPlan& plan, const float* k,
                     const float* v);

constexpr int32_t kMaxAttentionHeadDim = 256;
constexpr int32_t kPrefillTileRows = 16;
constexpr int32_t kDecodeSplitKeys = 256;
// Floats of scratch the decode attention needs for its split partials.
size_t decode_attention_scratch_floats(const DeviceBatchPlan& plan, int32_t n_heads, int32_t head_dim);
void launch_attention(cudaStream_t stream, const KvLayer& kv, const DeviceBatchPlan& plan, const float* q,
                      int32_t n_heads, float scale, float* out, float* scratch);

}  // namespace llmatc::cuda
