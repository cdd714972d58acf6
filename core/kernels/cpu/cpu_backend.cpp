// core/kernels/cpu/cpu_backend.cpp — the CPU backend's C function table (llmatc_kernels): argument checks turned
// into statuses and messages, and the factories that build it.
#include "kernels/cpu/cpu_backend.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "kernels/cpu/cpu_context.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/cpu_sample.h"
#include "kernels/cpu/cpu_weight.h"
#include "util/error.h"

namespace llmatc::cpu {

namespace {

CpuContext& context(void* ctx) { return *static_cast<CpuContext*>(ctx); }

// Runs `body`, turning every exception into a status and the calling thread's error message.
template <class Body>
llmatc_status guarded(const char* function, Body&& body) noexcept {
    try {
        body();
        return LLMATC_OK;
    } catch (const Error& e) {
        set_thread_error(e.what());
        return e.status();
    } catch (const std::bad_alloc&) {
        set_thread_error(std::string("cpu backend: ") + function + ": out of memory");
        return LLMATC_ERR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        set_thread_error(std::string("cpu backend: ") + function + ": " + e.what());
        return LLMATC_ERR_INTERNAL;
    } catch (...) {
        set_thread_error(std::string("cpu backend: ") + function + ": unknown exception");
        return LLMATC_ERR_INTERNAL;
    }
}

void* cpu_alloc(void*, size_t bytes) { return aligned_alloc_bytes(bytes); }
void cpu_free(void*, void* ptr) { aligned_free(ptr); }

llmatc_status cpu_copy(void* dst, const void* src, size_t bytes, const char* function) {
    if (bytes == 0) return LLMATC_OK;
    if (!dst || !src) {
        set_thread_error(std::string(function) + ": NULL pointer for a copy of " + std::to_string(bytes) + " bytes");
        return LLMATC_ERR_INVALID_ARGUMENT;
    }
    std::memcpy(dst, src, bytes);
    return LLMATC_OK;
}
llmatc_status cpu_to_backend(void*, void* dst, const void* src, size_t bytes) {
    return cpu_copy(dst, src, bytes, "to_backend");
}
llmatc_status cpu_to_host(void*, void* dst, const void* src, size_t bytes) {
    return cpu_copy(dst, src, bytes, "to_host");
}
llmatc_status cpu_synchronize(void*) { return LLMATC_OK; }

llmatc_status cpu_weight_create(void* ctx, const llmatc_tensor_view* src, llmatc_dtype storage,
                                llmatc_weight** out) {
    return guarded("weight_create", [&] {
        if (!src || !out) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "weight_create: src or out is NULL");
        const IsaKernels& kernels = *context(ctx).kernels;
        *out = make_weight(*src, storage, &context(ctx).pool, {kernels.packs_quantized, kernels.packs_floats})
                   .release();
    });
}
void cpu_weight_destroy(void*, llmatc_weight* w) { delete w; }
uint64_t cpu_weight_bytes(void*, const llmatc_weight* w) { return w ? w->bytes : 0; }

llmatc_status cpu_matmul(void* ctx, const llmatc_weight* w, const float* x, int64_t n, float* y) {
    return guarded("matmul", [&] { op_matmul(context(ctx), w, x, n, y); });
}
llmatc_status cpu_embedding(void* ctx, const llmatc_weight* table, const int32_t* ids, int64_t n, float* out) {
    return guarded("embedding", [&] { op_embedding(context(ctx), table, ids, n, out); });
}
llmatc_status cpu_rmsnorm(void* ctx, const float* x, const llmatc_weight* w, int64_t n, int64_t dim, float eps,
                          float* out) {
    return guarded("rmsnorm", [&] { op_rmsnorm(context(ctx), x, w, n, dim, eps, out); });
}
llmatc_status cpu_rope(void* ctx, float* x, const int32_t* positions, int64_t n, int32_t n_heads, int32_t head_dim,
                       float theta, float pos_scale) {
    return guarded("rope", [&] { op_rope(context(ctx), x, positions, n, n_heads, head_dim, theta, pos_scale); });
}
llmatc_status cpu_silu_mul(void* ctx, const float* gate, const float* up, int64_t n, float* out) {
    return guarded("silu_mul", [&] { op_silu_mul(context(ctx), gate, up, n, out); });
}
llmatc_status cpu_add(void* ctx, float* x, const float* y, int64_t n) {
    return guarded("add", [&] { op_add(context(ctx), x, y, n); });
}
llmatc_status cpu_softmax(void* ctx, float* x, int64_t n, int64_t dim) {
    return guarded("softmax", [&] { op_softmax(context(ctx), x, n, dim); });
}
llmatc_status cpu_kv_write(void* ctx, const llmatc_kv_cache* cache, int32_t layer, const llmatc_batch* batch,
                           const float* k, const float* v) {
    return guarded("kv_write", [&] { op_kv_write(context(ctx), cache, layer, batch, k, v); });
}
llmatc_status cpu_attention(void* ctx, const llmatc_kv_cache* cache, int32_t layer, const llmatc_batch* batch,
                            const float* q, int32_t n_heads, float scale, float* out) {
    return guarded("attention", [&] { op_attention(context(ctx), cache, layer, batch, q, n_heads, scale, out); });
}

llmatc_status cpu_sample(void*, const float* logits, int64_t n_rows, int32_t vocab,
                         const llmatc_sample_params* params, int32_t* out_tokens, float* out_logprobs) {
    return guarded("sample", [&] { op_sample(logits, n_rows, vocab, params, out_tokens, out_logprobs); });
}

class CpuBackend final : public KernelBackend {
public:
    CpuBackend(int n_threads, Isa isa, const CpuBackendOptions& options) : context_(n_threads, isa, options) {
        table_ = llmatc_kernels{};
        table_.struct_size = sizeof(llmatc_kernels);
        table_.abi_version = LLMATC_ABI_VERSION;
        table_.name = "cpu";
        table_.ctx = &context_;
        table_.alloc = cpu_alloc;
        table_.free = cpu_free;
        table_.to_backend = cpu_to_backend;
        table_.to_host = cpu_to_host;
        table_.synchronize = cpu_synchronize;
        table_.weight_create = cpu_weight_create;
        table_.weight_destroy = cpu_weight_destroy;
        table_.weight_bytes = cpu_weight_bytes;
        table_.matmul = cpu_matmul;
        table_.embedding = cpu_embedding;
        table_.rmsnorm = cpu_rmsnorm;
        table_.rope = cpu_rope;
        table_.silu_mul = cpu_silu_mul;
        table_.add = cpu_add;
        table_.softmax = cpu_softmax;
        table_.kv_write = cpu_kv_write;
        table_.attention = cpu_attention;
        table_.sample = cpu_sample;
    }
    const llmatc_kernels* table() const override { return &table_; }

private:
    CpuContext context_;
    llmatc_kernels table_;
};

}  // namespace

