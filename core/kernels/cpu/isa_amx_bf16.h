// core/kernels/cpu/isa_amx_bf16.h — the AMX-BF16 matmul for packed BF16 weights (isa_amx_bf16.cpp): what the
// AVX-512 table calls where amx_bf16_usable().
#pragma once

#include <cstdint>

#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu {

// Row stride (in BF16 elements) of the AMX activation rows of a [*, cols] input: cols rounded up to a multiple of
// 32 (one tile row of 64 bytes), the padding zeros.
inline int64_t amx_activation_stride(int64_t cols) { return (cols + 31) / 32 * 32; }
// Rows of the AMX activation buffer for n inputs: n below 16 (tiles of n rows), else n rounded up to 16 (zero rows).
inline int64_t amx_activation_rows(int64_t n) { return n < 16 ? n : (n + 15) / 16 * 16; }

// Writes rows [row_begin, row_end) of the AMX activation buffer `out` (amx_activation_rows(n) rows of
// amx_activation_stride(cols) elements): row i < n is x's row rounded to BF16 (as f32_to_bf16), then zeros.
void amx_bf16_activations(const float* x, int64_t n, int64_t cols, int64_t row_begin, int64_t row_end, uint16_t* out);

// y's columns [row_begin, row_end) for packed BF16 weights (float_packed.h) and p.x_amx_bf16, with TDPBF16PS: tile
// rows of the product are computed independently, so a row's result depends on nothing else in the batch.
void amx_bf16_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end);

}  // namespace llmatc::cpu
