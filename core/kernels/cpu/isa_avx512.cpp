// core/kernels/cpu/isa_avx512.cpp — the AVX-512 kernel tables (16 floats per register; F16C, FMA): the avx512 level
// (VNNI; AVX512-BF16 and AMX where the CPU has them) and the avx512_no_vnni level (Skylake-SP: the same float
// kernels, the AVX2 kernels for quantized weights). Compiled with the AVX-512 flags; a table is used only on a CPU
// that has its level's features.
#include <immintrin.h>

#include "kernels/cpu/amx_support.h"
#include "kernels/cpu/isa_amx_bf16.h"
#include "kernels/cpu/isa_amx_int8.h"
#include "kernels/cpu/isa_avx2_quant.h"
#include "kernels/cpu/isa_avx512_quant.h"
#include "kernels/cpu/isa_simd_impl.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/quant_q4_k_packed.h"
#include "kernels/cpu/quant_q5_k.h"
#include "kernels/cpu/quant_q5_k_packed.h"
#include "kernels/cpu/quant_q6_k.h"
#include "kernels/cpu/quant_q6_k_packed.h"
#include "kernels/cpu/simd_exp.h"

namespace llmatc::cpu {

namespace {

struct Avx512 {
    static constexpr int kLanes = 16;
    using Reg = __m512;
    static Reg zero() { return _mm512_setzero_ps(); }
    static Reg set1(float v) { return _mm512_set1_ps(v); }
    static Reg loadu(const float* p) { return _mm512_loadu_ps(p); }
    static void storeu(float* p, Reg v) { _mm512_storeu_ps(p, v); }
    static Reg load_f16(const uint16_t* p) {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    }
    static Reg load_bf16(const uint16_t* p) {
        const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
        return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
    }
    static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
    static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
    static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
    static float reduce(Reg v) { return _mm512_reduce_add_ps(v); }
};

// Block-quantized weights (Q8_0, Q4_0) are repacked at load and multiplied in isa_avx512_quant.cpp, Q4_K and Q5_K
// ones in isa_avx512_q4k.cpp, Q6_K ones in isa_avx512_q6k.cpp.

bool cpu_has_bf16() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") != 0;
}

// F32, and F16 / BF16 (packed at load, or row order): true when p is one of them.
bool float_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    if (p.packed && avx512_float_packed_matmul(p, row_begin, row_end)) return true;
    switch (p.dtype) {
        case LLMATC_DTYPE_F32: simd::matmul_rows_typed<Avx512, LLMATC_DTYPE_F32>(p, row_begin, row_end); return true;
        case LLMATC_DTYPE_F16: simd::matmul_rows_typed<Avx512, LLMATC_DTYPE_F16>(p, row_begin, row_end); return true;
        case LLMATC_DTYPE_BF16: simd::matmul_rows_typed<Avx512, LLMATC_DTYPE_BF16>(p, row_begin, row_end); return true;
        default: return false;
    }
}

void matmul_rows(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    if (p.x_amx_bf16) {
        amx_bf16_matmul(p, row_begin, row_end);
        return;
    }
    if (p.amx_int8) {
        amx_int8_matmul(p, row_begin, row_end);
        return;
    }
    if (float_matmul(p, row_begin, row_end)) return;
    switch (p.dtype) {
        case LLMATC_DTYPE_Q8_0:
        case LLMATC_DTYPE_Q4_0:
            if (p.packed && avx512_packed_matmul(p, row_begin, row_end)) return;
            break;
        case LLMATC_DTYPE_Q4_K:
            if (p.packed) {
                matmul_rows_q4_k_packed_avx512(p, row_begin, row_end);
                return;
            }
            break;
        case LLMATC_DTYPE_Q6_K:
            if (p.packed) {  // every 2-D Q6_K weight on this level
                matmul_rows_q6_k_packed_avx512(p, row_begin, row_end);
                return;
            }
            break;
        case LLMATC_DTYPE_Q5_K:
            if (p.packed) {  // every 2-D Q5_K weight on this level
                matmul_rows_q5_k_packed_avx512(p, row_begin, row_end);
                return;
            }
            break;
        default: break;
    }
    isa_kernels_scalar().matmul_rows(p, row_begin, row_end);  // any other type
}

