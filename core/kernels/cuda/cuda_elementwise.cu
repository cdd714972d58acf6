// core/kernels/cuda/cuda_elementwise.cu — the CUDA backend's row and element kernels: dtype conversion, embedding
// gather, RMSNorm, RoPE (rotate_half), SiLU x up, residual add, softmax.
#include <algorithm>

#include "cuda/cuda_dtype.cuh"
#include "cuda/cuda_error.h"
#include "cuda/cuda_kernels.h"

namespace llmatc::cuda {

namespace {

constexpr int kThreads = 256;

unsigned grid_for(int64_t n) {
    const int64_t blocks = (n + kThreads - 1) / kThreads;
    return unsigned(std::min<int64_t>(std::max<int64_t>(blocks, 1), 65535LL * 16));
}

template <typename S, typename D>
__global__ void convert_kernel(const S* src, D* dst, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
        dst[i] = from_f32<D>(to_f32(src[i]));
}

template <typename S>
void convert_from(cudaStream_t stream, const S* src, void* dst, llmatc_dtype dst_dtype, int64_t n) {
    switch (dst_dtype) {
        case LLMATC_DTYPE_F32: convert_kernel<<<grid_for(n), kThreads, 0, stream>>>(src, static_cast<float*>(dst), n); break;
        case LLMATC_DTYPE_F16: convert_kernel<<<grid_for(n), kThreads, 0, stream>>>(src, static_cast<__half*>(dst), n); break;
        case LLMATC_DTYPE_BF16:
            convert_kernel<<<grid_for(n), kThreads, 0, stream>>>(src, static_cast<__nv_bfloat16*>(dst), n);
            break;
        default: fail(LLMATC_ERR_UNSUPPORTED, "convert: unsupported destination dtype");
    }
    check_launch("convert");
}

template <typename T>
__global__ void embedding_kernel(const T* table, int64_t cols, const int32_t* ids, float* out) {
    const T* src = table + int64_t(ids[blockIdx.x]) * cols;
    float* dst = out + int64_t(blockIdx.x) * cols;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) dst[c] = to_f32(src[c]);
}

// One block per row. The sum of squares is reduced in F32 like the CPU reference; the order differs, which moves
// results by a few ulp only.
__global__ void rmsnorm_kernel(const float* x, const float* weight, int64_t dim, float eps, float* out) {
    __shared__ float shared[32];
    const float* xi = x + int64_t(blockIdx.x) * dim;
    float* oi = out + int64_t(blockIdx.x) * dim;
    float sum = 0.0f;
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) sum += xi[c] * xi[c];
    sum = block_sum(sum, shared);
    const float inv_rms = 1.0f / sqrtf(sum / float(dim) + eps);
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) oi[c] = weight[c] * (xi[c] * inv_rms);
}

// Grid (rows, heads); thread i rotates the pair (i, i + half) of one head.
__global__ void rope_kernel(float* x, const int32_t* positions, const float* inv_freq, int32_t n_heads,
                            int32_t head_dim) {
    const int32_t half = head_dim / 2;
    const float pos = float(positions[blockIdx.x]);
    float* v = x + (int64_t(blockIdx.x) * n_heads + blockIdx.y) * head_dim;
    for (int32_t i = threadIdx.x; i < half; i += blockDim.x) {
        const float angle = pos * inv_freq[i];
        float s, c;
        sincosf(angle, &s, &c);
        const float a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
    }
}

__global__ void silu_mul_kernel(const float* gate, const float* up, int64_t n, float* out) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

__global__ void add_kernel(float* x, const float* y, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
        x[i] += y[i];
}

__global__ void softmax_kernel(float* x, int64_t dim) {
    __shared__ float shared[32];
    float* row = x + int64_t(blockIdx.x) * dim;
    float max_value = -INFINITY;
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) max_value = fmaxf(max_value, row[c]);
    max_value = block_max(max_value, shared);
    float sum = 0.0f;
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
        const float e = expf(row[c] - max_value);
        row[c] = e;
        sum += e;
    }
    sum = block_sum(sum, shared);
    const float inv_sum = 1.0f / sum;
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) row[c] *= inv_sum;
}

