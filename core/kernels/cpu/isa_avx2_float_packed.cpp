// core/kernels/cpu/isa_avx2_float_packed.cpp — AVX2 matmul for F16 / BF16 weights in the 16-row interleaved layout
// (float_packed.h): float_packed_matmul_impl.h's tiles with two ymm per 16-row group, the same per-row arithmetic as
// the AVX-512 kernel (so the same bits). Compiled with AVX2 + FMA + F16C flags; called only on such CPUs.
#include <immintrin.h>

#include "kernels/cpu/float_packed_matmul_impl.h"
#include "kernels/cpu/isa_avx2_quant.h"

namespace llmatc::cpu {

namespace {

// A 16-row group in two ymm: rows 0..7 and 8..15 (float_packed_matmul_impl.h's traits; 16 registers in all).
struct Avx2Group {
    struct Group {
        __m256 lo, hi;
    };
    using Scalar = __m256;
    // GEMV: 4 groups = 8 independent accumulator chains (FMA latency 4 x 2 per cycle).
    static constexpr int kGemvGroups = 4;
    // GEMM, F16: 2 rows x 2 groups = 8 accumulators (kernels-bench n=128, 2 Zen 5 threads: ~210 GFLOP/s; 4 x 1
    // ~172, reading a quarter of each band line; 1 x 4 ~168, converting 8 registers per broadcast; 3 x 2 and 6 x 1,
    // 12 accumulators, ~130-180; an F32 copy of each chunk, converted once and read by every tile, ~165-180).
    static constexpr int kStepRowsF16 = 2;
    static constexpr int kStepGroupsF16 = 2;
    static constexpr int kStepRowsBf16 = 4;
    static constexpr int kStepGroupsBf16 = 1;

    // One pointer per column, advanced (float_packed_matmul_impl.h's chunk_tile).
    static constexpr bool kAdvanceUnitPointer = true;
    // F16 prefill converts each unit in its step (an 8-row x 1-group F32 tile would take all 16 ymm registers).
    static constexpr bool kF16PrefillViaF32 = false;

    static Group zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
    static Scalar broadcast(float x) { return _mm256_set1_ps(x); }
    static Group load_f16(const uint8_t* unit) {
        return {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(unit))),
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(unit + 16)))};
    }
    static void load_bf16(const uint8_t* unit, Group& lo, Group& hi) {
        const __m256i high_half = _mm256_set1_epi32(int(0xffff0000u));
        const __m256i rows0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(unit));
        const __m256i rows8 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(unit + 32));
        lo = {_mm256_castsi256_ps(_mm256_slli_epi32(rows0, 16)), _mm256_castsi256_ps(_mm256_slli_epi32(rows8, 16))};
        hi = {_mm256_castsi256_ps(_mm256_and_si256(rows0, high_half)),
              _mm256_castsi256_ps(_mm256_and_si256(rows8, high_half))};
    }
    static Group fmadd(Scalar x, const Group& w, const Group& acc) {
        return {_mm256_fmadd_ps(x, w.lo, acc.lo), _mm256_fmadd_ps(x, w.hi, acc.hi)};
    }
    // The first `valid` rows of acc into out, added to what out holds when `accumulate` (a later chunk of columns).
    static void store(const Group& acc, float* out, int valid, bool accumulate) {
        if (valid >= 16) {
            if (accumulate) {
                _mm256_storeu_ps(out, _mm256_add_ps(acc.lo, _mm256_loadu_ps(out)));
                _mm256_storeu_ps(out + 8, _mm256_add_ps(acc.hi, _mm256_loadu_ps(out + 8)));
            } else {
                _mm256_storeu_ps(out, acc.lo);
                _mm256_storeu_ps(out + 8, acc.hi);
            }
            return;
        }
        alignas(32) float rows[16];  // a weight's last, partial group: rows past `valid` do not exist in y
        _mm256_store_ps(rows, acc.lo);
        _mm256_store_ps(rows + 8, acc.hi);
        for (int r = 0; r < valid; ++r) out[r] = accumulate ? out[r] + rows[r] : rows[r];
    }
};

}  // namespace

bool avx2_float_packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    using float_packed_impl::float_packed_matmul;
    switch (p.dtype) {
        case LLMATC_DTYPE_F16:
            float_packed_matmul<Avx2Group, LLMATC_DTYPE_F16, false>(p, row_begin, row_end);
            return true;
        case LLMATC_DTYPE_BF16:
            float_packed_matmul<Avx2Group, LLMATC_DTYPE_BF16, false>(p, row_begin, row_end);
            return true;
        default: return false;
    }
}

}  // namespace llmatc::cpu
