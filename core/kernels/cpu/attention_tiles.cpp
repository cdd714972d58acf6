// core/kernels/cpu/attention_tiles.cpp — the tiled-attention inner loops for each instruction set. The AVX2 and
// AVX-512 versions are compiled for their ISA with function target attributes (this file builds with the baseline
// flags), and are only called when the CPU has the features (attention_tile_kernels is chosen from the backend's
// Isa, which isa_select.cpp checked).
#include "kernels/cpu/attention_tiles.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/simd_exp.h"

#if defined(LLMATC_X86_KERNELS)
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's own AVX-512 headers trip these when inlined here (_mm512_undefined_ps is uninitialised by design).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

namespace llmatc::cpu {

namespace {

// exp(x) is below the smallest normal float for x < kExpFloor; such softmax terms are dropped (they weigh < 1e-38).
constexpr float kExpFloor = -87.0f;

// ---- portable ----

void load_row_f16_scalar(float* dst, const uint16_t* src, int32_t n, int32_t n_pad) {
    for (int32_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
    for (int32_t i = n; i < n_pad; ++i) dst[i] = 0.0f;
}

void load_row_f32_scalar(float* dst, const float* src, int32_t n, int32_t n_pad) {
    for (int32_t i = 0; i < n; ++i) dst[i] = src[i];
    for (int32_t i = n; i < n_pad; ++i) dst[i] = 0.0f;
}

void store_row_f16_scalar(uint16_t* dst, const float* src, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_fp16(src[i]);
}

void dot_rows_scalar(const float* q, const float* k, int32_t d_pad, int32_t n_rows, float* scores) {
    const int32_t rows = (n_rows + kAttentionScoreGroup - 1) / kAttentionScoreGroup * kAttentionScoreGroup;
    for (int32_t t = 0; t < rows; ++t) {
        const float* kt = k + int64_t(t) * d_pad;
        float sum = 0.0f;
        for (int32_t i = 0; i < d_pad; ++i) sum += q[i] * kt[i];
        scores[t] = sum;
    }
}

float max_of_scalar(const float* s, int32_t n) {
    float m = s[0];
    for (int32_t i = 1; i < n; ++i) m = std::max(m, s[i]);
    return m;
}

float exp_sum_scalar(float* s, int32_t n, float max) {
    float sum = 0.0f;
    for (int32_t i = 0; i < n; ++i) {
        const float d = s[i] - max;
        s[i] = d < kExpFloor ? 0.0f : std::exp(d);
        sum += s[i];
    }
    return sum;
}

void accumulate_scalar(float* o, float rescale, const float* p, const float* v, int32_t n_rows, int32_t d_pad) {
    for (int32_t i = 0; i < d_pad; ++i) o[i] *= rescale;
    for (int32_t t = 0; t < n_rows; ++t) {
        const float pt = p[t];
        const float* vt = v + int64_t(t) * d_pad;
        for (int32_t i = 0; i < d_pad; ++i) o[i] += pt * vt[i];
    }
}

// Pairs as two single calls, for ISAs with too few registers to interleave two query vectors.
template <void (*kDotRows)(const float*, const float*, int32_t, int32_t, float*)>
void dot_rows2_by_singles(const float* q0, const float* q1, const float* k, int32_t d_pad, int32_t n_rows,
                          float* scores0, float* scores1) {
    kDotRows(q0, k, d_pad, n_rows, scores0);
    kDotRows(q1, k, d_pad, n_rows, scores1);
}

template <void (*kAccumulate)(float*, float, const float*, const float*, int32_t, int32_t)>
void accumulate2_by_singles(float* o0, float* o1, float rescale0, float rescale1, const float* p0, const float* p1,
                            const float* v, int32_t n_rows, int32_t d_pad) {
    kAccumulate(o0, rescale0, p0, v, n_rows, d_pad);
    kAccumulate(o1, rescale1, p1, v, n_rows, d_pad);
}

constexpr AttentionTileKernels kScalarTiles = {load_row_f16_scalar,
                                               load_row_f32_scalar,
                                               store_row_f16_scalar,
                                               dot_rows_scalar,
                                               dot_rows2_by_singles<dot_rows_scalar>,
                                               max_of_scalar,
                                               exp_sum_scalar,
                                               accumulate_scalar,
                                               accumulate2_by_singles<accumulate_scalar>};

#if defined(LLMATC_X86_KERNELS)

using simd_exp::exp_avx2;
using simd_exp::exp_avx512;

// ---- AVX2 + FMA + F16C ----
#define LLMATC_AVX2 __attribute__((target("avx2,fma,f16c")))

// Lanes [0, n) set, n in [0, 8].
LLMATC_AVX2 inline __m256i lane_mask_avx2(int32_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

LLMATC_AVX2 void load_row_f16_avx2(float* dst, const uint16_t* src, int32_t n, int32_t n_pad) {
    int32_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
    for (; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
    for (; i < n_pad; ++i) dst[i] = 0.0f;
}

LLMATC_AVX2 void load_row_f32_avx2(float* dst, const float* src, int32_t n, int32_t n_pad) {
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_loadu_ps(src + i));
    if (i < n) {
        const __m256i mask = lane_mask_avx2(n - i);
        _mm256_storeu_ps(dst + i, _mm256_maskload_ps(src + i, mask));  // zeros past n
        i += 8;
    }
    for (; i < n_pad; ++i) dst[i] = 0.0f;
}

LLMATC_AVX2 void store_row_f16_avx2(uint16_t* dst, const float* src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; ++i) dst[i] = f32_to_fp16(src[i]);
}

// The eight horizontal sums of a[0..7], in order.
LLMATC_AVX2 inline __m256 sum8_avx2(const __m256* a) {
    const __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
    const __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
    const __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
    // Each 128-bit half of h0123 holds a[0..3]'s partial sums over that half's lanes; fold the halves.
    return _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20), _mm256_permute2f128_ps(h0123, h4567, 0x31));
}

LLMATC_AVX2 void dot_rows_avx2(const float* q, const float* k, int32_t d_pad, int32_t n_rows, float* scores) {
    for (int32_t t0 = 0; t0 < n_rows; t0 += kAttentionScoreGroup) {
        __m256 acc[8];
        for (int j = 0; j < 8; ++j) acc[j] = _mm256_setzero_ps();
        const float* kt = k + int64_t(t0) * d_pad;
        for (int32_t c = 0; c < d_pad; c += 8) {
            const __m256 qc = _mm256_loadu_ps(q + c);
            for (int j = 0; j < 8; ++j)
                acc[j] = _mm256_fmadd_ps(qc, _mm256_loadu_ps(kt + int64_t(j) * d_pad + c), acc[j]);
        }
        _mm256_storeu_ps(scores + t0, sum8_avx2(acc));
    }
}

LLMATC_AVX2 float max_of_avx2(const float* s, int32_t n) {
    __m256 m = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(s + i));
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, m);
    float best = lanes[0];
    for (int j = 1; j < 8; ++j) best = std::max(best, lanes[j]);
    for (; i < n; ++i) best = std::max(best, s[i]);
    return best;
}

