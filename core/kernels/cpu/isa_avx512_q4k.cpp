// core/kernels/cpu/isa_avx512_q4k.cpp — Q4_K weights times BlockQ8K activations with AVX-512 VNNI integer dot
// products. Compiled with the AVX-512 flags only; called only when the CPU has AVX-512 F/BW/VL.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/isa_avx512_k_quant_rows.h"
#include "kernels/cpu/quant_q4_k.h"

namespace llmatc::cpu {

namespace {

using k_quant::cpu_has_vnni;
using k_quant::reduce_128;

// One weight super-block laid out for the dot products. vpdpbusd lane k of a 64-byte product sums bytes 4k..4k+3,
// so lanes 0-7 come from the first 32-byte chunk and lanes 8-15 from the second (see BlockQ4_K / BlockQ8K for the
// orders). The low-nibble and high-nibble products of half h are then packed to int16 (vpackssdw: per 128-bit lane
// j, four low-nibble lanes 4j..4j+3, then four high-nibble lanes) and multiplied by their sub-block scales with
// vpmaddwd, which also adds neighbouring pairs (always of one sub-block): one pack and one multiply-add replace two
// 32-bit multiplies and an add. |dot| <= 4 * 15 * 127 fits int16.
struct UnpackedBlock {
    __m512i nibbles_lo[2];  // half h: low nibbles of qs[64h, 64h + 64): sub-blocks 4h (lanes 0-7), 4h + 2 (8-15)
    __m512i nibbles_hi[2];  //          high nibbles: sub-blocks 4h + 1, 4h + 3
    __m512i scales[2];      // half h: int16 scale of each position of the packed products
    __m128i mins;           // 8 x int16
    float d, dmin;
};

inline void unpack_block(const BlockQ4_K& block, UnpackedBlock& u, const __m512i spread[2]) {
    const __m512i low_mask = _mm512_set1_epi8(0x0f);
    for (int h = 0; h < 2; ++h) {
        const __m512i packed = _mm512_loadu_si512(block.qs + 64 * h);
        u.nibbles_lo[h] = _mm512_and_si512(packed, low_mask);
        u.nibbles_hi[h] = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_mask);
    }
    // The 6-bit fields four at a time, one byte each (layout in quant_q4_k.h).
    uint32_t words[3];
    std::memcpy(words, block.scales, sizeof words);
    const uint32_t scales_0_3 = words[0] & 0x3f3f3f3fu;
    const uint32_t mins_0_3 = words[1] & 0x3f3f3f3fu;
    const uint32_t scales_4_7 = (words[2] & 0x0f0f0f0fu) | (((words[0] >> 6) & 0x03030303u) << 4);
    const uint32_t mins_4_7 = ((words[2] >> 4) & 0x0f0f0f0fu) | (((words[1] >> 6) & 0x03030303u) << 4);
    const __m512i scales16 =
        _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_set_epi32(0, 0, int(scales_4_7), int(scales_0_3))));
    u.scales[0] = _mm512_permutexvar_epi16(spread[0], scales16);
    u.scales[1] = _mm512_permutexvar_epi16(spread[1], scales16);
    u.mins = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, int(mins_4_7), int(mins_0_3)));
    u.d = _cvtsh_ss(block.d);
    u.dmin = _cvtsh_ss(block.dmin);
}

// NX activation rows times one weight row over every super-block of the row; the weight block is unpacked once
// and reused by the NX rows (prefill), which is the expensive part of the loop.
template <int NX>
void q4_k_tile(const BlockQ8K* x, int64_t blocks, const BlockQ4_K* w_row, float* y, int64_t ldy) {
    __m512 acc[NX];
    __m128 acc_min[NX];
    for (int i = 0; i < NX; ++i) {
        acc[i] = _mm512_setzero_ps();
        acc_min[i] = _mm_setzero_ps();
    }
    const __m512i zero = _mm512_setzero_si512();
    const __m512i spread[2] = {k_quant::q4_k_scale_spread(0), k_quant::q4_k_scale_spread(1)};
    for (int64_t b = 0; b < blocks; ++b) {
        UnpackedBlock u;
        unpack_block(w_row[b], u, spread);
        for (int i = 0; i < NX; ++i) {
            const BlockQ8K& xb = x[i * blocks + b];
            __m512i scaled = zero;
            for (int h = 0; h < 2; ++h) {
                const __m512i x_lo = _mm512_loadu_si512(xb.qs + 128 * h);
                const __m512i x_hi = _mm512_loadu_si512(xb.qs + 128 * h + 64);
                const __m512i dot_lo = _mm512_dpbusd_epi32(zero, u.nibbles_lo[h], x_lo);
                const __m512i dot_hi = _mm512_dpbusd_epi32(zero, u.nibbles_hi[h], x_hi);
                const __m512i products = _mm512_packs_epi32(dot_lo, dot_hi);
                scaled = _mm512_add_epi32(scaled, _mm512_madd_epi16(products, u.scales[h]));
            }
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(scaled), _mm512_set1_ps(u.d * xb.d), acc[i]);
            const __m128i sums = _mm_loadu_si128(reinterpret_cast<const __m128i*>(xb.sums));
            const __m128i offset = _mm_madd_epi16(u.mins, sums);  // 4 lanes of m[s] * sums[s] pairs
            acc_min[i] = _mm_fmadd_ps(_mm_cvtepi32_ps(offset), _mm_set1_ps(u.dmin * xb.d), acc_min[i]);
        }
    }
    for (int i = 0; i < NX; ++i) y[i * ldy] = _mm512_reduce_add_ps(acc[i]) - reduce_128(acc_min[i]);
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
            q4_k_tile<decltype(nx)::value>(x, blocks, w_row, y, ldy);
        });
}

}  // namespace llmatc::cpu
