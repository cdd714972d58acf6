// core/kernels/cpu/isa_avx512.cpp — the AVX-512 kernels (16 floats per register; F16C, FMA; VNNI and AVX512-BF16
// where the CPU has them). Compiled with those flags only; called only when the CPU has the base features.
#include <immintrin.h>

#include "kernels/cpu/isa_simd_impl.h"
#include "kernels/cpu/quant_blocks.h"

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

void matmul_rows(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    switch (p.dtype) {
        case LLMATC_DTYPE_F32: simd::matmul_rows_typed<Avx512, LLMATC_DTYPE_F32>(p, row_begin, row_end); return;
        case LLMATC_DTYPE_F16: simd::matmul_rows_typed<Avx512, LLMATC_DTYPE_F16>(p, row_begin, row_end); return;
        case LLMATC_DTYPE_BF16: simd::matmul_rows_typed<Avx512, LLMATC_DTYPE_BF16>(p, row_begin, row_end); return;
        default: isa_kernels_scalar().matmul_rows(p, row_begin, row_end); return;
    }
}

void quantize_row_q8_0(const float* x, void* out, int64_t n) {
    auto* blocks = static_cast<BlockQ8_0*>(out);
    for (int64_t b = 0; b < n / kQuantBlock; ++b) quantize_block_q8_0(x + b * kQuantBlock, blocks + b);
}

}  // namespace

const IsaKernels& isa_kernels_avx512() {
    static const IsaKernels kernels{Isa::avx512,
                                    "avx512",
                                    matmul_rows,
                                    simd::dot_f32<Avx512>,
                                    simd::dot_f16<Avx512>,
                                    simd::scale_add_f32<Avx512>,
                                    simd::scale_add_f16<Avx512>,
                                    quantize_row_q8_0};
    return kernels;
}

}  // namespace llmatc::cpu
