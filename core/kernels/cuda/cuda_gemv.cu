// core/kernels/cuda/cuda_gemv.cu — the matrix-vector product for decode-sized batches: y[n, rows] = x[n, cols] * W^T
// with n <= kMaxGemvRows, one warp per output row, W read once with 16-byte loads and F32 accumulation. Decode is
// bound by reading W, so this kernel is what the bandwidth bound is measured against.
#include <algorithm>

#include "cuda/cuda_dtype.cuh"
#include "cuda/cuda_error.h"
#include "cuda/cuda_kernels.h"

namespace llmatc::cuda {

namespace {

constexpr int kWarpsPerBlock = 8;

__device__ __forceinline__ void load8(const float* p, float out[8]) {
    const float4 a = reinterpret_cast<const float4*>(p)[0];
    const float4 b = reinterpret_cast<const float4*>(p)[1];
    out[0] = a.x; out[1] = a.y; out[2] = a.z; out[3] = a.w;
    out[4] = b.x; out[5] = b.y; out[6] = b.z; out[7] = b.w;
}
__device__ __forceinline__ void load8(const __half* p, float out[8]) {
    const uint4 raw = *reinterpret_cast<const uint4*>(p);
    const __half2* h = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const float2 f = __half22float2(h[i]);
        out[2 * i] = f.x;
        out[2 * i + 1] = f.y;
    }
}
__device__ __forceinline__ void load8(const __nv_bfloat16* p, float out[8]) {
    const uint4 raw = *reinterpret_cast<const uint4*>(p);
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const float2 f = __bfloat1622float2(h[i]);
        out[2 * i] = f.x;
        out[2 * i + 1] = f.y;
    }
}

// R: compile-time bound on the rows of x (n <= R); the loops over r unroll and keep acc in registers.
template <typename W, int R, bool kVector>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
gemv_kernel(const W* __restrict__ w, int64_t rows, int64_t cols, const float* __restrict__ x, int n,
            float* __restrict__ y) {
    const int lane = threadIdx.x & 31;
    const int64_t row = int64_t(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
    if (row >= rows) return;
    const W* wr = w + row * cols;
    float acc[R];
#pragma unroll
    for (int r = 0; r < R; ++r) acc[r] = 0.0f;
    if (kVector) {
        for (int64_t c = int64_t(lane) * 8; c < cols; c += 32 * 8) {
            float wv[8], xv[8];
            load8(wr + c, wv);
#pragma unroll
            for (int r = 0; r < R; ++r) {
                if (r < n) {
                    load8(x + int64_t(r) * cols + c, xv);
#pragma unroll
                    for (int i = 0; i < 8; ++i) acc[r] = fmaf(wv[i], xv[i], acc[r]);
                }
            }
        }
    } else {
        for (int64_t c = lane; c < cols; c += 32) {
            const float wv = to_f32(wr[c]);
#pragma unroll
            for (int r = 0; r < R; ++r)
                if (r < n) acc[r] = fmaf(wv, x[int64_t(r) * cols + c], acc[r]);
        }
    }
#pragma unroll
    for (int r = 0; r < R; ++r) {
        if (r < n) {
            const float sum = warp_sum(acc[r]);
            if (lane == 0) y[int64_t(r) * rows + row] = sum;
        }
    }
}

template <typename W, int R>
void launch_rows(cudaStream_t stream, const W* w, int64_t rows, int64_t cols, const float* x, int n, float* y) {
    const unsigned blocks = unsigned((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
    // 16-byte loads need every row of W and x to start 16-byte aligned: aligned bases (cudaMalloc'd ones are) and
    // cols a multiple of 8 give that for 2-byte weights and for the F32 activations.
    const bool aligned = (reinterpret_cast<uintptr_t>(w) % 16 == 0) && (reinterpret_cast<uintptr_t>(x) % 16 == 0);
    if (aligned && cols % 8 == 0)
        gemv_kernel<W, R, true><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(w, rows, cols, x, n, y);
    else
        gemv_kernel<W, R, false><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(w, rows, cols, x, n, y);
}

template <typename W>
void launch_typed(cudaStream_t stream, const W* w, int64_t rows, int64_t cols, const float* x, int n, float* y) {
    if (n <= 1) launch_rows<W, 1>(stream, w, rows, cols, x, n, y);
    else if (n <= 2) launch_rows<W, 2>(stream, w, rows, cols, x, n, y);
    else if (n <= 4) launch_rows<W, 4>(stream, w, rows, cols, x, n, y);
    else launch_rows<W, 8>(stream, w, rows, cols, x, n, y);
}

}  // namespace

void launch_gemv(cudaStream_t stream, const void* w, llmatc_dtype dtype, int64_t rows, int64_t cols, const float* x,
                 int64_t n, float* y) {
    if (n == 0 || rows == 0) return;
    if (n > kMaxGemvRows) fail(LLMATC_ERR_INTERNAL, "gemv called with more rows than it handles");
    if ((rows + kWarpsPerBlock - 1) / kWarpsPerBlock > 0x7fffffffLL)
        fail(LLMATC_ERR_INVALID_ARGUMENT, "matmul: too many output rows");
    switch (dtype) {
        case LLMATC_DTYPE_F32: launch_typed(stream, static_cast<const float*>(w), rows, cols, x, int(n), y); break;
        case LLMATC_DTYPE_F16: launch_typed(stream, static_cast<const __half*>(w), rows, cols, x, int(n), y); break;
        case LLMATC_DTYPE_BF16:
            launch_typed(stream, static_cast<const __nv_bfloat16*>(w), rows, cols, x, int(n), y);
            break;
        default: fail(LLMATC_ERR_UNSUPPORTED, "matmul: unsupported weight dtype");
    }
    check_launch("gemv");
}

}  // namespace llmatc::cuda
