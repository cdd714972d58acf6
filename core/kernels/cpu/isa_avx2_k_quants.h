// core/kernels/cpu/isa_avx2_k_quants.h — what the row-order AVX2 K-quant kernels (Q5_K, Q6_K) share. Include only
// from files compiled with the AVX2 flags.
#pragma once

#include <immintrin.h>

namespace llmatc::cpu::k_quant {

// The sum of the 8 float lanes of v (a row's accumulator, once per row).
inline float reduce_f32_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

}  // namespace llmatc::cpu::k_quant
