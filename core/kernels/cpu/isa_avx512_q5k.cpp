// core/kernels/cpu/isa_avx512_q5k.cpp — Q5_K weights times BlockQ8K activations with AVX-512 VNNI integer dot
// products. Compiled with the AVX-512 flags only; called only by the avx512 level (AVX-512 F/BW/VL with VNNI).
#include <immintrin.h>

#include "kernels/cpu/isa_avx512_k_quants.h"
#include "kernels/cpu/quant_q5_k.h"

namespace llmatc::cpu {

namespace {

// Per-byte masks selecting the fifth bit in qh (copied into both 256-bit halves of a register): bytes 0-31 of half
// h's lo levels are sub-block 4h (qh bit 4h), bytes 32-63 sub-block 4h + 2; hi levels sub-blocks 4h + 1, 4h + 3.
struct FifthBitSelect {
    __m512i lo[2], hi[2];
};

inline __m512i two_halves(int low_bit, int high_bit) {
    return _mm512_inserti64x4(_mm512_set1_epi8(char(1 << low_bit)), _mm256_set1_epi8(char(1 << high_bit)), 1);
}

// Q5_K's levels: the nibbles as Q4_K lays them out (k_quant::Q4KFamilyBlock) with the fifth bit from qh added.
inline void unpack_block(const BlockQ5_K& block, k_quant::Q4KFamilyBlock& u, const FifthBitSelect& select) {
    const __m512i low_mask = _mm512_set1_epi8(0x0f);
    const __m512i fifth = _mm512_set1_epi8(0x10);
    const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qh)));
    for (int h = 0; h < 2; ++h) {
        const __m512i packed = _mm512_loadu_si512(block.qs + 64 * h);
        const __m512i lo = _mm512_and_si512(packed, low_mask);
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_mask);
        // Bit 4 of a nibble is clear, so adding 16 where the fifth bit is set ORs it in.
        u.lo[h] = _mm512_mask_add_epi8(lo, _mm512_test_epi8_mask(qh, select.lo[h]), lo, fifth);
        u.hi[h] = _mm512_mask_add_epi8(hi, _mm512_test_epi8_mask(qh, select.hi[h]), hi, fifth);
    }
    k_quant::unpack_q4_k_scales(block.d, block.dmin, block.scales, u);
}

}  // namespace

// 8 activation rows share each unpacked weight block (4: Q5_K_S 1.1B pp512 ~169 tok/s, 8: ~176; 2 Zen 5 threads).
void matmul_rows_q5_k_avx512(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    k_quant::matmul_rows_by_tiles<BlockQ5_K, BlockQ8K, 8>(
        p, row_begin, row_end, p.cols / kQ5KBlock,
        [](auto nx, const BlockQ8K* x, int64_t blocks, const BlockQ5_K* w_row, float* y, int64_t ldy) {
            const FifthBitSelect select{{two_halves(0, 2), two_halves(4, 6)}, {two_halves(1, 3), two_halves(5, 7)}};
            k_quant::q4_k_family_tile<decltype(nx)::value>(
                x, blocks, w_row, y, ldy,
                [&](const BlockQ5_K& block, k_quant::Q4KFamilyBlock& u) { unpack_block(block, u, select); });
        });
}

}  // namespace llmatc::cpu
