// core/kernels/cpu/isa_avx512_quant.cpp — AVX-512 VNNI matmul for Q8_0 / Q4_0 weights in the 16-row interleaved
// layout (quant_packed.h), and the activation quantizer it reads from. Compiled with AVX-512 + VNNI flags; called
// only when the CPU has them.
#include "kernels/cpu/isa_avx512_quant.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/packed_group_tiles.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/quant_packed.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu {

namespace {

inline int32_t load_i32(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// NX activation rows times one 16-row weight group over all blocks. Lane r of acc[i] is y[i][group row r]: per
// block, the integer dot products of all 16 rows build up in one register (the activation's bytes broadcast), start
// from -offset * sum(x) (undoing the unsigned storage), and are scaled by (row scales) * (activation scale).
template <llmatc_dtype D, int NX>
inline void packed_tile(const uint8_t* act, int64_t act_stride, int64_t cols, int64_t x0, const uint8_t* group,
                        float* y, int64_t ldy, int valid_rows) {
    const int64_t blocks = cols / kQuantBlock;
    const int64_t gb_bytes = D == LLMATC_DTYPE_Q8_0 ? 544 : 288;
    constexpr int kOffsetShift = D == LLMATC_DTYPE_Q8_0 ? 7 : 3;  // weights stored as q + 128, or nibble = q + 8
    PackedActRow x[NX];
    for (int i = 0; i < NX; ++i) x[i] = packed_act_row(act, act_stride, cols, x0 + i);
    __m512 acc[NX];
    for (int i = 0; i < NX; ++i) acc[i] = _mm512_setzero_ps();
    const __m512i low_mask = _mm512_set1_epi8(0x0f), high_mask = _mm512_set1_epi8(char(0xf0));
    for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* gb = group + b * gb_bytes;
        prefetch_stream(gb, gb_bytes);
        const __m512 w_scales = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb)));
        const uint8_t* payload = gb + 32;
        __m512i w[8];
        if constexpr (D == LLMATC_DTYPE_Q8_0) {
            for (int s = 0; s < 8; ++s) w[s] = _mm512_loadu_si512(payload + 64 * s);
        } else {
            for (int s = 0; s < 4; ++s) {
                const __m512i v = _mm512_loadu_si512(payload + 64 * s);
                w[s] = _mm512_and_si512(v, low_mask);       // elements 4s..4s+3
                w[s + 4] = _mm512_and_si512(v, high_mask);  // 16 x elements 16+4s..16+4s+3, read in place
            }
        }
        for (int i = 0; i < NX; ++i) {
            const int8_t* xq = x[i].qs + b * kQuantBlock;
            // Slice s of w pairs with activation bytes 4s..4s+3 (Q8_0) or, for Q4_0, slices 0..3 with bytes 4s..4s+3
            // and 4..7 with bytes 16+4(s-4)..: both are bytes 4s..4s+3 of the block for s = 0..7.
            // Q4_0's high nibbles come in 16 times their value: their products go to their own sums (d2, d3)
            // and are scaled down by 16 before joining (|16 * 15 * 127| * 16 < 2^31).
            __m512i d0 = _mm512_set1_epi32(-(x[i].sums[b] << kOffsetShift));
            __m512i d1 = _mm512_setzero_si512(), d2 = d1, d3 = d1;
            d0 = _mm512_dpbusd_epi32(d0, w[0], _mm512_set1_epi32(load_i32(xq + 0)));
            d1 = _mm512_dpbusd_epi32(d1, w[1], _mm512_set1_epi32(load_i32(xq + 4)));
            d0 = _mm512_dpbusd_epi32(d0, w[2], _mm512_set1_epi32(load_i32(xq + 8)));
            d1 = _mm512_dpbusd_epi32(d1, w[3], _mm512_set1_epi32(load_i32(xq + 12)));
            __m512i& e0 = D == LLMATC_DTYPE_Q8_0 ? d0 : d2;
            __m512i& e1 = D == LLMATC_DTYPE_Q8_0 ? d1 : d3;
            e0 = _mm512_dpbusd_epi32(e0, w[4], _mm512_set1_epi32(load_i32(xq + 16)));
            e1 = _mm512_dpbusd_epi32(e1, w[5], _mm512_set1_epi32(load_i32(xq + 20)));
            e0 = _mm512_dpbusd_epi32(e0, w[6], _mm512_set1_epi32(load_i32(xq + 24)));
            e1 = _mm512_dpbusd_epi32(e1, w[7], _mm512_set1_epi32(load_i32(xq + 28)));
            __m512i dot = _mm512_add_epi32(d0, d1);
            if constexpr (D == LLMATC_DTYPE_Q4_0)
                dot = _mm512_add_epi32(dot, _mm512_srai_epi32(_mm512_add_epi32(d2, d3), 4));
            const __m512 scale = _mm512_mul_ps(w_scales, _mm512_set1_ps(x[i].scales[b]));
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc[i]);
        }
    }
    const __mmask16 mask = valid_rows >= 16 ? __mmask16(0xffff) : __mmask16((1u << valid_rows) - 1);
    for (int i = 0; i < NX; ++i) _mm512_mask_storeu_ps(y + i * ldy, mask, acc[i]);
}