LLMATC_AVX2 float exp_sum_avx2(float* s, int32_t n, float max) {
    const __m256 vmax = _mm256_set1_ps(max), floor = _mm256_set1_ps(kExpFloor);
    __m256 sum = _mm256_setzero_ps();
    for (int32_t i = 0; i < n; i += 8) {
        const __m256i lanes = lane_mask_avx2(n - i);
        const __m256 d = _mm256_sub_ps(_mm256_maskload_ps(s + i, lanes), vmax);
        const __m256 keep = _mm256_and_ps(_mm256_castsi256_ps(lanes), _mm256_cmp_ps(d, floor, _CMP_GE_OQ));
        const __m256 e = _mm256_and_ps(exp_avx2(_mm256_max_ps(d, floor)), keep);
        _mm256_maskstore_ps(s + i, lanes, e);
        sum = _mm256_add_ps(sum, e);
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, sum);
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

// o[0, 8 * kRegs) = o * rescale + sum_t p[t] v[t], the output slice kept in registers across all rows.
template <int kRegs>
LLMATC_AVX2 void accumulate_slice_avx2(float* o, float rescale, const float* p, const float* v, int32_t n_rows,
                                       int32_t d_pad) {
    __m256 acc[kRegs];
    const __m256 vs = _mm256_set1_ps(rescale);
    for (int r = 0; r < kRegs; ++r) acc[r] = _mm256_mul_ps(_mm256_loadu_ps(o + 8 * r), vs);
    for (int32_t t = 0; t < n_rows; ++t) {
        const __m256 pt = _mm256_broadcast_ss(p + t);
        const float* vt = v + int64_t(t) * d_pad;
        for (int r = 0; r < kRegs; ++r) acc[r] = _mm256_fmadd_ps(pt, _mm256_loadu_ps(vt + 8 * r), acc[r]);
    }
    for (int r = 0; r < kRegs; ++r) _mm256_storeu_ps(o + 8 * r, acc[r]);
}

LLMATC_AVX2 void accumulate_avx2(float* o, float rescale, const float* p, const float* v, int32_t n_rows,
                                 int32_t d_pad) {
    // Slices of 64 floats (8 registers), then the 16-float remainder pieces d_pad's padding guarantees.
    int32_t c = 0;
    for (; c + 64 <= d_pad; c += 64) accumulate_slice_avx2<8>(o + c, rescale, p, v + c, n_rows, d_pad);
    switch ((d_pad - c) / 16) {
        case 1: accumulate_slice_avx2<2>(o + c, rescale, p, v + c, n_rows, d_pad); break;
        case 2: accumulate_slice_avx2<4>(o + c, rescale, p, v + c, n_rows, d_pad); break;
        case 3: accumulate_slice_avx2<6>(o + c, rescale, p, v + c, n_rows, d_pad); break;
        default: break;
    }
}

// AVX2's 16 registers hold one query vector's eight score accumulators, not two: pairs run as singles.
constexpr AttentionTileKernels kAvx2Tiles = {load_row_f16_avx2,
                                             load_row_f32_avx2,
                                             store_row_f16_avx2,
                                             dot_rows_avx2,
                                             dot_rows2_by_singles<dot_rows_avx2>,
                                             max_of_avx2,
                                             exp_sum_avx2,
                                             accumulate_avx2,
                                             accumulate2_by_singles<accumulate_avx2>};

// ---- AVX-512 (F, BW, VL) + FMA + F16C ----
#define LLMATC_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

LLMATC_AVX512 inline __mmask16 lane_mask_avx512(int32_t n) {
    return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1u);
}

