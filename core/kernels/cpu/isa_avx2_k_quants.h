// core/kernels/cpu/isa_avx2_k_quants.h — what the row-order AVX2 K-quant kernels (Q5_K, Q6_K) share. Include only
// from files compiled with the AVX2 flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace llmatc::cpu::k_quant {

// The sum of the 8 int32 lanes of v (exact, as every lane sum here stays inside int32).
inline int32_t reduce_i32_avx2(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

}  // namespace llmatc::cpu::k_quant
