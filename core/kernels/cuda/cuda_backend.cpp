// core/kernels/cuda/cuda_backend.cpp — the CUDA backend's llmatc_kernels functions: argument checks turned into
// statuses and messages, small host inputs staged to the device, kernels and cuBLAS queued on the backend's stream.
#include "cuda/cuda_backend.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "checkpoint/dtype.h"
#include "cuda/cuda_batch_plan.h"
#include "cuda/cuda_error.h"
#include "cuda/cuda_guarded.h"
#include "cuda/cuda_host.h"
#include "cuda/cuda_kernels.h"
#include "cuda/cuda_sample.h"

namespace llmatc::cuda {

namespace {

CudaBackend& backend(void* ctx) { return *static_cast<CudaBackend*>(ctx); }

// Runs `body` with the backend's device current, turning every exception into a status and the thread's message.
template <class Body>
llmatc_status guarded(void* ctx, const char* function, Body&& body) noexcept {
    return cuda::guarded(function, [&] {
        if (!ctx) fail(LLMATC_ERR_INVALID_ARGUMENT, std::string(function) + ": backend context is NULL");
        check_cuda(cudaSetDevice(backend(ctx).device), "cudaSetDevice");
        body(backend(ctx));
    });
}

// Fails with "kernel: what()" when `ok` is false. The message is built only then: the checks run on every kernel
// call of every token, which must not allocate.
template <class Message>
void require(bool ok, const char* kernel, Message&& what) {
    if (!ok) [[unlikely]]
        fail(LLMATC_ERR_INVALID_ARGUMENT, std::string(kernel) + ": " + std::string(what()));
}

void require_pointer(const void* p, const char* kernel, const char* name) {
    require(p != nullptr, kernel, [&] { return std::string(name) + " is NULL"; });
}

void* cuda_alloc(void* ctx, size_t bytes) {
    void* p = nullptr;
    const llmatc_status st = guarded(ctx, "alloc", [&](CudaBackend&) {
        if (cudaMalloc(&p, bytes == 0 ? 1 : bytes) != cudaSuccess) {
            cudaGetLastError();
            p = nullptr;
        }
    });
    return st == LLMATC_OK ? p : nullptr;
}

void cuda_free(void* ctx, void* ptr) {
    if (!ptr) return;
    guarded(ctx, "free", [&](CudaBackend&) { check_cuda(cudaFree(ptr), "cudaFree"); });
}

llmatc_status cuda_to_backend(void* ctx, void* dst, const void* src, size_t bytes) {
    return guarded(ctx, "to_backend", [&](CudaBackend& b) {
        if (bytes == 0) return;
        require(dst && src, "to_backend",
                [&] { return "NULL pointer for a copy of " + std::to_string(bytes) + " bytes"; });
        // From pageable memory the copy has taken the bytes when it returns, so `src` may be reused at once.
        check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, b.stream), "cudaMemcpyAsync (to_backend)");
    });
}

llmatc_status cuda_to_host(void* ctx, void* dst, const void* src, size_t bytes) {
    return guarded(ctx, "to_host", [&](CudaBackend& b) {
        if (bytes == 0) return;
        require(dst && src, "to_host",
                [&] { return "NULL pointer for a copy of " + std::to_string(bytes) + " bytes"; });
        check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, b.stream), "cudaMemcpyAsync (to_host)");
        check_cuda(cudaStreamSynchronize(b.stream), "to_host: a queued kernel failed");
    });
}

llmatc_status cuda_synchronize(void* ctx) {
    return guarded(ctx, "synchronize", [&](CudaBackend& b) {
        check_cuda(cudaStreamSynchronize(b.stream), "synchronize: a queued kernel failed");
    });
}

llmatc_status cuda_weight_create(void* ctx, const llmatc_tensor_view* src, llmatc_dtype storage, llmatc_weight** out) {
    return guarded(ctx, "weight_create", [&](CudaBackend& b) {
        require(src && out, "weight_create", [] { return "src or out is NULL"; });
        *out = upload_weight(b.stream, b.weight_uploader, *src, storage).release();
    });
}

void cuda_weight_destroy(void* ctx, llmatc_weight* w) {
    if (!w) return;
    guarded(ctx, "weight_destroy", [&](CudaBackend&) { delete w; });
}