LLMATC_AVX512 void load_row_f16_avx512(float* dst, const uint16_t* src, int32_t n, int32_t n_pad) {
    int32_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
    if (i < n) {  // masked load: zeros past n, and no read past the row
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(lane_mask_avx512(n - i), src + i)));
        i += 16;
    }
    for (; i < n_pad; i += 16) _mm512_storeu_ps(dst + i, _mm512_setzero_ps());
}

LLMATC_AVX512 void load_row_f32_avx512(float* dst, const float* src, int32_t n, int32_t n_pad) {
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
    if (i < n) {
        _mm512_storeu_ps(dst + i, _mm512_maskz_loadu_ps(lane_mask_avx512(n - i), src + i));
        i += 16;
    }
    for (; i < n_pad; i += 16) _mm512_storeu_ps(dst + i, _mm512_setzero_ps());
}

LLMATC_AVX512 void store_row_f16_avx512(uint16_t* dst, const float* src, int64_t n) {
    int64_t i = 0;
    constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm512_cvtps_ph(_mm512_loadu_ps(src + i), kRound));
    if (i < n) {
        const __mmask16 mask = lane_mask_avx512(int32_t(n - i));
        _mm256_mask_storeu_epi16(dst + i, mask, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(mask, src + i), kRound));
    }
}

