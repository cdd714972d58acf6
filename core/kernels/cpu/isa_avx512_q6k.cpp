// core/kernels/cpu/isa_avx512_q6k.cpp — Q6_K weights times BlockQ8K16 activations with AVX-512 VNNI integer dot
// products. Compiled with the AVX-512 flags only; called only by the avx512 level (AVX-512 F/BW/VL with VNNI).
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/k_quant_row_tiles.h"
#include "kernels/cpu/stream_prefetch.h"
#include "kernels/cpu/quant_q6_k.h"

namespace llmatc::cpu {

namespace {

// One weight super-block laid out for the dot products, per half h (elements 128h .. 128h + 127):
// levels_lo[h] byte k is the unsigned level (0..63) of element 128h + k, levels_hi[h] byte k that of element
// 128h + 64 + k, so both line up with 64 bytes of BlockQ8K16::qs in element order. vpdpbusd lane k sums 4
// neighbouring elements; lanes 4j..4j+3 are sub-block j of the 64. The lo and hi products are packed to int16
// (vpackssdw: per 128-bit lane j, four lanes of sub-block 8h + j, then four of sub-block 8h + 4 + j) and
// multiplied by their sub-block scales with vpmaddwd. |dot lane| <= 4 * 63 * 127 = 32004 fits int16.
struct UnpackedBlock {
    __m512i levels_lo[2];
    __m512i levels_hi[2];
    __m512i scales[2];  // half h: int16 scale of each position of the packed products
    __m256i scales16;   // the 16 sub-block scales as int16, for the offset term
    float d;
};

// vpermw indices: 128-bit lane j of half h's packed products holds sub-block 8h + j (positions 0-3) and
// 8h + 4 + j (positions 4-7).
inline __m512i scale_spread(int h) {
    short idx[32];
    for (int j = 0; j < 4; ++j)
        for (int pos = 0; pos < 8; ++pos) idx[8 * j + pos] = short(8 * h + (pos < 4 ? j : 4 + j));
    return _mm512_loadu_si512(idx);
}

// Shift counts (per 16-bit word) moving each qh byte's 2-bit field to bits 4-5, for the 32 bytes of qh copied into
// both 256-bit halves of a register. levels_lo[h] holds t = 0 (bits 0-1, left 4) in its low half and t = 1 (bits
// 2-3, left 2) in its high half; levels_hi[h] t = 2 (bits 4-5, no shift) and t = 3 (bits 6-7, right 2). A field
// from the other byte of a word never reaches bits 4-5 of this one at these counts, so the 0x30 mask isolates it.
struct HighBitShifts {
    __m512i left_lo, right_hi;
};

inline void unpack_block(const BlockQ6_K& block, UnpackedBlock& u, const __m512i spread[2],
                         const HighBitShifts& shifts) {
    const __m512i low_mask = _mm512_set1_epi8(0x0f);
    const __m512i high_mask = _mm512_set1_epi8(0x30);
    constexpr int kOrAnd = 0xf8;  // vpternlogd: a | (b & c)
    for (int h = 0; h < 2; ++h) {
        const __m512i ql = _mm512_loadu_si512(block.ql + 64 * h);
        const __m512i qh =
            _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qh + 32 * h)));
        const __m512i lo = _mm512_and_si512(ql, low_mask);
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(ql, 4), low_mask);
        u.levels_lo[h] = _mm512_ternarylogic_epi32(lo, _mm512_sllv_epi16(qh, shifts.left_lo), high_mask, kOrAnd);
        u.levels_hi[h] = _mm512_ternarylogic_epi32(hi, _mm512_srlv_epi16(qh, shifts.right_hi), high_mask, kOrAnd);
    }
    u.scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block.scales)));
    const __m512i wide = _mm512_zextsi256_si512(u.scales16);
    u.scales[0] = _mm512_permutexvar_epi16(spread[0], wide);
    u.scales[1] = _mm512_permutexvar_epi16(spread[1], wide);
    u.d = _cvtsh_ss(block.d);
}

// NX activation rows times one weight row over every super-block of the row; the weight block is unpacked once
// and reused by the NX rows (prefill), which is the expensive part of the loop.
template <int NX>
void q6_k_tile(const BlockQ8K16* x, int64_t blocks, const BlockQ6_K* w_row, float* y, int64_t ldy) {
    __m512 acc[NX];
    for (int i = 0; i < NX; ++i) acc[i] = _mm512_setzero_ps();
    const __m512i zero = _mm512_setzero_si512();
    const __m512i spread[2] = {scale_spread(0), scale_spread(1)};
    const HighBitShifts shifts{
        _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1),
        _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1)};
    for (int64_t b = 0; b < blocks; ++b) {
        prefetch_stream(&w_row[b], int64_t(sizeof(BlockQ6_K)));
        UnpackedBlock u;
        unpack_block(w_row[b], u, spread, shifts);
        for (int i = 0; i < NX; ++i) {
            const BlockQ8K16& xb = x[i * blocks + b];
            __m512i scaled = zero;
            for (int h = 0; h < 2; ++h) {
                const __m512i x_lo = _mm512_loadu_si512(xb.qs + 128 * h);
                const __m512i x_hi = _mm512_loadu_si512(xb.qs + 128 * h + 64);
                const __m512i dot_lo = _mm512_dpbusd_epi32(zero, u.levels_lo[h], x_lo);
                const __m512i dot_hi = _mm512_dpbusd_epi32(zero, u.levels_hi[h], x_hi);
                const __m512i products = _mm512_packs_epi32(dot_lo, dot_hi);
                scaled = _mm512_add_epi32(scaled, _mm512_madd_epi16(products, u.scales[h]));
            }
            // The levels were taken unsigned (q + 32): subtract 32 * sum_j scales[j] * sums[j]. All int32:
            // |total| <= 16 * 128 * 16 * 63 * 127.
            const __m256i sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.sums));
            const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(u.scales16, sums), 5);
            scaled = _mm512_sub_epi32(scaled, _mm512_zextsi256_si512(offset));
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(scaled), _mm512_set1_ps(u.d * xb.d), acc[i]);
        }
    }
    for (int i = 0; i < NX; ++i) y[i * ldy] = _mm512_reduce_add_ps(acc[i]);
}

}  // namespace

void matmul_rows_q6_k_avx512(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    k_quant::matmul_rows_by_tiles<BlockQ6_K, BlockQ8K16>(
        p, row_begin, row_end, p.cols / kQ6KBlock,
        [](auto nx, const BlockQ8K16* x, int64_t blocks, const BlockQ6_K* w_row, float* y, int64_t ldy) {
            q6_k_tile<decltype(nx)::value>(x, blocks, w_row, y, ldy);
        });
}

}  // namespace llmatc::cpu
