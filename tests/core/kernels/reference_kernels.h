// tests/core/kernels/reference_kernels.h — naive, single-threaded reference implementations of every CPU kernel
// (double accumulation, dense attention), the yardstick each backend and ISA level is tested against.
#pragma once

#include <cstdint>
#include <vector>

namespace llmatc::test {

// y[n, rows] = x[n, cols] * W^T with W given as F32 (already decoded from its storage type).
std::vector<float> ref_matmul(const std::vector<float>& w, int64_t rows, int64_t cols, const std::vector<float>& x,
                              int64_t n);
// Per element of y: sum_k |x[i, k] * W[r, k]|, the scale rounding errors of a dot product grow with.
std::vector<float> ref_matmul_magnitude(const std::vector<float>& w, int64_t rows, int64_t cols,
                                        const std::vector<float>& x, int64_t n);
std::vector<float> ref_rmsnorm(const std::vector<float>& x, const std::vector<float>& w, int64_t n, int64_t dim,
                               float eps);
// rotate_half RoPE with angles computed in double.
std::vector<float> ref_rope(const std::vector<float>& x, const std::vector<int32_t>& positions, int64_t n,
                            int32_t n_heads, int32_t head_dim, float theta, float pos_scale);
std::vector<float> ref_silu_mul(const std::vector<float>& gate, const std::vector<float>& up);
std::vector<float> ref_softmax(const std::vector<float>& x, int64_t n, int64_t dim);

// Dense causal attention of one sequence: q [n_new, n_heads, head_dim] at positions n_past + i over keys/values
// [n_past + n_new, n_kv_heads, head_dim] (the whole history, dense, in token order).
std::vector<float> ref_attention(const std::vector<float>& q, const std::vector<float>& k,
                                 const std::vector<float>& v, int64_t n_past, int64_t n_new, int32_t n_heads,
                                 int32_t n_kv_heads, int32_t head_dim, float scale);

}  // namespace llmatc::test
