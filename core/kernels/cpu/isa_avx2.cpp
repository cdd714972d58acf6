// core/kernels/cpu/isa_avx2.cpp — the AVX2 + FMA + F16C kernels (8 floats per register). Compiled with those
// flags only; called only when the CPU has them.
#include <immintrin.h>

#include <cmath>

#include "kernels/cpu/isa_avx2_quant.h"
#include "kernels/cpu/isa_simd_impl.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/simd_exp.h"

namespace llmatc::cpu {

namespace {

struct Avx2 {
    static constexpr int kLanes = 8;
    using Reg = __m256;
    static Reg zero() { return _mm256_setzero_ps(); }
    static Reg set1(float v) { return _mm256_set1_ps(v); }
    static Reg loadu(const float* p) { return _mm256_loadu_ps(p); }
    static void storeu(float* p, Reg v) { _mm256_storeu_ps(p, v); }
    static Reg load_f16(const uint16_t* p) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    }
    static Reg load_bf16(const uint16_t* p) {
        const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
    }
    static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
    static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
    static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
    static float reduce(Reg v) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
};

// Packed Q8_0 / Q4_0 / Q4_K / Q5_K / Q6_K through packed_quant (vpmaddubsw or AVX-VNNI), everything else alike.
template <bool (*packed_quant)(const MatmulProblem&, int64_t, int64_t)>
void matmul_rows(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    if (p.packed && avx2_float_packed_matmul(p, row_begin, row_end)) return;  // F16 / BF16 repacked at load
    switch (p.dtype) {
        case LLMATC_DTYPE_F32: simd::matmul_rows_typed<Avx2, LLMATC_DTYPE_F32>(p, row_begin, row_end); return;
        case LLMATC_DTYPE_F16: simd::matmul_rows_typed<Avx2, LLMATC_DTYPE_F16>(p, row_begin, row_end); return;
        case LLMATC_DTYPE_BF16: simd::matmul_rows_typed<Avx2, LLMATC_DTYPE_BF16>(p, row_begin, row_end); return;
        default:
            // Packed Q8_0 / Q4_0 / Q4_K / Q5_K / Q6_K: isa_avx2_quant.cpp, isa_avx2_vnni_quant.cpp.
            if (packed_quant(p, row_begin, row_end)) return;
            isa_kernels_scalar().matmul_rows(p, row_begin, row_end);
            return;
    }
}

void quantize_row_q8_0(const float* x, void* out, int64_t n) {
    auto* blocks = static_cast<BlockQ8_0*>(out);
    for (int64_t b = 0; b < n / kQuantBlock; ++b) quantize_block_q8_0(x + b * kQuantBlock, blocks + b);
}

// SiLU(gate) * up, 8 at a time; exp's argument clamped to [-87, 88], where exp_avx2 is exact to an ulp (outside
// it SiLU is gate or 0 to within a float's precision).
void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
    const __m256 one = _mm256_set1_ps(1.0f), lo = _mm256_set1_ps(-87.0f), hi = _mm256_set1_ps(88.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 minus_g = _mm256_min_ps(_mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), g), lo), hi);
        const __m256 e = simd_exp::exp_avx2(minus_g);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
    }
    for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

// The AVX2 tables, alike but for how packed quantized weights are multiplied.
IsaKernels avx2_table(Isa isa, const char* name, void (*matmul)(const MatmulProblem&, int64_t, int64_t)) {
    return IsaKernels{isa,
                      name,
                      matmul,
                      quantize_row_q8_0,
                      /*has_bf16_dot=*/false,
                      /*packs_quantized=*/true,
                      avx2_quantize_act_row,
                      /*packs_floats=*/true,
                      silu_mul,
                      /*has_amx_bf16=*/false,
                      /*amx_bf16_activations=*/nullptr,
                      avx2_quantize_row_q8k,
                      avx2_quantize_row_q8k16};
}

}  // namespace

const IsaKernels& isa_kernels_avx2() {
    static const IsaKernels kernels = avx2_table(Isa::avx2, "avx2", matmul_rows<avx2_packed_quant_matmul>);
    return kernels;
}

// AVX2 with AVX-VNNI (Alder Lake and later): vpdpbusd for the packed quantized weights.
const IsaKernels& isa_kernels_avx2_vnni() {
    static const IsaKernels kernels =
        avx2_table(Isa::avx2_vnni, "avx2-vnni", matmul_rows<avx2_vnni_packed_quant_matmul>);
    return kernels;
}

}  // namespace llmatc::cpu
