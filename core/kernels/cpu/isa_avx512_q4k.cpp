// core/kernels/cpu/isa_avx512_q4k.cpp — Q4_K and Q5_K weights in the 16-row interleaved layouts
// (quant_q4_k_packed.h, quant_q5_k_packed.h) times BlockQ8K activations with AVX-512 VNNI integer dot products.
// Compiled with the AVX-512 flags only; called only by the avx512 level (AVX2 tables read the Q4_K layout in
// isa_avx2_quant_impl.h).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/k_quant_scales_avx512.h"
#include "kernels/cpu/packed_group_tiles.h"
#include "kernels/cpu/quant_q4_k_packed.h"
#include "kernels/cpu/quant_q5_k_packed.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu {

namespace {

inline __m512i broadcast_4_bytes(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// NX activation rows times one 16-row weight group over every super-block (Q4_K, or Q5_K when kQ5). Lane r of
// acc[i] is y[i][group row r]. Per super-block and row: y += x.d * (d * sum_s sc[s] * dot_s - dmin * sum_s m[s] *
// x.sums[s]), the sums integer. Every level is taken as 16 times its value and so is the sum: Q4_K's high nibbles
// in place (masked with 0xf0) with the low-nibble sub-blocks' scales times 16; Q5_K's levels (0..31, with the fifth
// bit from the high-bit plane) with every scale times 16. |16 * sc * dot| summed over 8 sub-blocks <=
// 8 * 16 * 63 * 32 * 31 * 127 < 2^31.
template <bool kQ5, int NX>
inline void packed_tile(const BlockQ8K* x, int64_t blocks, const uint8_t* group, float* y, int64_t ldy,
                        int valid_rows) {
    constexpr int64_t kGroupBlockBytes = kQ5 ? kQ5KGroupBlockBytes : kQ4KGroupBlockBytes;
    __m512 acc[NX];
    for (int i = 0; i < NX; ++i) acc[i] = _mm512_setzero_ps();
    const __m512i low_mask = _mm512_set1_epi8(0x0f), high_mask = _mm512_set1_epi8(char(0xf0));
    for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* gb = group + b * kGroupBlockBytes;
        if constexpr (!kQ5) prefetch_stream(gb, kGroupBlockBytes);
        const __m512i word0 = _mm512_loadu_si512(gb + kQ4KPackedScales);
        const __m512i word1 = _mm512_loadu_si512(gb + kQ4KPackedScales + 64);
        const __m512i word2 = _mm512_loadu_si512(gb + kQ4KPackedScales + 128);

        __m512i offset[NX], scaled[NX];
        {
            const MinPairs mins(word1, word2);
            for (int i = 0; i < NX; ++i) {
                const BlockQ8K& xb = x[i * blocks + b];
                __m512i o = _mm512_dpwssd_epi32(_mm512_setzero_si512(), mins.pair[0], broadcast_sum_pair(xb, 0));
                o = _mm512_dpwssd_epi32(o, mins.pair[1], broadcast_sum_pair(xb, 1));
                o = _mm512_dpwssd_epi32(o, mins.pair[2], broadcast_sum_pair(xb, 2));
                offset[i] = _mm512_dpwssd_epi32(o, mins.pair[3], broadcast_sum_pair(xb, 3));
                scaled[i] = _mm512_setzero_si512();
            }
        }
        const uint8_t* payload = gb + kQ4KPackedPayload;
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
            // Q5_K: a quarter of the super-block's lines ahead per chunk; spread over its work, the requests leave
            // the core computing instead of waiting for fill buffers behind one burst (GEMV from memory, Xeon VM, 2
            // threads: ~20 -> ~21.5 GB/s; Q4_K, with less work per byte, was ~4% slower so and keeps one burst).
            if constexpr (kQ5) prefetch_stream(gb + c * (kGroupBlockBytes / 4), kGroupBlockBytes / 4);
            __m512i lo[8], hi[8];
            for (int j = 0; j < 8; ++j) {
                const __m512i v = _mm512_loadu_si512(payload + 64 * (8 * c + j));
                if constexpr (kQ5) {
                    // Slice j's qh bytes hold the fifth bits of elements 4j.. of every sub-block: bit 2c for the
                    // low nibbles (sub-block 2c), bit 2c + 1 for the high ones.
                    const __m512i qh = _mm512_loadu_si512(gb + kQ5KPackedHighBits + 64 * j);
                    lo[j] = _mm512_or_si512(_mm512_and_si512(v, low_mask), fifth_bit(qh, 2 * c));
                    hi[j] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(v, 4), low_mask),
                                            fifth_bit(qh, 2 * c + 1));
                } else {
                    lo[j] = _mm512_and_si512(v, low_mask);
                    hi[j] = _mm512_and_si512(v, high_mask);
                }
            }
            const __m512i sc_lo = _mm512_slli_epi32(scale_of(word0, word2, 2 * c), 4);
            const __m512i sc_hi = kQ5 ? _mm512_slli_epi32(scale_of(word0, word2, 2 * c + 1), 4)
                                      : scale_of(word0, word2, 2 * c + 1);
            for (int i = 0; i < NX; ++i) {
                // Chunk c's low-nibble elements are sub-block 2c; the high ones (2c + 1) sit 64 bytes on.
                const int8_t* q = x[i * blocks + b].qs + q8k_sub_block_offset(2 * c);
                __m512i a0 = _mm512_setzero_si512(), a1 = a0, b0 = a0, b1 = a0;
                for (int j = 0; j < 8; j += 2) {
                    a0 = _mm512_dpbusd_epi32(a0, lo[j], broadcast_4_bytes(q + 4 * j));
                    a1 = _mm512_dpbusd_epi32(a1, lo[j + 1], broadcast_4_bytes(q + 4 * j + 4));
                    b0 = _mm512_dpbusd_epi32(b0, hi[j], broadcast_4_bytes(q + 64 + 4 * j));
                    b1 = _mm512_dpbusd_epi32(b1, hi[j + 1], broadcast_4_bytes(q + 64 + 4 * j + 4));
                }
                scaled[i] = _mm512_add_epi32(scaled[i], _mm512_mullo_epi32(_mm512_add_epi32(a0, a1), sc_lo));
                scaled[i] = _mm512_add_epi32(scaled[i], _mm512_mullo_epi32(_mm512_add_epi32(b0, b1), sc_hi));
            }
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb)));
        const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb + kQ4KPackedDmin)));
        for (int i = 0; i < NX; ++i) {
            const float xd = x[i * blocks + b].d;
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(scaled[i]), _mm512_mul_ps(d, _mm512_set1_ps(xd * 0.0625f)),
                                     acc[i]);
            acc[i] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(offset[i]), _mm512_mul_ps(dmin, _mm512_set1_ps(xd)), acc[i]);
        }
    }
    const __mmask16 mask = valid_rows >= 16 ? __mmask16(0xffff) : __mmask16((1u << valid_rows) - 1);
    for (int i = 0; i < NX; ++i) _mm512_mask_storeu_ps(y + i * ldy, mask, acc[i]);
}

template <bool kQ5>
void packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t blocks = p.cols / kQ4KBlock;
    const int64_t group_bytes = blocks * (kQ5 ? kQ5KGroupBlockBytes : kQ4KGroupBlockBytes);
    const auto* xq = static_cast<const BlockQ8K*>(p.x_q8);
    const auto* w = static_cast<const uint8_t*>(p.w);
    // Tiles of 8 activation rows share each unpacked group super-block (kernels-bench GEMM n=128 on Zen 5, 2 threads:
    // Q4_K ~760 -> ~1000 GFLOP/s, Q5_K ~690 -> ~950 against tiles of 4).
    for_each_packed_group_tile<8>(p.n, row_begin, row_end, [&](auto nx, int64_t i, int64_t g, int64_t r, int valid) {
        packed_tile<kQ5, decltype(nx)::value>(xq + i * blocks, blocks, w + g * group_bytes, p.y + i * p.rows + r,
                                              p.rows, valid);
    });
}

}  // namespace

void matmul_rows_q4_k_packed_avx512(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    packed_matmul<false>(p, row_begin, row_end);
}

void matmul_rows_q5_k_packed_avx512(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    packed_matmul<true>(p, row_begin, row_end);
}

}  // namespace llmatc::cpu
