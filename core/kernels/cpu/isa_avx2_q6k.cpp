// core/kernels/cpu/isa_avx2_q6k.cpp — Q6_K weights (GGUF's layout, read in place) times BlockQ8K16 activations with
// AVX2 integer dot products (vpmaddubsw + vpmaddwd). Compiled with AVX2 + FMA + F16C flags only; called only when
// the CPU has them. Per super-block the integer is the scalar kernel's (quant_q6_k.cpp), exactly; the F32 scaling
// and summation run in another order.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/isa_avx2_quant.h"
#include "kernels/cpu/k_quant_row_tiles.h"
#include "kernels/cpu/quant_q6_k.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu {

namespace {

// The sum of the 8 float lanes of v (a row's accumulator, once per row).
inline float reduce_f32_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// One weight super-block unpacked for the dot products: levels[k] byte l is the 6-bit level (0..63) of element
// 32k + l, lined up with BlockQ8K16::qs[32k + l]; scales[k] holds, as int16, sub-block 2k's scale in its low
// 128-bit lane and sub-block 2k + 1's in its high one (the lanes vpmaddubsw fills with elements 32k..32k+15 and
// 32k+16..32k+31); scales16 all 16 scales for the "- 32" offset.
struct UnpackedBlock {
    __m256i levels[8];
    __m256i scales[8];
    __m256i scales16;
    float d;
};

inline void unpack_block(const BlockQ6_K& block, UnpackedBlock& u) {
    const __m256i low_mask = _mm256_set1_epi8(0x0f), two_bits = _mm256_set1_epi8(0x03);
    for (int h = 0; h < 2; ++h) {
        const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.ql + 64 * h));
        const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.ql + 64 * h + 32));
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qh + 32 * h));
        // Element 128h + 32t + l: low 4 bits from ql0 / ql1 (t = 0, 1: low nibbles; t = 2, 3: high nibbles), top
        // 2 bits from qh[32h + l] bits 2t, 2t + 1. 16-bit shifts then byte masks keep each byte's own bits.
        const __m256i nibbles[4] = {_mm256_and_si256(ql0, low_mask), _mm256_and_si256(ql1, low_mask),
                                    _mm256_and_si256(_mm256_srli_epi16(ql0, 4), low_mask),
                                    _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low_mask)};
        for (int t = 0; t < 4; ++t) {
            const __m256i top = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * t), two_bits);
            u.levels[4 * h + t] = _mm256_or_si256(nibbles[t], _mm256_slli_epi16(top, 4));
        }
    }
    u.scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block.scales)));
    // Dword k of scales16 is (scale 2k, scale 2k + 1): broadcast it, then spread its low int16 over the low lane
    // and its high int16 over the high lane.
    const __m256i spread = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
                                            2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    for (int k = 0; k < 8; ++k)
        u.scales[k] = _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(u.scales16, _mm256_set1_epi32(k)), spread);
    u.d = fp16_to_f32(block.d);
}

// NX activation rows times one weight row over every super-block; each weight block is unpacked once and reused
// by the NX rows (prefill). The per-block integers are the scalar kernel's; they are scaled lane by lane into an F32
// accumulator and summed across lanes once per row.
template <int NX>
void q6_k_tile(const BlockQ8K16* x, int64_t blocks, const BlockQ6_K* w_row, float* y, int64_t ldy) {
    __m256 acc[NX];
    for (int i = 0; i < NX; ++i) acc[i] = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
        prefetch_stream(&w_row[b], int64_t(sizeof(BlockQ6_K)));
        UnpackedBlock u;
        unpack_block(w_row[b], u);
        for (int i = 0; i < NX; ++i) {
            const BlockQ8K16& xb = x[i * blocks + b];
            // vpmaddubsw pairs: |.| <= 2 * 63 * 127 < 2^15; the int32 total, as the scalar kernel's, fits.
            __m256i total = _mm256_setzero_si256();
            for (int k = 0; k < 8; ++k) {
                const __m256i xs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs + 32 * k));
                total = _mm256_add_epi32(total, _mm256_madd_epi16(_mm256_maddubs_epi16(u.levels[k], xs), u.scales[k]));
            }
            const __m256i sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.sums));
            total = _mm256_sub_epi32(total, _mm256_slli_epi32(_mm256_madd_epi16(u.scales16, sums), 5));
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_set1_ps(xb.d * u.d), acc[i]);
        }
    }
    for (int i = 0; i < NX; ++i) y[i * ldy] = reduce_f32_avx2(acc[i]);
}

}  // namespace

void matmul_rows_q6_k_avx2(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    k_quant::matmul_rows_by_tiles<BlockQ6_K, BlockQ8K16>(
        p, row_begin, row_end, p.cols / kQ6KBlock,
        [](auto nx, const BlockQ8K16* x, int64_t blocks, const BlockQ6_K* w_row, float* y, int64_t ldy) {
            q6_k_tile<decltype(nx)::value>(x, blocks, w_row, y, ldy);
        });
}

}  // namespace llmatc::cpu