uint64_t cuda_weight_bytes(void*, const llmatc_weight* w) { return w ? w->bytes : 0; }

cudaDataType_t cuda_type_of(llmatc_dtype dtype) {
    switch (dtype) {
        case LLMATC_DTYPE_F16: return CUDA_R_16F;
        case LLMATC_DTYPE_BF16: return CUDA_R_16BF;
        default: return CUDA_R_32F;
    }
}

llmatc_status cuda_matmul(void* ctx, const llmatc_weight* w, const float* x, int64_t n, float* y) {
    return guarded(ctx, "matmul", [&](CudaBackend& b) {
        require_pointer(w, "matmul", "weight");
        require(w->n_dims == 2, "matmul", [] { return "the weight is 1-D; matmul needs [out, in]"; });
        require(n >= 0, "matmul", [&] { return "negative row count " + std::to_string(n); });
        if (n == 0) return;
        require_pointer(x, "matmul", "x");
        require_pointer(y, "matmul", "y");
        if (n <= kMaxGemvRows) {
            launch_gemv(b.stream, w->data, w->dtype, w->rows, w->cols, x, n, y);
            return;
        }
        constexpr int64_t kIntMax = std::numeric_limits<int>::max();
        require(n <= kIntMax && w->rows <= kIntMax && w->cols <= kIntMax, "matmul",
                [] { return "a dimension exceeds 2^31-1"; });
        // Column-major view: y^T [rows, n] = W [rows, cols] (row-major [rows, cols] read transposed) * x^T [cols, n].
        const void* b_operand = x;
        if (w->dtype != LLMATC_DTYPE_F32) {
            // cuBLAS multiplies matching input types: x goes to the weight's 16-bit type, accumulation stays F32.
            void* converted = b.converted_x.reserve(size_t(n) * size_t(w->cols) * 2);
            launch_convert(b.stream, x, LLMATC_DTYPE_F32, converted, w->dtype, n * w->cols);
            b_operand = converted;
        }
        const float alpha = 1.0f, beta = 0.0f;
        check_cublas(cublasGemmEx(b.cublas, CUBLAS_OP_T, CUBLAS_OP_N, int(w->rows), int(n), int(w->cols), &alpha,
                                  w->data, cuda_type_of(w->dtype), int(w->cols), b_operand, cuda_type_of(w->dtype),
                                  int(w->cols), &beta, y, CUDA_R_32F, int(w->rows), CUBLAS_COMPUTE_32F,
                                  CUBLAS_GEMM_DEFAULT),
                     "cublasGemmEx");
    });
}

