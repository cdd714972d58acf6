// core/kernels/cpu/isa_avx512_float_packed.cpp — AVX-512 matmul for F16 / BF16 weights in the 16-row interleaved
// layout (float_packed.h): outer-product register tiles over tiled activations for prefill, a streaming GEMV for
// decode, and vdpbf16ps for BF16 weights with BF16 activations. Compiled with AVX-512 (+BF16) flags; called only
// on such CPUs (the BF16 dot product only where the CPU has AVX512-BF16).
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/cpu/float_packed.h"
#include "kernels/cpu/isa_avx512_quant.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu {

namespace {

// The 16 weights of rows r..r+15 at column k (F16), or at columns k and k + 1 (BF16, even k): `lo` holds column k,
// `hi` column k + 1.
template <llmatc_dtype D>
inline void load_weights(const uint8_t* group, int64_t k, __m512& lo, __m512& hi) {
    if constexpr (D == LLMATC_DTYPE_F16) {
        lo = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + k * 32)));
        (void)hi;
    } else {
        const __m512i pairs = _mm512_loadu_si512(group + (k / 2) * 64);
        lo = _mm512_castsi512_ps(_mm512_slli_epi32(pairs, 16));
        hi = _mm512_castsi512_ps(_mm512_and_si512(pairs, _mm512_set1_epi32(int(0xffff0000u))));
    }
}

inline __mmask16 row_mask(int valid) { return valid >= 16 ? __mmask16(0xffff) : __mmask16((1u << valid) - 1); }

// One activation row (F32) times NG consecutive 16-row groups, over all K: decode's GEMV. Each step broadcasts one
// activation element against 16 weights; two accumulator sets (even and odd steps) hide the FMA latency, and each
// chunk of kGemvChunk columns is summed from zero before it joins the total (F32 rounding of a blocked sum).
constexpr int64_t kGemvChunk = 256;
constexpr int kGemvSets = 4;

template <llmatc_dtype D, int NG>
void gemv_tile(const float* x, int64_t K, const uint8_t* group, int64_t group_bytes, float* y, int valid_last) {
    constexpr int kStep = D == LLMATC_DTYPE_F16 ? 1 : 2;
    __m512 total[NG];
    for (int g = 0; g < NG; ++g) total[g] = _mm512_setzero_ps();
    const int64_t k_full = K / kStep * kStep;
    for (int64_t k0 = 0; k0 < k_full; k0 += kGemvChunk) {
        const int64_t k_end = std::min(k_full, k0 + kGemvChunk);
        __m512 acc[kGemvSets][NG];
        for (int s = 0; s < kGemvSets; ++s)
            for (int g = 0; g < NG; ++g) acc[s][g] = _mm512_setzero_ps();
        // One step per accumulator set, unrolled so every set index is a constant (the sets stay in registers).
        auto step = [&](int64_t k, auto set_tag) {
            constexpr int set = decltype(set_tag)::value;
            __m512 lo[NG], hi[NG];
            for (int g = 0; g < NG; ++g) load_weights<D>(group + g * group_bytes, k, lo[g], hi[g]);
            const __m512 x0 = _mm512_set1_ps(x[k]);
            for (int g = 0; g < NG; ++g) acc[set][g] = _mm512_fmadd_ps(x0, lo[g], acc[set][g]);
            if constexpr (D == LLMATC_DTYPE_BF16) {
                const __m512 x1 = _mm512_set1_ps(x[k + 1]);
                for (int g = 0; g < NG; ++g) acc[set][g] = _mm512_fmadd_ps(x1, hi[g], acc[set][g]);
            }
        };
        int64_t k = k0;
        for (; k + kGemvSets * kStep <= k_end; k += kGemvSets * kStep) {
            // Both layouts keep column k's 16 weights at byte 32 k of the group.
            for (int g = 0; g < NG; ++g) prefetch_stream(group + g * group_bytes + k * 32, kGemvSets * kStep * 32);
            step(k, std::integral_constant<int, 0>{});
            step(k + kStep, std::integral_constant<int, 1>{});
            step(k + 2 * kStep, std::integral_constant<int, 2>{});
            step(k + 3 * kStep, std::integral_constant<int, 3>{});
        }
        for (; k < k_end; k += kStep) step(k, std::integral_constant<int, 0>{});
        for (int g = 0; g < NG; ++g)
            for (int s = 0; s < kGemvSets; ++s) total[g] = _mm512_add_ps(total[g], acc[s][g]);
    }
    if (k_full < K) {  // BF16 with an odd K: the last column's partner is a zero weight and has no activation
        __m512 lo[NG], hi[NG];
        for (int g = 0; g < NG; ++g) load_weights<D>(group + g * group_bytes, k_full, lo[g], hi[g]);
        for (int g = 0; g < NG; ++g) total[g] = _mm512_fmadd_ps(_mm512_set1_ps(x[k_full]), lo[g], total[g]);
    }
    for (int g = 0; g < NG; ++g)
        _mm512_mask_storeu_ps(y + 16 * g, row_mask(g == NG - 1 ? valid_last : 16), total[g]);
}

