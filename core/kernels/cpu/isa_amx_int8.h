// core/kernels/cpu/isa_amx_int8.h — the AMX-INT8 matmul for packed Q8_0 / Q4_0 / Q4_K / Q5_K weights
// (isa_amx_int8.cpp): what the AVX-512 table calls for batches of at least kAmxInt8MinRows rows where
// amx_int8_usable().
#pragma once

#include <cstdint>

#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu {

// Batches smaller than this stay on the VNNI kernels: below two activation tiles, turning a weight group into
// tiles costs more than the tiles save (1.1B Q8_0, 2 threads, batched decode: 16 sequences ~172 -> ~156 tok/s on
// AMX, 24 ~196 -> ~169, 32 ~208 -> ~219).
constexpr int64_t kAmxInt8MinRows = 32;
// Rows of the activation buffer (quant_packed.h's packed format; BlockQ8K rows for Q4_K / Q5_K) the AMX kernel
// reads for n inputs: n rounded up to a multiple of 16, the rows past n all zeros.
inline int64_t amx_int8_activation_rows(int64_t n) { return (n + 15) / 16 * 16; }

// y's columns [row_begin, row_end) for packed Q8_0 / Q4_0 / Q4_K / Q5_K weights and p.x_q8 padded to
// amx_int8_activation_rows(n) rows: per 32-element block (or sub-block) the tiles give exactly the integer dot
// products the VNNI kernels sum, and they are scaled and accumulated in the same order, so the results are
// bit-identical to isa_avx512_quant.cpp's and isa_avx512_q4k.cpp's.
void amx_int8_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end);

}  // namespace llmatc::cpu