llmatc_status cuda_embedding(void* ctx, const llmatc_weight* table, const int32_t* ids, int64_t n, float* out) {
    return guarded(ctx, "embedding", [&](CudaBackend& b) {
        require_pointer(table, "embedding", "table");
        require(table->n_dims == 2, "embedding", [] { return "the table is 1-D; it must be [vocab, dim]"; });
        require(n >= 0, "embedding", [&] { return "negative token count " + std::to_string(n); });
        if (n == 0) return;
        require_pointer(ids, "embedding", "ids");
        require_pointer(out, "embedding", "out");
        for (int64_t i = 0; i < n; ++i)
            require(ids[i] >= 0 && ids[i] < table->rows, "embedding", [&] {
                return "token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) + " is outside [0, " +
                       std::to_string(table->rows) + ")";
            });
        const auto* device_ids = static_cast<const int32_t*>(b.token_ids.upload(b.stream, ids, size_t(n) * 4));
        launch_embedding(b.stream, table->data, table->dtype, table->cols, device_ids, n, out);
    });
}

llmatc_status cuda_rmsnorm(void* ctx, const float* x, const llmatc_weight* w, int64_t n, int64_t dim, float eps,
                           float* out) {
    return guarded(ctx, "rmsnorm", [&](CudaBackend& b) {
        require_pointer(w, "rmsnorm", "weight");
        require(w->dtype == LLMATC_DTYPE_F32 && w->rows * w->cols == dim, "rmsnorm", [&] {
            return "the weight must be F32 with dim elements; it has " + std::to_string(w->rows * w->cols) +
                   " elements of " + dtype_name(w->dtype) + ", dim is " + std::to_string(dim);
        });
        require(n >= 0 && dim > 0, "rmsnorm",
                [&] { return "bad shape n=" + std::to_string(n) + " dim=" + std::to_string(dim); });
        if (n == 0) return;
        require_pointer(x, "rmsnorm", "x");
        require_pointer(out, "rmsnorm", "out");
        launch_rmsnorm(b.stream, x, static_cast<const float*>(w->data), n, dim, eps, out);
    });
}

llmatc_status cuda_rope(void* ctx, float* x, const int32_t* positions, int64_t n, int32_t n_heads, int32_t head_dim,
                        float theta, float pos_scale) {
    return guarded(ctx, "rope", [&](CudaBackend& b) {
        require(n >= 0 && n_heads > 0, "rope",
                [&] { return "bad shape n=" + std::to_string(n) + " n_heads=" + std::to_string(n_heads); });
        require(head_dim > 0 && head_dim % 2 == 0 && head_dim <= 2 * 1024, "rope",
                [&] { return "head_dim " + std::to_string(head_dim) + " must be even and at most 2048"; });
        require(theta > 0.0f && pos_scale > 0.0f, "rope", [] { return "theta and pos_scale must be positive"; });
        if (n == 0) return;
        require_pointer(x, "rope", "x");
        require_pointer(positions, "rope", "positions");
        // The frequencies exactly as the CPU reference (and Hugging Face) compute them, in F32 on the host.
        const int32_t half = head_dim / 2;
        std::vector<float> inv_freq(static_cast<size_t>(half));
        for (int32_t i = 0; i < half; ++i)
            inv_freq[size_t(i)] = (1.0f / std::pow(theta, float(2 * i) / float(head_dim))) / pos_scale;
        const auto* device_freq =
            static_cast<const float*>(b.rope_inv_freq.upload(b.stream, inv_freq.data(), inv_freq.size() * 4));
        const auto* device_pos =
            static_cast<const int32_t*>(b.rope_positions.upload(b.stream, positions, size_t(n) * 4));
        launch_rope(b.stream, x, device_pos, device_freq, n, n_heads, head_dim);
    });
}

llmatc_status cuda_silu_mul(void* ctx, const float* gate, const float* up, int64_t n, float* out) {
    return guarded(ctx, "silu_mul", [&](CudaBackend& b) {
        require(n >= 0, "silu_mul", [&] { return "negative length " + std::to_string(n); });
        if (n == 0) return;
        require_pointer(gate, "silu_mul", "gate");
        require_pointer(up, "silu_mul", "up");
        require_pointer(out, "silu_mul", "out");
        launch_silu_mul(b.stream, gate, up, n, out);
    });
}

llmatc_status cuda_add(void* ctx, float* x, const float* y, int64_t n) {
    return guarded(ctx, "add", [&](CudaBackend& b) {
        require(n >= 0, "add", [&] { return "negative length " + std::to_string(n); });
        if (n == 0) return;
        require_pointer(x, "add", "x");
        require_pointer(y, "add", "y");
        launch_add(b.stream, x, y, n);
    });
}

llmatc_status cuda_softmax(void* ctx, float* x, int64_t n, int64_t dim) {
    return guarded(ctx, "softmax", [&](CudaBackend& b) {
        require(n >= 0 && dim > 0, "softmax",
                [&] { return "bad shape n=" + std::to_string(n) + " dim=" + std::to_string(dim); });
        if (n == 0) return;
        require_pointer(x, "softmax", "x");
        launch_softmax(b.stream, x, n, dim);
    });
}

// Validated copies of the caller's llmatc_sample_params (an array of params[0].struct_size strides).
std::vector<SampleRowParams> sample_rows(const llmatc_sample_params* params, int64_t n_rows) {
    const uint32_t stride = params[0].struct_size;
    require(stride >= sizeof(llmatc_sample_params), "sample", [&] {
        return "params struct_size " + std::to_string(stride) + " is smaller than llmatc_sample_params (" +
               std::to_string(sizeof(llmatc_sample_params)) + ")";
    });
    std::vector<SampleRowParams> rows(static_cast<size_t>(n_rows));
    for (int64_t r = 0; r < n_rows; ++r) {
        const auto& p = *reinterpret_cast<const llmatc_sample_params*>(reinterpret_cast<const char*>(params) +
                                                                        static_cast<size_t>(r) * stride);
        const std::string where = "params[" + std::to_string(r) + "].";
        require(p.temperature >= 0.0f && std::isfinite(p.temperature), "sample",
                [&] { return where + "temperature must be finite and >= 0, got " + std::to_string(p.temperature); });
        require(p.top_k >= 0, "sample", [&] { return where + "top_k must be >= 0, got " + std::to_string(p.top_k); });
        require(p.top_p > 0.0f && p.top_p <= 1.0f, "sample",
                [&] { return where + "top_p must be in (0, 1], got " + std::to_string(p.top_p); });
        require(p.min_p >= 0.0f && p.min_p <= 1.0f, "sample",
                [&] { return where + "min_p must be in [0, 1], got " + std::to_string(p.min_p); });
        require(p.u >= 0.0 && p.u < 1.0, "sample",
                [&] { return where + "u must be in [0, 1), got " + std::to_string(p.u); });
        rows[size_t(r)] = SampleRowParams{p.temperature, p.top_k, p.top_p, p.min_p, p.u};
    }
    return rows;
}

llmatc_status cuda_sample(void* ctx, const float* logits, int64_t n_rows, int32_t vocab,
                          const llmatc_sample_params* params, int32_t* out_tokens, float* out_logprobs) {
    return guarded(ctx, "sample", [&](CudaBackend& b) {
        require(n_rows >= 0, "sample", [&] { return "n_rows must be >= 0, got " + std::to_string(n_rows); });
        if (n_rows == 0) return;
        require(vocab > 0, "sample", [&] { return "vocab must be > 0, got " + std::to_string(vocab); });
        require(n_rows <= 65535 * 64, "sample", [&] { return "too many rows (" + std::to_string(n_rows) + ")"; });
        require_pointer(logits, "sample", "logits");
        require_pointer(params, "sample", "params");
        require_pointer(out_tokens, "sample", "out_tokens");
        const std::vector<SampleRowParams> rows = sample_rows(params, n_rows);
        bool any_sampled = false;
        for (const auto& r : rows) any_sampled = any_sampled || r.temperature > 0.0f;
        const auto* device_params = static_cast<const SampleRowParams*>(
            b.sample_params.upload(b.stream, rows.data(), rows.size() * sizeof(SampleRowParams)));
        const size_t scratch_bytes = sample_scratch_bytes(n_rows, vocab, any_sampled);
        void* scratch = scratch_bytes ? b.sample_scratch.reserve(scratch_bytes) : nullptr;
        auto* device_tokens = static_cast<int32_t*>(b.sample_outputs.reserve(size_t(n_rows) * 8));
        auto* device_logprobs = reinterpret_cast<float*>(device_tokens + n_rows);
        launch_sample(b.stream, logits, n_rows, vocab, device_params, any_sampled, scratch, scratch_bytes,
                      device_tokens, device_logprobs);
        check_cuda(cudaMemcpyAsync(out_tokens, device_tokens, size_t(n_rows) * sizeof(int32_t),
                                   cudaMemcpyDeviceToHost, b.stream),
                   "cudaMemcpyAsync (sampled tokens)");
        if (out_logprobs)
            check_cuda(cudaMemcpyAsync(out_logprobs, device_logprobs, size_t(n_rows) * sizeof(float),
                                       cudaMemcpyDeviceToHost, b.stream),
                       "cudaMemcpyAsync (sampled logprobs)");
        check_cuda(cudaStreamSynchronize(b.stream), "sample: a queued kernel failed");
    });
}

// The batch's plan on the device (uploaded once per distinct batch; the layers of one step share it).
DeviceBatchPlan stage_plan(CudaBackend& b, const char* kernel, const llmatc_kv_cache& cache, const llmatc_batch* batch) {
    HostBatchPlan plan = build_batch_plan(kernel, cache, batch);
    plan.layout.data = static_cast<const int32_t*>(
        b.batch_plan.upload(b.stream, plan.data.data(), plan.data.size() * sizeof(int32_t)));
    return plan.layout;
}

KvLayer kv_layer(const llmatc_kv_cache& cache, int32_t layer) {
    return {cache.k[layer], cache.v[layer], cache.dtype, cache.n_kv_heads, cache.head_dim, cache.block_size};
}

llmatc_status cuda_kv_write(void* ctx, const llmatc_kv_cache* cache, int32_t layer, const llmatc_batch* batch,
                            const float* k, const float* v) {
    return guarded(ctx, "kv_write", [&](CudaBackend& b) {
        validate_cache("kv_write", cache, layer);
        const DeviceBatchPlan plan = stage_plan(b, "kv_write", *cache, batch);
        if (plan.n_tokens == 0) return;
        require(k && v, "kv_write", [] { return "k or v is NULL"; });
        launch_kv_write(b.stream, kv_layer(*cache, layer), plan, k, v);
    });
}

llmatc_status cuda_attention(void* ctx, const llmatc_kv_cache* cache, int32_t layer, const llmatc_batch* batch,
                             const float* q, int32_t n_heads, float scale, float* out) {
    return guarded(ctx, "attention", [&](CudaBackend& b) {
        validate_cache("attention", cache, layer);
        const DeviceBatchPlan plan = stage_plan(b, "attention", *cache, batch);
        require(n_heads > 0 && n_heads % cache->n_kv_heads == 0, "attention", [&] {
            return "n_heads " + std::to_string(n_heads) + " is not a positive multiple of n_kv_heads " +
                   std::to_string(cache->n_kv_heads);
        });
        if (plan.n_tokens == 0) return;
        require(q && out, "attention", [] { return "q or out is NULL"; });
        const size_t scratch_floats = decode_attention_scratch_floats(plan, n_heads, cache->head_dim);
        auto* scratch = static_cast<float*>(b.attention_partials.reserve(std::max<size_t>(scratch_floats, 1) * 4));
        launch_attention(b.stream, kv_layer(*cache, layer), plan, q, n_heads, scale, out, scratch);
    });
}

}  // namespace