// The sum of a 512-bit register's two 256-bit halves.
LLMATC_AVX512 inline __m256 fold_avx512(__m512 a) {
    return _mm256_add_ps(_mm512_castps512_ps256(a),
                         _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
}

// The eight horizontal sums of acc[0..7], in order.
LLMATC_AVX512 inline __m256 sum8_avx512(const __m512* acc) {
    __m256 folded[8];
    for (int j = 0; j < 8; ++j) folded[j] = fold_avx512(acc[j]);
    return sum8_avx2(folded);
}

LLMATC_AVX512 void dot_rows_avx512(const float* q, const float* k, int32_t d_pad, int32_t n_rows, float* scores) {
    for (int32_t t0 = 0; t0 < n_rows; t0 += kAttentionScoreGroup) {
        __m512 acc[8];
        for (int j = 0; j < 8; ++j) acc[j] = _mm512_setzero_ps();
        const float* kt = k + int64_t(t0) * d_pad;
        for (int32_t c = 0; c < d_pad; c += 16) {
            const __m512 qc = _mm512_loadu_ps(q + c);
            for (int j = 0; j < 8; ++j)
                acc[j] = _mm512_fmadd_ps(qc, _mm512_loadu_ps(kt + int64_t(j) * d_pad + c), acc[j]);
        }
        _mm256_storeu_ps(scores + t0, sum8_avx512(acc));
    }
}

// Each key load feeds both query vectors; per vector, the same operations in the same order as dot_rows_avx512.
LLMATC_AVX512 void dot_rows2_avx512(const float* q0, const float* q1, const float* k, int32_t d_pad, int32_t n_rows,
                                    float* scores0, float* scores1) {
    for (int32_t t0 = 0; t0 < n_rows; t0 += kAttentionScoreGroup) {
        __m512 acc0[8], acc1[8];
        for (int j = 0; j < 8; ++j) acc0[j] = acc1[j] = _mm512_setzero_ps();
        const float* kt = k + int64_t(t0) * d_pad;
        for (int32_t c = 0; c < d_pad; c += 16) {
            const __m512 qc0 = _mm512_loadu_ps(q0 + c), qc1 = _mm512_loadu_ps(q1 + c);
            for (int j = 0; j < 8; ++j) {
                const __m512 kj = _mm512_loadu_ps(kt + int64_t(j) * d_pad + c);
                acc0[j] = _mm512_fmadd_ps(qc0, kj, acc0[j]);
                acc1[j] = _mm512_fmadd_ps(qc1, kj, acc1[j]);
            }
        }
        _mm256_storeu_ps(scores0 + t0, sum8_avx512(acc0));
        _mm256_storeu_ps(scores1 + t0, sum8_avx512(acc1));
    }
}

LLMATC_AVX512 float max_of_avx512(const float* s, int32_t n) {
    __m512 m = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    for (int32_t i = 0; i < n; i += 16)
        m = _mm512_mask_max_ps(m, lane_mask_avx512(n - i), m, _mm512_maskz_loadu_ps(lane_mask_avx512(n - i), s + i));
    return _mm512_reduce_max_ps(m);
}

LLMATC_AVX512 float exp_sum_avx512(float* s, int32_t n, float max) {
    const __m512 vmax = _mm512_set1_ps(max), floor = _mm512_set1_ps(kExpFloor);
    __m512 sum = _mm512_setzero_ps();
    for (int32_t i = 0; i < n; i += 16) {
        const __mmask16 lanes = lane_mask_avx512(n - i);
        const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, s + i), vmax);
        const __mmask16 keep = _mm512_mask_cmp_ps_mask(lanes, d, floor, _CMP_GE_OQ);
        const __m512 e = _mm512_maskz_mov_ps(keep, exp_avx512(_mm512_max_ps(d, floor)));
        _mm512_mask_storeu_ps(s + i, lanes, e);
        sum = _mm512_add_ps(sum, e);
    }
    return _mm512_reduce_add_ps(sum);
}

template <int kRegs>
LLMATC_AVX512 void accumulate_slice_avx512(float* o, float rescale, const float* p, const float* v, int32_t n_rows,
                                           int32_t d_pad) {
    __m512 acc[kRegs];
    const __m512 vs = _mm512_set1_ps(rescale);
    for (int r = 0; r < kRegs; ++r) acc[r] = _mm512_mul_ps(_mm512_loadu_ps(o + 16 * r), vs);
    for (int32_t t = 0; t < n_rows; ++t) {
        const __m512 pt = _mm512_set1_ps(p[t]);
        const float* vt = v + int64_t(t) * d_pad;
        for (int r = 0; r < kRegs; ++r) acc[r] = _mm512_fmadd_ps(pt, _mm512_loadu_ps(vt + 16 * r), acc[r]);
    }
    for (int r = 0; r < kRegs; ++r) _mm512_storeu_ps(o + 16 * r, acc[r]);
}

LLMATC_AVX512 void accumulate_avx512(float* o, float rescale, const float* p, const float* v, int32_t n_rows,
                                     int32_t d_pad) {
    // Slices of 128 floats (8 registers), then the remainder (a multiple of 16).
    int32_t c = 0;
    for (; c + 128 <= d_pad; c += 128) accumulate_slice_avx512<8>(o + c, rescale, p, v + c, n_rows, d_pad);
    switch ((d_pad - c) / 16) {
        case 1: accumulate_slice_avx512<1>(o + c, rescale, p, v + c, n_rows, d_pad); break;
        case 2: accumulate_slice_avx512<2>(o + c, rescale, p, v + c, n_rows, d_pad); break;
        case 3: accumulate_slice_avx512<3>(o + c, rescale, p, v + c, n_rows, d_pad); break;
        case 4: accumulate_slice_avx512<4>(o + c, rescale, p, v + c, n_rows, d_pad); break;
        case 5: accumulate_slice_avx512<5>(o + c, rescale, p, v + c, n_rows, d_pad); break;
        case 6: accumulate_slice_avx512<6>(o + c, rescale, p, v + c, n_rows, d_pad); break;
        case 7: accumulate_slice_avx512<7>(o + c, rescale, p, v + c, n_rows, d_pad); break;
        default: break;
    }
}

