// core/kernels/cpu/isa_avx512_quant.h — entry points of the AVX-512 kernels for weights repacked at load (packed
// Q8_0 / Q4_0 with VNNI, packed F16 / BF16), called from the AVX-512 kernel table.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu {

// matmul_rows for a packed Q8_0 / Q4_0 weight (p.packed, p.x_q8 in the packed activation format); row_begin is a
// multiple of kPackRows. Returns false for any other dtype (nothing computed).
bool avx512_packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end);
// matmul_rows for a packed F16 / BF16 weight (isa_avx512_float_packed.cpp): F32 activations, or BF16 ones
// (p.x_bf16) for BF16 weights. Returns false for any other dtype.
bool avx512_float_packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end);
// quantize_act_row for the packed kernels: the same bytes as quantize_act_row_ref.
void avx512_quantize_act_row(const float* x, void* out, int64_t cols);

}  // namespace llmatc::cpu
