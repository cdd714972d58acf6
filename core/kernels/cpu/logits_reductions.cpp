// core/kernels/cpu/logits_reductions.cpp — argmax and log(sum exp(x)) over a logits row, vectorised for AVX-512 and
// AVX2 (target attributes: this file is built with the baseline flags).
#include "kernels/cpu/logits_reductions.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/simd_exp.h"

#if defined(LLMATC_X86_KERNELS) && defined(__GNUC__) && !defined(__clang__)
// GCC 12's own AVX-512 headers trip these when inlined here (_mm512_undefined_ps is uninitialised by design).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace llmatc::cpu {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// exp of anything below this is under 2^-125, nothing next to the row's largest term (exp(0) = 1), and it keeps
// exp_avx2's 2^n inside the exponent field.
constexpr float kExpFloor = -87.0f;

double log_sum_exp_scalar(const float* x, int64_t n) {
    float max = kNegInf;
    for (int64_t i = 0; i < n; ++i) max = std::max(max, x[i]);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - max);
    return std::log(sum) + max;
}

int32_t row_argmax_scalar(const float* x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i)
        if (x[i] > x[best]) best = i;
    return static_cast<int32_t>(best);
}

#if defined(LLMATC_X86_KERNELS)

#define LLMATC_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define LLMATC_AVX2 __attribute__((target("avx2,fma,f16c")))

// The vector loops' end: their lane sums added in lane order, then log(sum) + max.
double log_of_lane_sums(const double* lanes, int n_lanes, float max) {
    double sum = 0.0;
    for (int i = 0; i < n_lanes; ++i) sum += lanes[i];
    return std::log(sum) + max;
}

// The largest non-NaN entry, -inf when there is none (vmaxps(v, acc) keeps acc where v is NaN; so does the tail's
// comparison). Exact, so both levels give the same value.
LLMATC_AVX512 float row_max_avx512(const float* x, int64_t n) {
    __m512 vmax = _mm512_set1_ps(kNegInf);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1u);
        vmax = _mm512_max_ps(_mm512_mask_loadu_ps(_mm512_set1_ps(kNegInf), m, x + i), vmax);
    }
    return _mm512_reduce_max_ps(vmax);
}

LLMATC_AVX2 float row_max_avx2(const float* x, int64_t n) {
    const int64_t full = n / 8 * 8;
    __m256 vmax = _mm256_set1_ps(kNegInf);
    for (int64_t i = 0; i < full; i += 8) vmax = _mm256_max_ps(_mm256_loadu_ps(x + i), vmax);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, vmax);
    float max = kNegInf;
    for (float v : lanes) max = v > max ? v : max;
    for (int64_t i = full; i < n; ++i) max = x[i] > max ? x[i] : max;
    return max;
}

// Both loops clamp with max(floor, d), floor first: a NaN in d survives (vmaxps returns its second operand when
// either is NaN), so a NaN logit gives a NaN sum as the scalar loop's does.

LLMATC_AVX512 double log_sum_exp_avx512(const float* x, int64_t n) {
    const float max = row_max_avx512(x, n);
    const __m512 vm = _mm512_set1_ps(max), floor = _mm512_set1_ps(kExpFloor);
    // Lane j of acc_lo / acc_hi sums the terms i = j (mod 16) for j < 8 / j >= 8, in order of i.
    __m512d acc_lo = _mm512_setzero_pd(), acc_hi = _mm512_setzero_pd();
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1u);
        const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vm);
        const __m512 e = _mm512_maskz_mov_ps(m, simd_exp::exp_avx512(_mm512_max_ps(floor, d)));
        acc_lo = _mm512_add_pd(acc_lo, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        acc_hi = _mm512_add_pd(acc_hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(e, 1)));
    }
    alignas(64) double lanes[16];
    _mm512_store_pd(lanes, acc_lo);
    _mm512_store_pd(lanes + 8, acc_hi);
    return log_of_lane_sums(lanes, 16, max);
}