template <int kRegs>
LLMATC_AVX512 void accumulate2_slice_avx512(float* o0, float* o1, float rescale0, float rescale1, const float* p0,
                                            const float* p1, const float* v, int32_t n_rows, int32_t d_pad) {
    __m512 acc0[kRegs], acc1[kRegs];
    const __m512 vs0 = _mm512_set1_ps(rescale0), vs1 = _mm512_set1_ps(rescale1);
    for (int r = 0; r < kRegs; ++r) {
        acc0[r] = _mm512_mul_ps(_mm512_loadu_ps(o0 + 16 * r), vs0);
        acc1[r] = _mm512_mul_ps(_mm512_loadu_ps(o1 + 16 * r), vs1);
    }
    for (int32_t t = 0; t < n_rows; ++t) {
        const __m512 pt0 = _mm512_set1_ps(p0[t]), pt1 = _mm512_set1_ps(p1[t]);
        const float* vt = v + int64_t(t) * d_pad;
        for (int r = 0; r < kRegs; ++r) {
            const __m512 vr = _mm512_loadu_ps(vt + 16 * r);
            acc0[r] = _mm512_fmadd_ps(pt0, vr, acc0[r]);
            acc1[r] = _mm512_fmadd_ps(pt1, vr, acc1[r]);
        }
    }
    for (int r = 0; r < kRegs; ++r) {
        _mm512_storeu_ps(o0 + 16 * r, acc0[r]);
        _mm512_storeu_ps(o1 + 16 * r, acc1[r]);
    }
}

// Each value load feeds both outputs; per output, the same operations in the same order as accumulate_avx512.
LLMATC_AVX512 void accumulate2_avx512(float* o0, float* o1, float rescale0, float rescale1, const float* p0,
                                      const float* p1, const float* v, int32_t n_rows, int32_t d_pad) {
    int32_t c = 0;
    for (; c + 128 <= d_pad; c += 128)
        accumulate2_slice_avx512<8>(o0 + c, o1 + c, rescale0, rescale1, p0, p1, v + c, n_rows, d_pad);
    switch ((d_pad - c) / 16) {
        case 1: accumulate2_slice_avx512<1>(o0 + c, o1 + c, rescale0, rescale1, p0, p1, v + c, n_rows, d_pad); break;
        case 2: accumulate2_slice_avx512<2>(o0 + c, o1 + c, rescale0, rescale1, p0, p1, v + c, n_rows, d_pad); break;
        case 3: accumulate2_slice_avx512<3>(o0 + c, o1 + c, rescale0, rescale1, p0, p1, v + c, n_rows, d_pad); break;
        case 4: accumulate2_slice_avx512<4>(o0 + c, o1 + c, rescale0, rescale1, p0, p1, v + c, n_rows, d_pad); break;
        case 5: accumulate2_slice_avx512<5>(o0 + c, o1 + c, rescale0, rescale1, p0, p1, v + c, n_rows, d_pad); break;
        case 6: accumulate2_slice_avx512<6>(o0 + c, o1 + c, rescale0, rescale1, p0, p1, v + c, n_rows, d_pad); break;
        case 7: accumulate2_slice_avx512<7>(o0 + c, o1 + c, rescale0, rescale1, p0, p1, v + c, n_rows, d_pad); break;
        default: break;
    }
}

constexpr AttentionTileKernels kAvx512Tiles = {load_row_f16_avx512,
                                               load_row_f32_avx512,
                                               store_row_f16_avx512,
                                               dot_rows_avx512,
                                               dot_rows2_avx512,
                                               max_of_avx512,
                                               exp_sum_avx512,
                                               accumulate_avx512,
                                               accumulate2_avx512};

#endif  // LLMATC_X86_KERNELS

}  // namespace

const AttentionTileKernels& attention_tile_kernels(Isa isa) {
#if defined(LLMATC_X86_KERNELS)
    switch (isa) {
        case Isa::avx512:
        case Isa::avx512_no_vnni: return kAvx512Tiles;
        case Isa::avx2:
        case Isa::avx2_vnni: return kAvx2Tiles;
        case Isa::scalar: break;
    }
#else
    (void)isa;
#endif
    return kScalarTiles;
}

}  // namespace llmatc::cpu
