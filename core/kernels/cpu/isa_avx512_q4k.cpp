// core/kernels/cpu/isa_avx512_q4k.cpp — Q4_K weights times BlockQ8K activations with AVX-512 VNNI integer dot
// products. Compiled with the AVX-512 flags only; called only when the CPU has AVX-512 F/BW/VL.
#include <immintrin.h>

#include "kernels/cpu/isa_avx512_k_quants.h"
#include "kernels/cpu/quant_q4_k.h"

namespace llmatc::cpu {

namespace {

using k_quant::cpu_has_vnni;

// Q4_K's levels are its nibbles: lo = low nibbles of qs[64h, 64h + 64), hi = high nibbles.
inline void unpack_block(const BlockQ4_K& block, k_quant::Q4KFamilyBlock& u) {
    const __m512i low_mask = _mm512_set1_epi8(0x0f);
    for (int h = 0; h < 2; ++h) {
        const __m512i packed = _mm512_loadu_si512(block.qs + 64 * h);
        u.lo[h] = _mm512_and_si512(packed, low_mask);
        u.hi[h] = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_mask);
    }
    k_quant::unpack_q4_k_scales(block.d, block.dmin, block.scales, u);
}

}  // namespace

void matmul_rows_q4_k_avx512(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    if (!cpu_has_vnni()) {
        matmul_rows_q4_k_scalar(p, row_begin, row_end);
        return;
    }
    k_quant::matmul_rows_by_tiles<BlockQ4_K, BlockQ8K>(
        p, row_begin, row_end, p.cols / kQ4KBlock,
        [](auto nx, const BlockQ8K* x, int64_t blocks, const BlockQ4_K* w_row, float* y, int64_t ldy) {
            k_quant::q4_k_family_tile<decltype(nx)::value>(x, blocks, w_row, y, ldy, unpack_block);
        });
}

}  // namespace llmatc::cpu
