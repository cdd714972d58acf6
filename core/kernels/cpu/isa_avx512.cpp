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

// ---- Block-quantized weights (Q8_0, Q4_0) times Q8_0 activations, with VNNI integer dot products. ----
//
// vpdpbusd multiplies unsigned by signed bytes; the activation stays the signed operand. Q8_0 weights are made
// unsigned by adding 128 (w ^ 0x80), and 128 * sum(x) is subtracted; Q4_0 nibbles are already unsigned (0..15),
// and the -8 offset is 8 * sum(x), subtracted. The correction depends on the activation block only, so it is
// computed once per block and shared by every weight row of the tile.

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// The 32 nibbles of a Q4_0 block as bytes: low nibbles (elements 0..15), then high nibbles (16..31).
inline __m256i unpack_q4_0(const uint8_t* qs) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i mask = _mm_set1_epi8(0x0f);
    const __m128i lo = _mm_and_si128(packed, mask);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
    return _mm256_set_m128i(hi, lo);
}

inline __m256i load_256(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

inline float reduce_256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Register tile of NX activation rows by NW weight rows over all blocks of a row.
template <llmatc_dtype D, int NX, int NW>
inline void quant_tile(const BlockQ8_0* x, int64_t blocks, const void* w, int64_t w_row, float* y, int64_t ldy) {
    __m256 acc[NX][NW];
    for (int i = 0; i < NX; ++i)
        for (int j = 0; j < NW; ++j) acc[i][j] = _mm256_setzero_ps();
    const __m256i zero = _mm256_setzero_si256();
    for (int64_t b = 0; b < blocks; ++b) {
        __m256i wq[NW];  // unsigned weight bytes
        float w_scale[NW];
        for (int j = 0; j < NW; ++j) {
            if constexpr (D == LLMATC_DTYPE_Q8_0) {
                const BlockQ8_0& blk = static_cast<const BlockQ8_0*>(w)[(w_row + j) * blocks + b];
                wq[j] = _mm256_xor_si256(load_256(blk.qs), _mm256_set1_epi8(char(0x80)));
                w_scale[j] = half_to_float(blk.d);
            } else {
                const BlockQ4_0& blk = static_cast<const BlockQ4_0*>(w)[(w_row + j) * blocks + b];
                wq[j] = unpack_q4_0(blk.qs);
                w_scale[j] = half_to_float(blk.d);
            }
        }
        for (int i = 0; i < NX; ++i) {
            const BlockQ8_0& xb = x[i * blocks + b];
            const __m256i xq = load_256(xb.qs);
            const float x_scale = half_to_float(xb.d);
            const __m256i offset = _mm256_set1_epi8(D == LLMATC_DTYPE_Q8_0 ? char(0x80) : char(8));
            const __m256i x_correction = _mm256_dpbusd_epi32(zero, offset, xq);
            for (int j = 0; j < NW; ++j) {
                const __m256i dot = _mm256_sub_epi32(_mm256_dpbusd_epi32(zero, wq[j], xq), x_correction);
                acc[i][j] =
                    _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(w_scale[j] * x_scale), acc[i][j]);
            }
        }
    }
    for (int i = 0; i < NX; ++i)
        for (int j = 0; j < NW; ++j) y[i * ldy + j] = reduce_256(acc[i][j]);
}

template <llmatc_dtype D, int NX>
inline void quant_tile_nw(int nw, const BlockQ8_0* x, int64_t blocks, const void* w, int64_t w_row, float* y,
                          int64_t ldy) {
    switch (nw) {
        case 4: quant_tile<D, NX, 4>(x, blocks, w, w_row, y, ldy); return;
        case 3: quant_tile<D, NX, 3>(x, blocks, w, w_row, y, ldy); return;
        case 2: quant_tile<D, NX, 2>(x, blocks, w, w_row, y, ldy); return;
        default: quant_tile<D, NX, 1>(x, blocks, w, w_row, y, ldy); return;
    }
}

