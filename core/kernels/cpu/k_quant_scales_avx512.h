// core/kernels/cpu/k_quant_scales_avx512.h — AVX-512 helpers shared by the packed Q4_K / Q5_K kernels (VNNI in
// isa_avx512_q4k.cpp, AMX-INT8 in isa_amx_int8.cpp): the 16 rows' sub-block scales and mins of a group
// super-block unpacked into lanes, the activation's sub-block sums broadcast, Q5_K's fifth bits. Include only from
// files compiled with AVX-512 (F, BW, VNNI) flags.
#pragma once

#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/quant_q4_k.h"

namespace llmatc::cpu {

// The 16 rows' 6-bit sub-block scales of one group super-block as int32 lanes, from scales word 0 (sub-blocks 0..3
// in the low 6 bits of its bytes, the top 2 bits of sub-blocks 4..7 in the top bits) and word 2 (the low 4 bits of
// sub-blocks 4..7 in the low nibbles of its bytes). See quant_q4_k.h for the 12-byte encoding.
inline __m512i scale_of(__m512i word0, __m512i word2, int s) {
    const __m512i six = _mm512_set1_epi32(0x3f);
    if (s < 4) return _mm512_and_si512(_mm512_srli_epi32(word0, 8 * s), six);
    const int k = s - 4;
    const __m512i bits_4_5 = _mm512_and_si512(_mm512_srli_epi32(word0, 8 * k + 2), _mm512_set1_epi32(0x30));
    // (word2 >> 8k & 0x0f) | bits_4_5
    return _mm512_ternarylogic_epi32(_mm512_srli_epi32(word2, 8 * k), _mm512_set1_epi32(0x0f), bits_4_5, 0xea);
}

// The 16 rows' mins of sub-blocks (2p, 2p + 1) for p = 0..3 as int16 pairs per int32 lane (low half 2p), ready for
// vpdpwssd against the activation's (sums[2p], sums[2p + 1]). Mins 0..3 are the low 6 bits of word 1's bytes, mins
// 4..7 the high nibbles of word 2's bytes with their top 2 bits in word 1's top bits.
struct MinPairs {
    __m512i pair[4];
    MinPairs(__m512i word1, __m512i word2) {
        const __m512i mins_0_3 = _mm512_and_si512(word1, _mm512_set1_epi8(0x3f));
        const __m512i mins_4_7 = _mm512_ternarylogic_epi32(_mm512_srli_epi32(word2, 4), _mm512_set1_epi8(0x0f),
                                                           _mm512_and_si512(_mm512_srli_epi32(word1, 2),
                                                                            _mm512_set1_epi8(0x30)),
                                                           0xea);
        // Bytes (m0, m1, m2, m3) -> int16 pairs (m0, m1) and (m2, m3).
        const __m512i byte_mask = _mm512_set1_epi32(0xff);
        for (int h = 0; h < 2; ++h) {
            const __m512i m = h == 0 ? mins_0_3 : mins_4_7;
            const __m512i first = _mm512_or_si512(_mm512_and_si512(m, byte_mask),
                                                  _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(m, 8),
                                                                                     byte_mask), 16));
            const __m512i second = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(m, 16), byte_mask),
                                                   _mm512_andnot_si512(_mm512_set1_epi32(0xffff),
                                                                       _mm512_slli_epi32(_mm512_srli_epi32(m, 24), 16)));
            pair[2 * h] = first;
            pair[2 * h + 1] = second;
        }
    }
};

inline __m512i broadcast_sum_pair(const BlockQ8K& x, int p) {
    int32_t v;
    std::memcpy(&v, x.sums + 2 * p, 4);
    return _mm512_set1_epi32(v);
}

// Bit `bit` of every byte of v moved to bit 4 (the fifth bit of a Q5_K level), the other bits cleared. The 16-bit
// shifts move at most 4 places, so bit 4 of each byte comes from the same byte.
inline __m512i fifth_bit(__m512i v, int bit) {
    const __m512i moved = bit <= 4 ? _mm512_slli_epi16(v, unsigned(4 - bit)) : _mm512_srli_epi16(v, unsigned(bit - 4));
    return _mm512_and_si512(moved, _mm512_set1_epi8(0x10));
}

}  // namespace llmatc::cpu
