// core/kernels/cpu/isa_avx512.cpp — the AVX-512 kernels (16 floats per register; F16C, FMA; VNNI and AVX512-BF16
// where the CPU has them). Compiled with those flags only; called only when the CPU has the base features.
#include <immintrin.h>

#include "kernels/cpu/isa_avx512_quant.h"
#include "kernels/cpu/isa_simd_impl.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/quant_q4_k.h"

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

// Block-quantized weights (Q8_0, Q4_0) are repacked at load and multiplied in isa_avx512_quant.cpp.

// ---- BF16 weights times BF16-rounded activations with vdpbf16ps: 32 products per instruction, twice the F32 FMA
// rate. Used for prefill-sized batches when the backend enables it (it rounds activations to BF16). ----

inline __m512bh load_bf16_pairs(const uint16_t* p) {
    return (__m512bh)_mm512_loadu_si512(p);
}
inline __m512bh load_bf16_pairs_masked(const uint16_t* p, __mmask32 mask) {
    return (__m512bh)_mm512_maskz_loadu_epi16(mask, p);
}

template <int NX, int NW>
inline void bf16_tile(const uint16_t* x, int64_t K, const uint16_t* w, int64_t w_row, float* y, int64_t ldy) {
    __m512 acc[NX][NW];
    for (int i = 0; i < NX; ++i)
        for (int j = 0; j < NW; ++j) acc[i][j] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        __m512bh wv[NW];
        for (int j = 0; j < NW; ++j) wv[j] = load_bf16_pairs(w + (w_row + j) * K + k);
        for (int i = 0; i < NX; ++i) {
            const __m512bh xv = load_bf16_pairs(x + i * K + k);
            for (int j = 0; j < NW; ++j) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], xv, wv[j]);
        }
    }
    if (k < K) {
        const __mmask32 mask = __mmask32((uint64_t(1) << (K - k)) - 1);  // masked-off elements load as +0
        __m512bh wv[NW];
        for (int j = 0; j < NW; ++j) wv[j] = load_bf16_pairs_masked(w + (w_row + j) * K + k, mask);
        for (int i = 0; i < NX; ++i) {
            const __m512bh xv = load_bf16_pairs_masked(x + i * K + k, mask);
            for (int j = 0; j < NW; ++j) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], xv, wv[j]);
        }
    }
    for (int i = 0; i < NX; ++i)
        for (int j = 0; j < NW; ++j) y[i * ldy + j] = _mm512_reduce_add_ps(acc[i][j]);
}

template <int NX>
inline void bf16_tile_nw(int nw, const uint16_t* x, int64_t K, const uint16_t* w, int64_t w_row, float* y,
                         int64_t ldy) {
    switch (nw) {
        case 4: bf16_tile<NX, 4>(x, K, w, w_row, y, ldy); return;
        case 3: bf16_tile<NX, 3>(x, K, w, w_row, y, ldy); return;
        case 2: bf16_tile<NX, 2>(x, K, w, w_row, y, ldy); return;
        default: bf16_tile<NX, 1>(x, K, w, w_row, y, ldy); return;
    }
}

void matmul_rows_bf16_dot(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t K = p.cols;
    const auto* w = static_cast<const uint16_t*>(p.w);
    constexpr int64_t kXBlockRows = 64;
    for (int64_t xb = 0; xb < p.n; xb += kXBlockRows) {
        const int64_t nb = std::min(kXBlockRows, p.n - xb);
        for (int64_t r = row_begin; r < row_end; r += 4) {
            const int nw = int(std::min<int64_t>(4, row_end - r));
            int64_t i = 0;
            for (; i + 4 <= nb; i += 4)
                bf16_tile_nw<4>(nw, p.x_bf16 + (xb + i) * K, K, w, r, p.y + (xb + i) * p.rows + r, p.rows);
            for (; i < nb; ++i)
                bf16_tile_nw<1>(nw, p.x_bf16 + (xb + i) * K, K, w, r, p.y + (xb + i) * p.rows + r, p.rows);
        }
    }
}

bool cpu_has_bf16() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") != 0;
}

bool cpu_has_vnni() {
    static const bool has = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512vnni") != 0;
    }();
    return has;
}

void matmul_rows(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    if (p.packed && (p.dtype == LLMATC_DTYPE_F16 || p.dtype == LLMATC_DTYPE_BF16)) {
        avx512_float_packed_matmul(p, row_begin, row_end);
        return;
    }
    switch (p.dtype) {
        case LLMATC_DTYPE_F32: simd::matmul_rows_typed<Avx512, LLMATC_DTYPE_F32>(p, row_begin, row_end); return;
        case LLMATC_DTYPE_F16: simd::matmul_rows_typed<Avx512, LLMATC_DTYPE_F16>(p, row_begin, row_end); return;
        case LLMATC_DTYPE_BF16:
            if (p.x_bf16) {
                matmul_rows_bf16_dot(p, row_begin, row_end);
            } else {
                simd::matmul_rows_typed<Avx512, LLMATC_DTYPE_BF16>(p, row_begin, row_end);
            }
            return;
        case LLMATC_DTYPE_Q8_0:
        case LLMATC_DTYPE_Q4_0:
            if (p.packed && avx512_packed_matmul(p, row_begin, row_end)) return;
            break;
        case LLMATC_DTYPE_Q4_K: matmul_rows_q4_k_avx512(p, row_begin, row_end); return;
        default: break;
    }
    isa_kernels_scalar().matmul_rows(p, row_begin, row_end);  // unpacked blocks (AVX-512 without VNNI)
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

}  // namespace

const IsaKernels& isa_kernels_avx512() {
    static const IsaKernels kernels{Isa::avx512,
                                    "avx512",
                                    matmul_rows,
                                    simd::dot_f32<Avx512>,
                                    simd::dot_f16<Avx512>,
                                    simd::scale_add_f32<Avx512>,
                                    simd::scale_add_f16<Avx512>,
                                    quantize_row_q8_0,
                                    cpu_has_bf16(),
                                    cpu_has_vnni(),
                                    cpu_has_vnni() ? avx512_quantize_act_row : nullptr,
                                    true};
    return kernels;
}

}  // namespace llmatc::cpu
