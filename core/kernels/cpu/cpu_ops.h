// core/kernels/cpu/cpu_ops.h — the CPU backend's kernels as C++ functions on its context. Each validates its
// arguments and throws llmatc::Error naming the kernel and the problem; the C table (cpu_backend.cpp) turns that
// into a status. Semantics are those of the same-named slots of llmatc_kernels (llmatc/kernels.h).
#pragma once

#include <cstdint>

#include "kernels/cpu/cpu_context.h"
#include "llmatc/kernels.h"

namespace llmatc::cpu {

void op_matmul(CpuContext& ctx, const llmatc_weight* w, const float* x, int64_t n, float* y);
void op_embedding(CpuContext& ctx, const llmatc_weight* table, const int32_t* ids, int64_t n, float* out);
void op_rmsnorm(CpuContext& ctx, const float* x, const llmatc_weight* w, int64_t n, int64_t dim, float eps,
                float* out);
void op_rope(CpuContext& ctx, float* x, const int32_t* positions, int64_t n, int32_t n_heads, int32_t head_dim,
             float theta, float pos_scale);
void op_silu_mul(CpuContext& ctx, const float* gate, const float* up, int64_t n, float* out);
void op_add(CpuContext& ctx, float* x, const float* y, int64_t n);
void op_softmax(CpuContext& ctx, float* x, int64_t n, int64_t dim);
void op_kv_write(CpuContext& ctx, const llmatc_kv_cache* cache, int32_t layer, const llmatc_batch* batch,
                 const float* k, const float* v);
void op_attention(CpuContext& ctx, const llmatc_kv_cache* cache, int32_t layer, const llmatc_batch* batch,
                  const float* q, int32_t n_heads, float scale, float* out);

// The largest head_dim rope and attention accept (their per-token tables live on the stack).
constexpr int32_t kMaxHeadDim = 1024;

}  // namespace llmatc::cpu