std::unique_ptr<KernelBackend> create_cpu_backend_for_isa(int n_threads, Isa isa,
                                                          const CpuBackendOptions& options) {
    if (!isa_supported(isa))
        throw Error(LLMATC_ERR_UNSUPPORTED,
                    std::string("cpu backend: this CPU cannot run the ") + isa_name(isa) + " kernels");
    auto backend = std::make_unique<CpuBackend>(n_threads, isa, options);
    const auto& context = *static_cast<const CpuContext*>(backend->table()->ctx);
    spdlog::debug("cpu backend: {} kernels, {} threads, BF16 activations: {}, AMX-BF16: {}, AMX-INT8: {}",
                  isa_name(isa), context.pool.size(), options.bf16_activations && context.kernels->has_bf16_dot,
                  options.bf16_activations && options.amx && context.kernels->has_amx_bf16,
                  options.amx && context.kernels->has_amx_int8);
    return backend;
}

}  // namespace llmatc::cpu

namespace llmatc {

// Prefill with BF16 weights rounds its activations to BF16 (as transformers' BF16 arithmetic and llama.cpp do);
// LLMATC_BF16_ACTIVATIONS=0 keeps them F32 (the exact upcast), a choice made by whoever runs the process.
// LLMATC_CPU_ISA=scalar|avx2|avx2-vnni|avx512-novnni|avx512 picks a lower instruction-set level than the CPU's best
// (to run, test or measure the kernels an older CPU would get); a level this CPU lacks, or an unknown name, is refused.
std::unique_ptr<KernelBackend> create_cpu_backend(int n_threads) {
    cpu::Isa isa = cpu::best_isa();
    if (const char* wanted = std::getenv("LLMATC_CPU_ISA"); wanted && *wanted) {
        if (!cpu::isa_from_name(wanted, &isa))
            throw Error(LLMATC_ERR_INVALID_ARGUMENT,
                        std::string("LLMATC_CPU_ISA='") + wanted + "' is not one of " + cpu::isa_level_names());
    }
    cpu::CpuBackendOptions options;
    const char* bf16 = std::getenv("LLMATC_BF16_ACTIVATIONS");
    options.bf16_activations = !(bf16 && std::string(bf16) == "0");
    const char* amx = std::getenv("LLMATC_AMX");
    options.amx = !(amx && std::string(amx) == "0");
    return cpu::create_cpu_backend_for_isa(n_threads, isa, options);
}

}  // namespace llmatc
