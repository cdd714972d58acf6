// core/kernels/cpu/isa_avx512_float_packed.cpp — AVX-512 matmul for F16 / BF16 weights in the 16-row interleaved
// layout (float_packed.h): float_packed_matmul_impl.h's tiles with one zmm per 16-row group, for prefill 8 rows x 2
// groups (BF16), 8 rows x 1 or 2 groups of F16 converted to F32 (f16_two_group_tiles), for batched decode 4 rows x an
// F16 band's 4 groups, and vdpbf16ps for BF16 weights with BF16 activations. Compiled with AVX-512 (+BF16) flags;
// called only on such CPUs (the BF16 dot product only where the CPU has AVX512-BF16).
#include <immintrin.h>
#include <unistd.h>

#include "kernels/cpu/float_packed_matmul_impl.h"
#include "kernels/cpu/isa_avx512_quant.h"

namespace llmatc::cpu {

namespace {

// Whether F16 prefill's tiles over the converted chunk (convert_f16_chunk) take 2 groups rather than 1: on AMD CPUs
// with a 48 KiB L1 (Zen 5). Each FMA of an 8-row tile broadcasts its activation from memory, and Zen 5 issues two
// such loads a cycle next to its two 512-bit FMAs, so 8 rows x 1 group (9 loads per 8 FMAs) stalls on loads where
// 8 x 2 (10 per 16) does not; its 32 KiB of weights fit that L1. kernels-bench GEMM n = 128, in cache, 2 threads,
// EPYC (family 1Ah), medians of 6 interleaved runs: 8 x 1 ~265, 8 x 2 ~325 GFLOP/s. On a virtualised Xeon (three
// load ports, 48 KiB L1) 8 x 1 measured ~225 and 8 x 2 ~205; Zen 4 has a 32 KiB L1, which 8 x 2's weights would fill.
bool f16_two_group_tiles() {
    __builtin_cpu_init();
    return __builtin_cpu_is("amd") && sysconf(_SC_LEVEL1_DCACHE_SIZE) >= (48 << 10);
}

inline __mmask16 row_mask(int valid) { return valid >= 16 ? __mmask16(0xffff) : __mmask16((1u << valid) - 1); }

// A 16-row group in one zmm (float_packed_matmul_impl.h's traits).
struct Avx512Group {
    using Group = __m512;
    using Scalar = __m512;
    using Bf16Pairs = __m512bh;
    // GEMV: four independent accumulator chains hide the FMA latency.
    static constexpr int kGemvGroups = 4;
    // F16 takes a whole band (4 rows x 4 groups, 16 accumulators) and so reads the band's columns whole: with 8 rows
    // x 2 groups, a step read every other cache line of them, and prefill ran ~15% slower (pp128, 1.1B model;
    // probably the other pair's lines, brought in by the prefetchers, pushing the chunk out of L1).
    static constexpr int kStepRowsF16 = 4;
    static constexpr int kStepGroupsF16 = 4;
    // BF16: 8 rows x 2 groups = 16 accumulators.
    static constexpr int kStepRowsBf16 = 8;
    static constexpr int kStepGroupsBf16 = 2;

    // Each step's address from its column (float_packed_matmul_impl.h's chunk_tile).
    static constexpr bool kAdvanceUnitPointer = false;
    // F16 prefill converts each chunk to F32 once per block and runs 8 rows x 1 or 2 groups on it
    // (convert_f16_chunk; f16_converted_groups() of at most kF16ConvertedGroupsMax).
    static constexpr bool kF16PrefillViaF32 = true;
    static constexpr int kF16ConvertedGroupsMax = 2;
    static int f16_converted_groups() {
        static const int groups = f16_two_group_tiles() ? 2 : 1;
        return groups;
    }

    static Group zero() { return _mm512_setzero_ps(); }
    static Scalar broadcast(float x) { return _mm512_set1_ps(x); }
    static Group load_f16(const uint8_t* unit) {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(unit)));
    }
    static Group load_f32(const uint8_t* unit) { return _mm512_load_ps(reinterpret_cast<const float*>(unit)); }
    static void f16_to_f32(const uint8_t* unit, float* out) { _mm512_store_ps(out, load_f16(unit)); }
    static void load_bf16(const uint8_t* unit, Group& lo, Group& hi) {
        const __m512i pairs = _mm512_loadu_si512(unit);
        lo = _mm512_castsi512_ps(_mm512_slli_epi32(pairs, 16));
        hi = _mm512_castsi512_ps(_mm512_and_si512(pairs, _mm512_set1_epi32(int(0xffff0000u))));
    }
    static Group fmadd(Scalar x, Group w, Group acc) { return _mm512_fmadd_ps(x, w, acc); }
    static Bf16Pairs load_pairs(const uint8_t* unit) { return (__m512bh)_mm512_loadu_si512(unit); }
    static Bf16Pairs broadcast_pair(uint32_t pair) { return (__m512bh)_mm512_set1_epi32(int(pair)); }
    static Group dot_bf16(Group acc, Bf16Pairs x, Bf16Pairs w) { return _mm512_dpbf16_ps(acc, x, w); }
    // The first `valid` rows of acc into out, added to what out holds when `accumulate` (a later chunk of columns).
    static void store(Group acc, float* out, int valid, bool accumulate) {
        const __mmask16 mask = row_mask(valid);
        _mm512_mask_storeu_ps(out, mask, accumulate ? _mm512_add_ps(acc, _mm512_maskz_loadu_ps(mask, out)) : acc);
    }
};

}  // namespace

bool avx512_float_packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    using float_packed_impl::float_packed_matmul;
    switch (p.dtype) {
        case LLMATC_DTYPE_F16:
            float_packed_matmul<Avx512Group, LLMATC_DTYPE_F16, false>(p, row_begin, row_end);
            return true;
        case LLMATC_DTYPE_BF16:
            if (p.x_tiles_bf16)
                float_packed_matmul<Avx512Group, LLMATC_DTYPE_BF16, true>(p, row_begin, row_end);
            else
                float_packed_matmul<Avx512Group, LLMATC_DTYPE_BF16, false>(p, row_begin, row_end);
            return true;
        default: return false;
    }
}

}  // namespace llmatc::cpu