// The avx512_no_vnni level: 512-bit float kernels; for quantized weights the AVX2 kernels (vpmaddubsw), which give
// the VNNI kernels' bits.
void matmul_rows_no_vnni(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    if (float_matmul(p, row_begin, row_end)) return;
    if (avx2_packed_quant_matmul(p, row_begin, row_end)) return;  // packed Q8_0 / Q4_0 / Q4_K / Q5_K / Q6_K
    isa_kernels_scalar().matmul_rows(p, row_begin, row_end);
}

// Same result as quantize_block_q8_0: the same amax, d and 1/d, and vcvtps2dq rounds half to even like
// nearbyint in the default rounding mode.
void quantize_row_q8_0(const float* x, void* out, int64_t n) {
    auto* blocks = static_cast<BlockQ8_0*>(out);
    const __m512 sign_clear = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    for (int64_t b = 0; b < n / kQuantBlock; ++b) {
        const __m512 v0 = _mm512_loadu_ps(x + b * kQuantBlock);
        const __m512 v1 = _mm512_loadu_ps(x + b * kQuantBlock + 16);
        const __m512 a = _mm512_max_ps(_mm512_and_ps(v0, sign_clear), _mm512_and_ps(v1, sign_clear));
        const float amax = _mm512_reduce_max_ps(a);
        const float d = amax / 127.0f;
        const float inv_d = d != 0.0f ? 1.0f / d : 0.0f;
        blocks[b].d = f32_to_fp16(d);
        const __m512 scale = _mm512_set1_ps(inv_d);
        const __m128i q0 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, scale)));
        const __m128i q1 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, scale)));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(blocks[b].qs), q0);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(blocks[b].qs + 16), q1);
    }
}

// SiLU(gate) * up, 16 at a time, the tail masked. exp's argument is clamped to [-100, 100]: exp_avx512 saturates
// there already (to 0 and +inf), while a huge argument would wreck its range reduction.
void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
    const __m512 one = _mm512_set1_ps(1.0f), lo = _mm512_set1_ps(-100.0f), hi = _mm512_set1_ps(100.0f);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1u);
        const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
        const __m512 minus_g = _mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), g), lo), hi);
        const __m512 e = simd_exp::exp_avx512(minus_g);
        const __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, e));
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(silu, _mm512_maskz_loadu_ps(m, up + i)));
    }
}

}  // namespace

const IsaKernels& isa_kernels_avx512() {
    static const IsaKernels kernels{Isa::avx512,
                                    "avx512",
                                    matmul_rows,
                                    quantize_row_q8_0,
                                    cpu_has_bf16(),
                                    true,
                                    avx512_quantize_act_row,
                                    true,
                                    silu_mul,
                                    cpu_has_bf16() && amx_bf16_usable(),
                                    amx_bf16_activations,
                                    avx2_quantize_row_q8k,
                                    avx2_quantize_row_q8k16,
                                    amx_int8_usable()};
    return kernels;
}

// Skylake-SP's level: no BF16 dot product or AMX either (those CPUs have neither).
const IsaKernels& isa_kernels_avx512_no_vnni() {
    static const IsaKernels kernels{Isa::avx512_no_vnni,
                                    "avx512-novnni",
                                    matmul_rows_no_vnni,
                                    quantize_row_q8_0,
                                    false,
                                    true,
                                    avx2_quantize_act_row,
                                    true,
                                    silu_mul,
                                    false,
                                    nullptr,
                                    avx2_quantize_row_q8k,
                                    avx2_quantize_row_q8k16};
    return kernels;
}

}  // namespace llmatc::cpu