template <llmatc_dtype D>
void packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t cols = p.cols;
    const int64_t group_bytes = (cols / kQuantBlock) * (D == LLMATC_DTYPE_Q8_0 ? 544 : 288);
    const int64_t stride = packed_act_row_bytes(cols);
    const auto* act = static_cast<const uint8_t*>(p.x_q8);
    const auto* w = static_cast<const uint8_t*>(p.w);
    // Tiles of 8 activation rows (kernels-bench GEMM n=128 on Zen 5, 2 threads: Q8_0 ~1040 -> ~1180, Q4_0 ~1140 ->
    // ~1250 GFLOP/s against tiles of 4).
    for_each_packed_group_tile<8>(p.n, row_begin, row_end, [&](auto nx, int64_t i, int64_t g, int64_t r, int valid) {
        packed_tile<D, decltype(nx)::value>(act, stride, cols, i, w + g * group_bytes, p.y + i * p.rows + r, p.rows,
                                            valid);
    });
}

}  // namespace

bool avx512_packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    switch (p.dtype) {
        case LLMATC_DTYPE_Q8_0: packed_matmul<LLMATC_DTYPE_Q8_0>(p, row_begin, row_end); return true;
        case LLMATC_DTYPE_Q4_0: packed_matmul<LLMATC_DTYPE_Q4_0>(p, row_begin, row_end); return true;
        default: return false;
    }
}

// The same bytes as quantize_act_row_ref: the same amax, d and 1/d, and vcvtps2dq rounds half to even like
// nearbyint in the default rounding mode.
void avx512_quantize_act_row(const float* x, void* out, int64_t cols) {
    const int64_t blocks = cols / kQuantBlock;
    auto* qs = static_cast<int8_t*>(out);
    auto* scales = reinterpret_cast<float*>(qs + cols);
    auto* sums = reinterpret_cast<int32_t*>(scales + blocks);
    const __m512 sign_clear = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    for (int64_t b = 0; b < blocks; ++b) {
        const __m512 v0 = _mm512_loadu_ps(x + b * kQuantBlock);
        const __m512 v1 = _mm512_loadu_ps(x + b * kQuantBlock + 16);
        const float amax =
            _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(v0, sign_clear), _mm512_and_ps(v1, sign_clear)));
        const float d = amax / 127.0f;
        const float inv_d = d != 0.0f ? 1.0f / d : 0.0f;
        scales[b] = fp16_to_f32(f32_to_fp16(d));
        const __m512 scale = _mm512_set1_ps(inv_d);
        const __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, scale));
        const __m512i i1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, scale));
        sums[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + b * kQuantBlock), _mm512_cvtsepi32_epi8(i0));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + b * kQuantBlock + 16), _mm512_cvtsepi32_epi8(i1));
    }
}

}  // namespace llmatc::cpu