// Stores a tile's accumulators into the first valid_x rows of y, adding what y holds when `accumulate` (a later
// chunk of columns).
template <int NX, int NG>
inline void store_tile(__m512 (&acc)[NX][NG], float* y, int64_t ldy, int valid_x, int valid_last, bool accumulate) {
    for (int i = 0; i < valid_x; ++i)
        for (int g = 0; g < NG; ++g) {
            const __mmask16 mask = row_mask(g == NG - 1 ? valid_last : 16);
            float* out = y + i * ldy + 16 * g;
            const __m512 sum = accumulate ? _mm512_add_ps(acc[i][g], _mm512_maskz_loadu_ps(mask, out)) : acc[i][g];
            _mm512_mask_storeu_ps(out, mask, sum);
        }
}

// One tile of kActTileRows activation rows (tiled F32 activations: per column, the tile's 8 values side by side)
// times NG groups over K columns (one chunk: xt and group point at its first column): per column, NG weight
// vectors and 8 broadcasts feed 8 * NG independent FMAs.
template <llmatc_dtype D, int NG>
void gemm_tile(const float* xt, int64_t K, const uint8_t* group, int64_t group_bytes, float* y, int64_t ldy,
               int valid_x, int valid_last, bool accumulate) {
    constexpr int NX = int(kActTileRows);
    __m512 acc[NX][NG];
    for (int i = 0; i < NX; ++i)
        for (int g = 0; g < NG; ++g) acc[i][g] = _mm512_setzero_ps();
    constexpr int kStep = D == LLMATC_DTYPE_F16 ? 1 : 2;
    for (int64_t k = 0; k < K; k += kStep) {
        __m512 lo[NG], hi[NG];
        for (int g = 0; g < NG; ++g) load_weights<D>(group + g * group_bytes, k, lo[g], hi[g]);
        for (int i = 0; i < NX; ++i) {
            const __m512 x0 = _mm512_set1_ps(xt[k * NX + i]);
            for (int g = 0; g < NG; ++g) acc[i][g] = _mm512_fmadd_ps(x0, lo[g], acc[i][g]);
        }
        if constexpr (D == LLMATC_DTYPE_BF16) {
            if (k + 1 < K)
                for (int i = 0; i < NX; ++i) {
                    const __m512 x1 = _mm512_set1_ps(xt[(k + 1) * NX + i]);
                    for (int g = 0; g < NG; ++g) acc[i][g] = _mm512_fmadd_ps(x1, hi[g], acc[i][g]);
                }
        }
    }
    store_tile<NX, NG>(acc, y, ldy, valid_x, valid_last, accumulate);
}

// As gemm_tile for BF16 weights with tiled BF16 activations (per column pair, the tile's 8 pairs side by side):
// one vdpbf16ps per pair, row of the tile and group, 32 products per instruction.
template <int NG>
void bf16_dot_tile(const uint32_t* xt, int64_t K, const uint8_t* group, int64_t group_bytes, float* y, int64_t ldy,
                   int valid_x, int valid_last, bool accumulate) {
    constexpr int NX = int(kActTileRows);
    __m512 acc[NX][NG];
    for (int i = 0; i < NX; ++i)
        for (int g = 0; g < NG; ++g) acc[i][g] = _mm512_setzero_ps();
    const int64_t pairs = (K + 1) / 2;
    for (int64_t p = 0; p < pairs; ++p) {
        __m512bh w[NG];
        for (int g = 0; g < NG; ++g) w[g] = (__m512bh)_mm512_loadu_si512(group + g * group_bytes + p * 64);
        for (int i = 0; i < NX; ++i) {
            const __m512bh xv = (__m512bh)_mm512_set1_epi32(int(xt[p * NX + i]));
            for (int g = 0; g < NG; ++g) acc[i][g] = _mm512_dpbf16_ps(acc[i][g], xv, w[g]);
        }
    }
    store_tile<NX, NG>(acc, y, ldy, valid_x, valid_last, accumulate);
}