CudaBackend::CudaBackend(int device_index) : device(device_index) {
    int count = 0;
    const cudaError_t counted = cudaGetDeviceCount(&count);
    if (counted == cudaErrorNoDevice || counted == cudaErrorInsufficientDriver) {
        cudaGetLastError();
        count = 0;  // no driver or no device: reported as "does not exist" below
    } else {
        check_cuda(counted, "cudaGetDeviceCount");
    }
    if (device < 0 || device >= count)
        fail(LLMATC_ERR_NOT_FOUND, "device " + std::to_string(device) + " does not exist (" + std::to_string(count) +
                                       " CUDA devices)");
    check_cuda(cudaSetDevice(device), "cudaSetDevice");
    check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
    try {
        check_cublas(cublasCreate(&cublas), "cublasCreate");
        check_cublas(cublasSetStream(cublas, stream), "cublasSetStream");
        // F32 GEMMs stay in F32: TF32 tensor cores would miss the 1e-5 agreement with the CPU path.
        check_cublas(cublasSetMathMode(cublas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    } catch (...) {
        if (cublas) cublasDestroy(cublas);
        cudaStreamDestroy(stream);
        throw;
    }
    table_.struct_size = sizeof(llmatc_kernels);
    table_.abi_version = LLMATC_ABI_VERSION;
    table_.name = "cuda";
    table_.ctx = this;
    table_.alloc = cuda_alloc;
    table_.free = cuda_free;
    table_.to_backend = cuda_to_backend;
    table_.to_host = cuda_to_host;
    table_.synchronize = cuda_synchronize;
    table_.weight_create = cuda_weight_create;
    table_.weight_destroy = cuda_weight_destroy;
    table_.weight_bytes = cuda_weight_bytes;
    table_.matmul = cuda_matmul;
    table_.embedding = cuda_embedding;
    table_.rmsnorm = cuda_rmsnorm;
    table_.rope = cuda_rope;
    table_.silu_mul = cuda_silu_mul;
    table_.add = cuda_add;
    table_.softmax = cuda_softmax;
    table_.kv_write = cuda_kv_write;
    table_.attention = cuda_attention;
    table_.sample = cuda_sample;
}

CudaBackend::~CudaBackend() {
    cudaSetDevice(device);
    cudaStreamSynchronize(stream);
    cublasDestroy(cublas);
    cudaStreamDestroy(stream);
}

}  // namespace llmatc::cuda