// One activation row times four Q4_0 weight rows, all 512 bits wide: the four rows' block b (4 x 16 bytes) fill one
// register, and the per-row scales are spread over their four lanes with one permute. The 256-bit tile above needs
// a scale conversion, broadcast and multiply per row and block, which made Q4_0 decode compute-bound (about 30% of
// the bandwidth bound); this does that work once per four rows.
inline void q4_0_gemv_4rows(const BlockQ8_0* x, int64_t blocks, const BlockQ4_0* w, int64_t w_row, float* y) {
    const BlockQ4_0* rows[4] = {w + (w_row + 0) * blocks, w + (w_row + 1) * blocks, w + (w_row + 2) * blocks,
                                w + (w_row + 3) * blocks};
    const __m512i low_mask = _mm512_set1_epi8(0x0f);
    const __m512i eight = _mm512_set1_epi8(8);
    const __m512i zero = _mm512_setzero_si512();
    // Lane l of the result belongs to row l / 4: spread scale j over lanes 4j..4j+3.
    const __m512i spread = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
        const __m256i w01 = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[1][b].qs)),
                                             _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[0][b].qs)));
        const __m256i w23 = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[3][b].qs)),
                                             _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[2][b].qs)));
        const __m512i packed = _mm512_inserti64x4(_mm512_castsi256_si512(w01), w23, 1);
        const __m512i lo = _mm512_and_si512(packed, low_mask);                         // elements 0..15
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_mask);   // elements 16..31
        const __m512i x_lo = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].qs)));
        const __m512i x_hi =
            _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].qs + 16)));
        const __m512i dot = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, lo, x_lo), hi, x_hi);
        const __m512i correction = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, eight, x_lo), eight, x_hi);
        const __m128i halves = _mm_setr_epi16(short(rows[0][b].d), short(rows[1][b].d), short(rows[2][b].d),
                                              short(rows[3][b].d), 0, 0, 0, 0);
        const __m128 scales = _mm_mul_ps(_mm_cvtph_ps(halves), _mm_set1_ps(half_to_float(x[b].d)));
        const __m512 lane_scales = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(scales));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(dot, correction)), lane_scales, acc);
    }
    // Sum each row's four lanes.
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, acc);
    for (int j = 0; j < 4; ++j) y[j] = (lanes[4 * j] + lanes[4 * j + 1]) + (lanes[4 * j + 2] + lanes[4 * j + 3]);
}

template <llmatc_dtype D>
void matmul_rows_quantized(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t blocks = p.cols / kQuantBlock;
    const auto* xq = static_cast<const BlockQ8_0*>(p.x_q8);
    constexpr int64_t kXBlockRows = 64;  // activation rows kept hot in L2 while the weight tiles pass
    for (int64_t xb = 0; xb < p.n; xb += kXBlockRows) {
        const int64_t nb = std::min(kXBlockRows, p.n - xb);
        for (int64_t r = row_begin; r < row_end; r += 4) {
            const int nw = int(std::min<int64_t>(4, row_end - r));
            int64_t i = 0;
            for (; i + 4 <= nb; i += 4)
                quant_tile_nw<D, 4>(nw, xq + (xb + i) * blocks, blocks, p.w, r, p.y + (xb + i) * p.rows + r, p.rows);
            for (; i < nb; ++i) {
                if (D == LLMATC_DTYPE_Q4_0 && nw == 4) {
                    q4_0_gemv_4rows(xq + (xb + i) * blocks, blocks, static_cast<const BlockQ4_0*>(p.w), r,
                                    p.y + (xb + i) * p.rows + r);
                } else {
                    quant_tile_nw<D, 1>(nw, xq + (xb + i) * blocks, blocks, p.w, r, p.y + (xb + i) * p.rows + r,
                                        p.rows);
                }
            }
        }
    }
}

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
            if (!cpu_has_vnni()) break;
            matmul_rows_quantized<LLMATC_DTYPE_Q8_0>(p, row_begin, row_end);
            return;
        case LLMATC_DTYPE_Q4_0:
            if (!cpu_has_vnni()) break;
            matmul_rows_quantized<LLMATC_DTYPE_Q4_0>(p, row_begin, row_end);
            return;
        default: break;
    }
    isa_kernels_scalar().matmul_rows(p, row_begin, row_end);  // AVX-512 without VNNI
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
                                    cpu_has_bf16()};
    return kernels;
}

}  // namespace llmatc::cpu