// Activation tiles per block: the thread's weight rows stream from memory once per block, and each group pair
// (64 bytes per column) is then reused from L2 by every tile of the block.
constexpr int64_t kTilesPerBlock = 8;
// Columns per chunk: each chunk's sum starts from zero in registers before it is added to y, which keeps F32
// rounding close to a blocked reduction's rather than one long running sum's. Even, so BF16 column pairs never
// straddle chunks.
constexpr int64_t kKChunk = 256;

template <llmatc_dtype D>
void float_packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t K = p.cols;
    const int64_t gbytes = float_packed_group_bytes(D, K);
    const auto* w = static_cast<const uint8_t*>(p.w);
    // Ranges start on a group boundary; each step takes two groups (32 rows), the last step may take one.
    auto for_each_pair = [&](auto&& body) {
        for (int64_t r = row_begin; r < row_end; r += 2 * kFloatPackRows) {
            const int64_t rows_here = std::min<int64_t>(2 * kFloatPackRows, row_end - r);
            const bool two = rows_here > kFloatPackRows;
            body(r, w + (r / kFloatPackRows) * gbytes, two, int(rows_here - (two ? kFloatPackRows : 0)));
        }
    };
    if (p.n == 1) {
        for_each_pair([&](int64_t r, const uint8_t* group, bool two, int valid_last) {
            gemv_tile<D, 1>(p.x, K, group, gbytes, p.y + r, two ? 16 : valid_last);
            if (two) gemv_tile<D, 1>(p.x, K, group + gbytes, gbytes, p.y + r + 16, valid_last);
        });
        return;
    }
    const bool bf16_dot = D == LLMATC_DTYPE_BF16 && p.x_tiles_bf16;
    const int64_t tiles = (p.n + kActTileRows - 1) / kActTileRows;
    const int64_t pairs = (K + 1) / 2;
    // Bytes of weights per column in a group (F16: 16 halves; BF16: 16 halves, stored in column pairs).
    constexpr int64_t kGroupBytesPerColumn = 32;
    // Loop order: a block of tiles, then a chunk of columns, then the group pairs, then the tiles. The block's x
    // chunk (8 tiles x 256 columns, 64 KiB) stays in L2 while every pair passes; a pair's chunk (16 KiB) stays in L1
    // while the tiles pass; the block's partial sums in y (64 rows x the range) stay in L2 between chunks.
    for (int64_t t0 = 0; t0 < tiles; t0 += kTilesPerBlock) {
        for (int64_t k0 = 0; k0 < K; k0 += kKChunk) {
            const int64_t kc = std::min(kKChunk, K - k0);
            const bool accumulate = k0 > 0;
            for_each_pair([&](int64_t r, const uint8_t* group, bool two, int valid_last) {
                const uint8_t* chunk = group + k0 * kGroupBytesPerColumn;
                for (int64_t t = t0; t < std::min(tiles, t0 + kTilesPerBlock); ++t) {
                    float* y = p.y + t * kActTileRows * p.rows + r;
                    const int valid_x = int(std::min<int64_t>(kActTileRows, p.n - t * kActTileRows));
                    if (bf16_dot) {
                        const uint32_t* xt = p.x_tiles_bf16 + t * kActTileRows * pairs + (k0 / 2) * kActTileRows;
                        if (two)
                            bf16_dot_tile<2>(xt, kc, chunk, gbytes, y, p.rows, valid_x, valid_last, accumulate);
                        else
                            bf16_dot_tile<1>(xt, kc, chunk, gbytes, y, p.rows, valid_x, valid_last, accumulate);
                    } else {
                        const float* xt = p.x_tiles + t * kActTileRows * K + k0 * kActTileRows;
                        if (two)
                            gemm_tile<D, 2>(xt, kc, chunk, gbytes, y, p.rows, valid_x, valid_last, accumulate);
                        else
                            gemm_tile<D, 1>(xt, kc, chunk, gbytes, y, p.rows, valid_x, valid_last, accumulate);
                    }
                }
            });
        }
    }
}

}  // namespace

bool avx512_float_packed_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    switch (p.dtype) {
        case LLMATC_DTYPE_F16: float_packed_matmul<LLMATC_DTYPE_F16>(p, row_begin, row_end); return true;
        case LLMATC_DTYPE_BF16: float_packed_matmul<LLMATC_DTYPE_BF16>(p, row_begin, row_end); return true;
        default: return false;
    }
}

}  // namespace llmatc::cpu
