// core/kernels/cpu/isa_avx512_q6k.cpp — Q6_K weights in the 16-row interleaved layout (quant_q6_k_packed.h) times
// BlockQ8K16 activations with AVX-512 VNNI integer dot products. Compiled with the AVX-512 flags only; called only
// by the avx512 level (AVX-512 F/BW/VL with VNNI).
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/packed_group_tiles.h"
#include "kernels/cpu/quant_q6_k_packed.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu {

namespace {

static_assert(kQ6KPackRows == kPackRows, "Q6_K groups have as many rows as the other packed layouts");

inline __m512i broadcast_4_bytes(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// The 2-bit field t (bits 2t, 2t + 1) of every byte of qh moved to bits 4-5, the other bits cleared: the top bits
// of a 6-bit level. The 16-bit shifts move at most 4 places, so bits 4-5 of each byte come from the same byte.
inline __m512i high_bits(__m512i qh, int t) {
    const __m512i moved = t == 0   ? _mm512_slli_epi16(qh, 4)
                          : t == 1 ? _mm512_slli_epi16(qh, 2)
                          : t == 2 ? qh
                                   : _mm512_srli_epi16(qh, 2);
    return _mm512_and_si512(moved, _mm512_set1_epi8(0x30));
}

// The 16 rows' signed scale of sub-block j as int32 lanes, from the scales word j / 4 (byte j % 4 of each lane).
inline __m512i scale_of(const __m512i words[4], int j) {
    const int byte = j % 4;
    const __m512i w = words[j / 4];
    return _mm512_srai_epi32(byte == 3 ? w : _mm512_slli_epi32(w, 24 - 8 * byte), 24);
}

// NX activation rows times one 16-row weight group over every super-block. Lane r of acc[i] is y[i][group row r].
// Per super-block and row: y += d * x.d * sum_j sc[j] * (dot_j - 32 * x.sums[j]), the sums integer; dot_j sums the
// unsigned levels (0..63) times the activations over sub-block j's 16 elements. For half h (elements 128h ..) and
// sub-block group g (0..3): the low nibbles of ql slices 16h + 4g .. + 3 are elements 128h + 16g .. + 15 (sub-block
// 8h + g) and the high nibbles the 16 elements 64 on (sub-block 8h + 4 + g); their top bits are fields g / 2 and
// 2 + g / 2 of qh slices 8h + 4 (g % 2) .. + 3. Bounds: |dot_j - 32 sums_j| <= 16 * 63 * 127, times |sc| <= 128,
// summed over 16 sub-blocks: < 2^31.
template <int NX>
inline void packed_tile(const BlockQ8K16* x, int64_t blocks, const uint8_t* group, float* y, int64_t ldy,
                        int valid_rows) {
    __m512 acc[NX];
    for (int i = 0; i < NX; ++i) acc[i] = _mm512_setzero_ps();
    const __m512i low_mask = _mm512_set1_epi8(0x0f);
    constexpr int kOrAnd = 0xea;  // vpternlogd: (a & b) | c
    for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* gb = group + b * kQ6KGroupBlockBytes;
        __m512i words[4];
        for (int w = 0; w < 4; ++w) words[w] = _mm512_loadu_si512(gb + kQ6KPackedScales + 64 * w);
        __m512i scaled[NX];
        for (int i = 0; i < NX; ++i) scaled[i] = _mm512_setzero_si512();
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
            for (int g = 0; g < 4; ++g) {
                // An eighth of the super-block's lines ahead per step: spread over its work, the requests leave the
                // core computing instead of waiting for fill buffers behind one burst (GEMV from memory, Xeon VM, 2
                // threads: ~21.5 -> ~22.9 GB/s).
                prefetch_stream(gb + (4 * h + g) * (kQ6KGroupBlockBytes / 8), kQ6KGroupBlockBytes / 8);
                __m512i lo[4], hi[4];
                for (int m = 0; m < 4; ++m) {
                    const __m512i v = _mm512_loadu_si512(gb + 64 * (16 * h + 4 * g + m));
                    const __m512i qh = _mm512_loadu_si512(gb + kQ6KPackedHighBits + 64 * (8 * h + 4 * (g % 2) + m));
                    lo[m] = _mm512_ternarylogic_epi32(v, low_mask, high_bits(qh, g / 2), kOrAnd);
                    hi[m] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(v, 4), low_mask, high_bits(qh, 2 + g / 2),
                                                      kOrAnd);
                }
                const int j_lo = 8 * h + g, j_hi = 8 * h + 4 + g;
                const __m512i sc_lo = scale_of(words, j_lo), sc_hi = scale_of(words, j_hi);
                for (int i = 0; i < NX; ++i) {
                    const BlockQ8K16& xb = x[i * blocks + b];
                    const int8_t* q = xb.qs + 128 * h + 16 * g;
                    __m512i a = _mm512_set1_epi32(-32 * int32_t(xb.sums[j_lo]));
                    __m512i c = _mm512_set1_epi32(-32 * int32_t(xb.sums[j_hi]));
                    for (int m = 0; m < 4; ++m) {
                        a = _mm512_dpbusd_epi32(a, lo[m], broadcast_4_bytes(q + 4 * m));
                        c = _mm512_dpbusd_epi32(c, hi[m], broadcast_4_bytes(q + 64 + 4 * m));
                    }
                    scaled[i] = _mm512_add_epi32(scaled[i], _mm512_mullo_epi32(a, sc_lo));
                    scaled[i] = _mm512_add_epi32(scaled[i], _mm512_mullo_epi32(c, sc_hi));
                }
            }
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb + kQ6KPackedD)));
        for (int i = 0; i < NX; ++i)
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(scaled[i]), _mm512_mul_ps(d, _mm512_set1_ps(x[i * blocks + b].d)),
                                     acc[i]);
    }
    const __mmask16 mask = valid_rows >= 16 ? __mmask16(0xffff) : __mmask16((1u << valid_rows) - 1);
    for (int i = 0; i < NX; ++i) _mm512_mask_storeu_ps(y + i * ldy, mask, acc[i]);
}

}  // namespace

void matmul_rows_q6_k_packed_avx512(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t blocks = p.cols / kQ6KBlock;
    const int64_t group_bytes = blocks * kQ6KGroupBlockBytes;
    const auto* xq = static_cast<const BlockQ8K16*>(p.x_q8);
    const auto* w = static_cast<const uint8_t*>(p.w);
    // Tiles of 8 activation rows share each unpacked group super-block (kernels-bench GEMM n=128 on Zen 5, 2 threads:
    // ~620 GFLOP/s with tiles of 4, ~700 with 8; ~400 for the row-order kernel this replaced).
    for_each_packed_group_tile<8>(p.n, row_begin, row_end, [&](auto nx, int64_t i, int64_t g, int64_t r, int valid) {
        packed_tile<decltype(nx)::value>(xq + i * blocks, blocks, w + g * group_bytes, p.y + i * p.rows + r, p.rows,
                                         valid);
    });
}

}  // namespace llmatc::cpu
