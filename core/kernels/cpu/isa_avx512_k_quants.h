// core/kernels/cpu/isa_avx512_k_quants.h — what the row-order AVX-512 K-quant kernels share: the row-order tile of
// the Q4_K family (Q5_K reads its levels into Q4_K's layout; Q4_K itself is repacked at load and has its own kernel,
// isa_avx512_q4k.cpp). Their loop over activation-row tiles is k_quant_row_tiles.h's. Include
// only from files compiled with the AVX-512 flags.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/cpu/isa_kernels.h"
#include "kernels/cpu/k_quant_row_tiles.h"
#include "kernels/cpu/quant_q4_k.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu::k_quant {

// One Q4_K / Q5_K weight super-block laid out for the dot products with BlockQ8K activations. vpdpbusd lane k of
// a 64-byte product sums bytes 4k..4k+3, so lanes 0-7 come from the first 32-byte chunk and lanes 8-15 from the
// second (see BlockQ4_K / BlockQ8K for the orders): lo[h] byte b is the unsigned level of element 64c + l (c = 2h +
// b / 32, l = b % 32; sub-block 2c), lined up with BlockQ8K::qs[128h + b]; hi[h] byte b that of element 64c + 32 + l
// (sub-block 2c + 1), lined up with qs[128h + 64 + b]. The lo and hi products of half h are packed to int16
// (vpackssdw: per 128-bit lane j, four lo lanes 4j..4j+3, then four hi lanes) and multiplied by their sub-block
// scales with vpmaddwd, which also adds neighbouring pairs (always of one sub-block). |dot lane| <= 4 * 31 * 127
// (Q5_K's 5-bit levels; 4 * 15 * 127 for Q4_K) fits int16.
struct Q4KFamilyBlock {
    __m512i lo[2];
    __m512i hi[2];
    __m512i scales[2];  // half h: int16 scale of each position of the packed products
    __m128i mins;       // 8 x int16
    float d, dmin;
};

// vpermw indices spreading the 8 int16 sub-block scales over the packed products of half h: 128-bit lanes 0-1
// hold chunk 2h (lo: sub-block 4h, hi: 4h + 1), lanes 2-3 chunk 2h + 1 (sub-blocks 4h + 2, 4h + 3).
inline __m512i q4_k_scale_spread(int h) {
    const short a = short(4 * h), b = short(4 * h + 1), c = short(4 * h + 2), e = short(4 * h + 3);
    return _mm512_set_epi16(e, e, e, e, c, c, c, c, e, e, e, e, c, c, c, c,
                            b, b, b, b, a, a, a, a, b, b, b, b, a, a, a, a);
}

// The block's scale d, min scale dmin and the 6-bit sub-block scales and mins (packed in 12 bytes: layout in
// quant_q4_k.h), four fields at a time, one byte each.
inline void unpack_q4_k_scales(uint16_t d, uint16_t dmin, const uint8_t packed[12], Q4KFamilyBlock& u) {
    uint32_t words[3];
    std::memcpy(words, packed, sizeof words);
    const uint32_t scales_0_3 = words[0] & 0x3f3f3f3fu;
    const uint32_t mins_0_3 = words[1] & 0x3f3f3f3fu;
    const uint32_t scales_4_7 = (words[2] & 0x0f0f0f0fu) | (((words[0] >> 6) & 0x03030303u) << 4);
    const uint32_t mins_4_7 = ((words[2] >> 4) & 0x0f0f0f0fu) | (((words[1] >> 6) & 0x03030303u) << 4);
    const __m512i scales16 =
        _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_set_epi32(0, 0, int(scales_4_7), int(scales_0_3))));
    u.scales[0] = _mm512_permutexvar_epi16(q4_k_scale_spread(0), scales16);
    u.scales[1] = _mm512_permutexvar_epi16(q4_k_scale_spread(1), scales16);
    u.mins = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, int(mins_4_7), int(mins_0_3)));
    u.d = _cvtsh_ss(d);
    u.dmin = _cvtsh_ss(dmin);
}

inline float reduce_128(__m128 v) {
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    v = _mm_add_ss(v, _mm_movehdup_ps(v));
    return _mm_cvtss_f32(v);
}

// NX activation rows times one weight row over every super-block of the row: each weight block is unpacked once
// (unpack(block, Q4KFamilyBlock&)) and reused by the NX rows (prefill), which is the expensive part of the loop.
// y = sum over blocks of d * x.d * sum_s scale_s * dot_s - dmin * x.d * sum_s min_s * x.sums[s].
template <int NX, typename WBlock, typename Unpack>
inline void q4_k_family_tile(const BlockQ8K* x, int64_t blocks, const WBlock* w_row, float* y, int64_t ldy,
                             Unpack&& unpack) {
    __m512 acc[NX];
    __m128 acc_min[NX];
    for (int i = 0; i < NX; ++i) {
        acc[i] = _mm512_setzero_ps();
        acc_min[i] = _mm_setzero_ps();
    }
    const __m512i zero = _mm512_setzero_si512();
    for (int64_t b = 0; b < blocks; ++b) {
        prefetch_stream(&w_row[b], int64_t(sizeof(WBlock)));
        Q4KFamilyBlock u;
        unpack(w_row[b], u);
        for (int i = 0; i < NX; ++i) {
            const BlockQ8K& xb = x[i * blocks + b];
            __m512i scaled = zero;
            for (int h = 0; h < 2; ++h) {
                const __m512i x_lo = _mm512_loadu_si512(xb.qs + 128 * h);
                const __m512i x_hi = _mm512_loadu_si512(xb.qs + 128 * h + 64);
                const __m512i dot_lo = _mm512_dpbusd_epi32(zero, u.lo[h], x_lo);
                const __m512i dot_hi = _mm512_dpbusd_epi32(zero, u.hi[h], x_hi);
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

}  // namespace llmatc::cpu::k_quant