LLMATC_AVX2 double log_sum_exp_avx2(const float* x, int64_t n) {
    const int64_t full = n / 8 * 8;
    const float max = row_max_avx2(x, n);
    const __m256 vm = _mm256_set1_ps(max), floor = _mm256_set1_ps(kExpFloor);
    // Lane j of acc_lo / acc_hi sums the terms i = j (mod 8) for j < 4 / j >= 4, in order of i; the tail goes
    // through the same exp with its missing lanes zeroed.
    __m256d acc_lo = _mm256_setzero_pd(), acc_hi = _mm256_setzero_pd();
    alignas(32) float tail[8];
    for (int64_t i = 0; i < n; i += 8) {
        const float* src = x + i;
        __m256 keep = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
        if (i == full) {
            const int64_t left = n - full;
            for (int64_t j = 0; j < 8; ++j) tail[j] = j < left ? x[full + j] : 0.0f;
            src = tail;
            keep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(left)),
                                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
        }
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(src), vm);
        const __m256 e = _mm256_and_ps(keep, simd_exp::exp_avx2(_mm256_max_ps(floor, d)));
        acc_lo = _mm256_add_pd(acc_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        acc_hi = _mm256_add_pd(acc_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    alignas(32) double lanes[8];
    _mm256_store_pd(lanes, acc_lo);
    _mm256_store_pd(lanes + 4, acc_hi);
    return log_of_lane_sums(lanes, 8, max);
}

// The largest non-NaN value, then the first index holding it.
LLMATC_AVX512 int32_t row_argmax_avx512(const float* x, int64_t n) {
    if (std::isnan(x[0])) return 0;
    const __m512 max = _mm512_set1_ps(row_max_avx512(x, n));
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1u);
        const __mmask16 hit = _mm512_mask_cmp_ps_mask(m, _mm512_maskz_loadu_ps(m, x + i), max, _CMP_EQ_OQ);
        if (hit) return static_cast<int32_t>(i + __builtin_ctz(hit));
    }
    return 0;  // not reached: some entry equals max (x[0] is a number, so max is one of the entries)
}

LLMATC_AVX2 int32_t row_argmax_avx2(const float* x, int64_t n) {
    if (std::isnan(x[0])) return 0;
    const int64_t full = n / 8 * 8;
    const float max = row_max_avx2(x, n);
    const __m256 vm = _mm256_set1_ps(max);
    for (int64_t i = 0; i < full; i += 8) {
        const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), vm, _CMP_EQ_OQ));
        if (hit) return static_cast<int32_t>(i + __builtin_ctz(static_cast<unsigned>(hit)));
    }
    for (int64_t i = full; i < n; ++i)
        if (x[i] == max) return static_cast<int32_t>(i);
    return 0;
}

#endif

}  // namespace

float token_logprob(const float* x, int64_t n, int32_t token) {
    return static_cast<float>(x[token] - log_sum_exp(x, n));
}

int32_t row_argmax_at(Isa isa, const float* x, int64_t n) {
#if defined(LLMATC_X86_KERNELS)
    switch (isa) {
        case Isa::avx512:
        case Isa::avx512_no_vnni: return row_argmax_avx512(x, n);
        case Isa::avx2:
        case Isa::avx2_vnni: return row_argmax_avx2(x, n);
        case Isa::scalar: break;
    }
#else
    (void)isa;
#endif
    return row_argmax_scalar(x, n);
}

int32_t row_argmax(const float* x, int64_t n) {
    static const Isa isa = best_isa();
    return row_argmax_at(isa, x, n);
}

double log_sum_exp_at(Isa isa, const float* x, int64_t n) {
#if defined(LLMATC_X86_KERNELS)
    switch (isa) {
        case Isa::avx512:
        case Isa::avx512_no_vnni: return log_sum_exp_avx512(x, n);
        case Isa::avx2:
        case Isa::avx2_vnni: return log_sum_exp_avx2(x, n);
        case Isa::scalar: break;
    }
#else
    (void)isa;
#endif
    return log_sum_exp_scalar(x, n);
}

double log_sum_exp(const float* x, int64_t n) {
    static const Isa isa = best_isa();
    return log_sum_exp_at(isa, x, n);
}

}  // namespace llmatc::cpu
