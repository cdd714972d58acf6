// core/kernels/cpu/isa_avx2_quant.cpp — AVX2 matmul for block-quantized weights in the 16-row interleaved layouts
// (isa_avx2_quant_impl.h's loops with vpmaddubsw + vpmaddwd), and the activation quantizers (the packed Q8_0 / Q4_0
// rows, the K-quants' BlockQ8K / BlockQ8K16), which every SIMD table uses. Compiled with AVX2 + FMA + F16C flags
// only; called only when the CPU has them.
#include "kernels/cpu/isa_avx2_quant.h"

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/isa_avx2_quant_impl.h"
#include "kernels/cpu/quant_q4_k.h"
#include "kernels/cpu/quant_q6_k.h"

namespace llmatc::cpu {

namespace {

// The largest |x[i]| for i < n (a multiple of 8).
float amax_of(const float* x, int n) {
    const __m256 sign_clear = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + i), sign_clear));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    return _mm_cvtss_f32(m4);
}

int32_t horizontal_sum(__m256i v) {
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1));
    return _mm_cvtsi128_si32(t);
}

// 32 values times inv_d, rounded half to even (vcvtps2dq in the default rounding mode, as the reference's
// 1.5 * 2^23 trick; |x * inv_d| <= 127, so the saturating packs never clip) into out[0, 32); returns their sum.
int32_t quantize_32(const float* x, __m256 inv_d, int8_t* out) {
    __m256i q[4];
    for (int j = 0; j < 4; ++j) q[j] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * j), inv_d));
    const __m256i w01 = _mm256_packs_epi32(q[0], q[1]), w23 = _mm256_packs_epi32(q[2], q[3]);
    // packs interleave 128-bit lanes: undo with a permute.
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w01, w23),
                                                      _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), bytes);
    return horizontal_sum(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
}

// The block scale the reference quantizers derive from amax (amax / 127) into *d, and its inverse (0 for d = 0).
__m256 scale_and_inverse(float amax, float* d) {
    *d = amax / 127.0f;
    return _mm256_set1_ps(*d != 0.0f ? 1.0f / *d : 0.0f);
}

}  // namespace

bool avx2_packed_quant_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    return avx2_quant_impl::packed_quant_matmul<false>(p, row_begin, row_end);
}

// The same bytes as quantize_act_row_ref: the same amax, d and 1/d, and vcvtps2dq rounds half to even like
// nearbyint in the default rounding mode; |x / d| <= 127, so the saturating packs never clip.
void avx2_quantize_act_row(const float* x, void* out, int64_t cols) {
    const int64_t blocks = cols / kQuantBlock;
    auto* qs = static_cast<int8_t*>(out);
    auto* scales = reinterpret_cast<float*>(qs + cols);
    auto* sums = reinterpret_cast<int32_t*>(scales + blocks);
    for (int64_t b = 0; b < blocks; ++b) {
        float d;
        const __m256 inv_d = scale_and_inverse(amax_of(x + b * kQuantBlock, kQuantBlock), &d);
        scales[b] = fp16_to_f32(f32_to_fp16(d));
        sums[b] = quantize_32(x + b * kQuantBlock, inv_d, qs + b * kQuantBlock);
    }
}

void avx2_quantize_row_q8k(const float* x, void* out, int64_t n) {
    auto* blocks = static_cast<BlockQ8K*>(out);
    for (int64_t b = 0; b < n / kQ4KBlock; ++b) {
        const float* xb = x + b * kQ4KBlock;
        BlockQ8K& block = blocks[b];
        const __m256 inv_d = scale_and_inverse(amax_of(xb, kQ4KBlock), &block.d);
        for (int s = 0; s < kQ4KSubBlocks; ++s)
            block.sums[s] = int16_t(quantize_32(xb + 32 * s, inv_d, block.qs + q8k_sub_block_offset(s)));
    }
}

void avx2_quantize_row_q8k16(const float* x, void* out, int64_t n) {
    auto* blocks = static_cast<BlockQ8K16*>(out);
    for (int64_t b = 0; b < n / kQ6KBlock; ++b) {
        const float* xb = x + b * kQ6KBlock;
        BlockQ8K16& block = blocks[b];
        const __m256 inv_d = scale_and_inverse(amax_of(xb, kQ6KBlock), &block.d);
        for (int c = 0; c < 8; ++c) {
            quantize_32(xb + 32 * c, inv_d, block.qs + 32 * c);
            // The per-16 sums, from the bytes just written.
            for (int half = 0; half < 2; ++half) {
                const __m256i wide = _mm256_cvtepi8_epi16(
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(block.qs + 32 * c + 16 * half)));
                block.sums[2 * c + half] = int16_t(horizontal_sum(_mm256_madd_epi16(wide, _mm256_set1_epi16(1))));
            }
        }
    }
}

}  // namespace llmatc::cpu
