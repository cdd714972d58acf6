// core/kernels/cpu/isa_avx2_quant.h — entry points of the AVX2 kernels for weights repacked at load (Q8_0 / Q4_0 /
// Q4_K / Q5_K / Q6_K in the 16-row interleaved layouts, F16 / BF16 in float_packed.h's), called from the AVX2 kernel
// tables.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu {

// matmul_rows for a packed Q8_0 / Q4_0 weight (p.x_q8 in quant_packed.h's activation format), a packed Q4_K /
// Q5_K one (p.x_q8 holding BlockQ8K rows) or a packed Q6_K one (BlockQ8K16 rows); row_begin is a multiple of 16.
// Returns false, computing nothing, for any other dtype or an unpacked weight.
bool avx2_packed_quant_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end);
// The same with AVX-VNNI's vpdpbusd (isa_avx2_vnni_quant.cpp; the same bits): only on CPUs with AVX-VNNI.
bool avx2_vnni_packed_quant_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end);
// matmul_rows for a packed F16 / BF16 weight (isa_avx2_float_packed.cpp; F32 activations, p.x_tiles when n > 1).
// Returns false, computing nothing, for any other dtype.
bool avx2_float_packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end);
// quantize_act_row for the packed Q8_0 / Q4_0 kernels: the same bytes as quantize_act_row_ref.
void avx2_quantize_act_row(const float* x, void* out, int64_t cols);
// The K-quants' activation quantizers (IsaKernels::quantize_row_q8k / q8k16): the same bytes as quantize_row_q8k
// (quant_q4_k.h) and quantize_row_q8k16 (quant_q6_k.h).
void avx2_quantize_row_q8k(const float* x, void* out, int64_t n);
void avx2_quantize_row_q8k16(const float* x, void* out, int64_t n);

}  // namespace llmatc::cpu