// Grids of more than 2^31-1 rows do not occur (the batch's rows are int32), but blockIdx.x is limited to 2^31-1.
void check_rows(int64_t n, const char* kernel) {
    if (n > 0x7fffffffLL) fail(LLMATC_ERR_INVALID_ARGUMENT, std::string(kernel) + ": too many rows");
}

}  // namespace

void launch_convert(cudaStream_t stream, const void* src, llmatc_dtype src_dtype, void* dst, llmatc_dtype dst_dtype,
                    int64_t n) {
    if (n == 0) return;
    switch (src_dtype) {
        case LLMATC_DTYPE_F32: convert_from(stream, static_cast<const float*>(src), dst, dst_dtype, n); break;
        case LLMATC_DTYPE_F16: convert_from(stream, static_cast<const __half*>(src), dst, dst_dtype, n); break;
        case LLMATC_DTYPE_BF16: convert_from(stream, static_cast<const __nv_bfloat16*>(src), dst, dst_dtype, n); break;
        default: fail(LLMATC_ERR_UNSUPPORTED, "convert: unsupported source dtype");
    }
}

void launch_embedding(cudaStream_t stream, const void* table, llmatc_dtype dtype, int64_t cols, const int32_t* ids,
                      int64_t n, float* out) {
    if (n == 0) return;
    check_rows(n, "embedding");
    const unsigned threads = unsigned(std::min<int64_t>(std::max<int64_t>(cols, 32), kThreads));
    switch (dtype) {
        case LLMATC_DTYPE_F32:
            embedding_kernel<<<unsigned(n), threads, 0, stream>>>(static_cast<const float*>(table), cols, ids, out);
            break;
        case LLMATC_DTYPE_F16:
            embedding_kernel<<<unsigned(n), threads, 0, stream>>>(static_cast<const __half*>(table), cols, ids, out);
            break;
        case LLMATC_DTYPE_BF16:
            embedding_kernel<<<unsigned(n), threads, 0, stream>>>(static_cast<const __nv_bfloat16*>(table), cols, ids,
                                                                  out);
            break;
        default: fail(LLMATC_ERR_UNSUPPORTED, "embedding: unsupported table dtype");
    }
    check_launch("embedding");
}

void launch_rmsnorm(cudaStream_t stream, const float* x, const float* weight, int64_t n, int64_t dim, float eps,
                    float* out) {
    if (n == 0) return;
    check_rows(n, "rmsnorm");
    rmsnorm_kernel<<<unsigned(n), kThreads * 2, 0, stream>>>(x, weight, dim, eps, out);
    check_launch("rmsnorm");
}

void launch_rope(cudaStream_t stream, float* x, const int32_t* positions, const float* inv_freq, int64_t n,
                 int32_t n_heads, int32_t head_dim) {
    if (n == 0) return;
    check_rows(n, "rope");
    if (n_heads > 65535) fail(LLMATC_ERR_INVALID_ARGUMENT, "rope: more than 65535 heads");
    const unsigned threads = unsigned(std::min(std::max(head_dim / 2, 32), kThreads));
    rope_kernel<<<dim3(unsigned(n), unsigned(n_heads)), threads, 0, stream>>>(x, positions, inv_freq, n_heads,
                                                                              head_dim);
    check_launch("rope");
}

void launch_silu_mul(cudaStream_t stream, const float* gate, const float* up, int64_t n, float* out) {
    if (n == 0) return;
    silu_mul_kernel<<<grid_for(n), kThreads, 0, stream>>>(gate, up, n, out);
    check_launch("silu_mul");
}

void launch_add(cudaStream_t stream, float* x, const float* y, int64_t n) {
    if (n == 0) return;
    add_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, y, n);
    check_launch("add");
}

void launch_softmax(cudaStream_t stream, float* x, int64_t n, int64_t dim) {
    if (n == 0) return;
    check_rows(n, "softmax");
    softmax_kernel<<<unsigned(n), kThreads * 2, 0, stream>>>(x, dim);
    check_launch("softmax");
}

}  // namespace llmatc::cuda
