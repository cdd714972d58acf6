// core/kernels/cpu/isa_avx2_q5k.cpp — Q5_K weights (GGUF's layout, read in place) times BlockQ8K activations with
// AVX2 integer dot products (vpmaddubsw + vpmaddwd). Compiled with AVX2 + FMA + F16C flags only; called only when
// the CPU has them. Per super-block the integers are the scalar kernel's (quant_q5_k.cpp), exactly.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/isa_avx2_k_quants.h"
#include "kernels/cpu/isa_avx2_quant.h"
#include "kernels/cpu/k_quant_row_tiles.h"
#include "kernels/cpu/quant_q5_k.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu {

namespace {

// One weight super-block unpacked for the dot products: levels[2c] byte l is the 5-bit level (0..31) of element
// 64c + l (sub-block 2c), levels[2c + 1] that of element 64c + 32 + l (sub-block 2c + 1); scales and mins unpacked.
struct UnpackedBlock {
    __m256i levels[8];
    uint8_t sc[kQ4KSubBlocks], m[kQ4KSubBlocks];
    float d, dmin;
};

inline void unpack_block(const BlockQ5_K& block, UnpackedBlock& u) {
    const __m256i low_mask = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(0x01);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qh));
    // Bit s of qh[l] is bit 4 of element 32s + l; 16-bit shifts then byte masks keep each byte's own bits.
    const auto fifth = [&](int s) { return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, s), one), 4); };
    for (int c = 0; c < 4; ++c) {
        const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs + 32 * c));
        u.levels[2 * c] = _mm256_or_si256(_mm256_and_si256(packed, low_mask), fifth(2 * c));
        u.levels[2 * c + 1] =
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(packed, 4), low_mask), fifth(2 * c + 1));
    }
    unpack_q4_k_scales(block.scales, u.sc, u.m);
    u.d = fp16_to_f32(block.d);
    u.dmin = fp16_to_f32(block.dmin);
}

// NX activation rows times one weight row over every super-block; each weight block is unpacked once and reused
// by the NX rows (prefill). The per-block integers and the F32 steps are the scalar kernel's.
template <int NX>
void q5_k_tile(const BlockQ8K* x, int64_t blocks, const BlockQ5_K* w_row, float* y, int64_t ldy) {
    float acc[NX];
    for (int i = 0; i < NX; ++i) acc[i] = 0.0f;
    for (int64_t b = 0; b < blocks; ++b) {
        prefetch_stream(&w_row[b], int64_t(sizeof(BlockQ5_K)));
        UnpackedBlock u;
        unpack_block(w_row[b], u);
        for (int i = 0; i < NX; ++i) {
            const BlockQ8K& xb = x[i * blocks + b];
            // vpmaddubsw pairs: |.| <= 2 * 31 * 127; times a 6-bit scale and summed, far inside int32.
            __m256i scaled = _mm256_setzero_si256();
            for (int c = 0; c < 4; ++c) {
                // BlockQ8K keeps chunk c's low-nibble elements at 128 (c / 2) + 32 (c % 2), the high ones 64 on.
                const int8_t* q = xb.qs + 128 * (c / 2) + 32 * (c % 2);
                const __m256i x_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
                const __m256i x_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64));
                scaled = _mm256_add_epi32(scaled, _mm256_madd_epi16(_mm256_maddubs_epi16(u.levels[2 * c], x_lo),
                                                                    _mm256_set1_epi16(short(u.sc[2 * c]))));
                scaled = _mm256_add_epi32(scaled, _mm256_madd_epi16(_mm256_maddubs_epi16(u.levels[2 * c + 1], x_hi),
                                                                    _mm256_set1_epi16(short(u.sc[2 * c + 1]))));
            }
            int32_t offset = 0;
            for (int s = 0; s < kQ4KSubBlocks; ++s) offset += int32_t(u.m[s]) * int32_t(xb.sums[s]);
            acc[i] += xb.d * (u.d * float(k_quant::reduce_i32_avx2(scaled)) - u.dmin * float(offset));
        }
    }
    for (int i = 0; i < NX; ++i) y[i * ldy] = acc[i];
}

}  // namespace

void matmul_rows_q5_k_avx2(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    k_quant::matmul_rows_by_tiles<BlockQ5_K, BlockQ8K>(
        p, row_begin, row_end, p.cols / kQ5KBlock,
        [](auto nx, const BlockQ8K* x, int64_t blocks, const BlockQ5_K* w_row, float* y, int64_t ldy) {
            q5_k_tile<decltype(nx)::value>(x, blocks, w_row, y, ldy);
        });
}

}  // namespace llmatc::cpu
