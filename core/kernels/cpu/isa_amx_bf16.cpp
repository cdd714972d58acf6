// core/kernels/cpu/isa_amx_bf16.cpp — matmul of packed BF16 weights with BF16 activations on AMX tiles (TDPBF16PS,
// FP32 accumulation), and the activations' conversion. Compiled with AMX and AVX-512 flags; called only where
// amx_bf16_usable().
//
// The packed BF16 layout (float_packed.h) already is AMX's B operand: a group's 16 column pairs of 16 rows x 2
// elements are 16 rows of 64 bytes, one B tile. A tiles are 16 activation rows x 32 columns; C tiles 16 x 16 F32.
// Each step multiplies two activation tiles by two weight groups (4 C, 2 A, 2 B: all 8 tiles).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/amx_tile_config.h"
#include "kernels/cpu/float_packed.h"
#include "kernels/cpu/isa_amx_bf16.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu {

namespace {

// Tile numbers: C (row tile i, group j) is tile 2 i + j; A i is 4 + i; B j is 6 + j.
constexpr int kTileBytes = 1024;
constexpr int kPairsPerStep = 16;  // B tile rows: column pairs per step (32 columns)

// Loads the configuration for activation tiles of m rows (1..16).
void configure_tiles(int m) {
    TileConfig cfg{};
    cfg.palette = 1;
    for (int t = 0; t < 8; ++t) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = uint8_t(t < 6 ? m : 16);
    }
    load_tile_config(cfg);
}

// Scratch for a C tile that covers only part of y (the last rows of the batch or of the weight).
struct alignas(64) PartialTile {
    float v[16 * 16];
};

// Stores a C tile into y's first m_valid rows and cols_valid columns (row stride ldy floats): straight into y when
// the tile is whole, else through scratch. store(dst, stride_bytes) is the tile's _tile_stored (GCC's intrinsic
// takes the tile number as a literal).
template <typename TileStore>
inline void store_c(float* y, int64_t ldy, int m_valid, int cols_valid, TileStore&& store) {
    if (m_valid == 16 && cols_valid == 16) {
        store(y, ldy * int64_t(sizeof(float)));
        return;
    }
    PartialTile scratch;
    store(scratch.v, 64);
    for (int i = 0; i < m_valid; ++i)
        std::memcpy(y + i * ldy, scratch.v + i * 16, size_t(cols_valid) * sizeof(float));
}

// Loads a C tile from y (the partial sums of earlier column chunks), as store_c stored it; the rows and columns
// past y's are zeros.
template <typename TileLoad>
inline void load_c(const float* y, int64_t ldy, int m_valid, int cols_valid, TileLoad&& load) {
    if (m_valid == 16 && cols_valid == 16) {
        load(y, ldy * int64_t(sizeof(float)));
        return;
    }
    PartialTile scratch{};
    for (int i = 0; i < m_valid; ++i)
        std::memcpy(scratch.v + i * 16, y + i * ldy, size_t(cols_valid) * sizeof(float));
    load(scratch.v, 64);
}

// Where one block's four C tiles live in y, and how much of each is real.
struct BlockOutput {
    float* y;  // tile (0, 0): rows t * 16.., columns r..
    int64_t ldy;
    int m0, m1;  // valid rows of the first and second activation tile
    int c0, c1;  // valid columns of the first and second group
};

// C tiles of one block: zeros (the first column chunk) or the partial sums in y.
template <bool kTwoM, bool kTwoG>
void start_block(const BlockOutput& o, bool first) {
    if (first) {
        _tile_zero(0);
        if constexpr (kTwoG) _tile_zero(1);
        if constexpr (kTwoM) _tile_zero(2);
        if constexpr (kTwoM && kTwoG) _tile_zero(3);
        return;
    }
    float* y1 = o.y + 16 * o.ldy;
    load_c(o.y, o.ldy, o.m0, o.c0, [](const void* s, int64_t stride) { _tile_loadd(0, s, stride); });
    if constexpr (kTwoG)
        load_c(o.y + 16, o.ldy, o.m0, o.c1, [](const void* s, int64_t stride) { _tile_loadd(1, s, stride); });
    if constexpr (kTwoM)
        load_c(y1, o.ldy, o.m1, o.c0, [](const void* s, int64_t stride) { _tile_loadd(2, s, stride); });
    if constexpr (kTwoM && kTwoG)
        load_c(y1 + 16, o.ldy, o.m1, o.c1, [](const void* s, int64_t stride) { _tile_loadd(3, s, stride); });
}

template <bool kTwoM, bool kTwoG>
void finish_block(const BlockOutput& o) {
    float* y1 = o.y + 16 * o.ldy;
    store_c(o.y, o.ldy, o.m0, o.c0, [](void* d, int64_t stride) { _tile_stored(0, d, stride); });
    if constexpr (kTwoG)
        store_c(o.y + 16, o.ldy, o.m0, o.c1, [](void* d, int64_t stride) { _tile_stored(1, d, stride); });
    if constexpr (kTwoM) store_c(y1, o.ldy, o.m1, o.c0, [](void* d, int64_t stride) { _tile_stored(2, d, stride); });
    if constexpr (kTwoM && kTwoG)
        store_c(y1 + 16, o.ldy, o.m1, o.c1, [](void* d, int64_t stride) { _tile_stored(3, d, stride); });
}

// Steps [s_begin, s_end) of one block: activation tiles a0 (and a1 when kTwoM) times groups b0 (and b1 when
// kTwoG), into C tiles 0-3. Steps from full_steps on read the groups' last, partial step from tail0 / tail1
// (zero-padded copies: reading on would leave the group).
template <bool kTwoM, bool kTwoG>
void block_steps(const uint8_t* a, int64_t a_stride_bytes, int64_t s_begin, int64_t s_end, int64_t full_steps,
                 const uint8_t* b0, const uint8_t* b1, const uint8_t* tail0, const uint8_t* tail1, bool stream) {
    const int64_t a1_offset = 16 * a_stride_bytes;
    for (int64_t s = s_begin; s < s_end; ++s) {
        const bool full = s < full_steps;
        const uint8_t* w0 = full ? b0 + s * kTileBytes : tail0;
        if (stream) prefetch_stream(w0, kTileBytes);
        _tile_loadd(6, w0, 64);
        _tile_loadd(4, a + s * 64, a_stride_bytes);
        _tile_dpbf16ps(0, 4, 6);
        if constexpr (kTwoG) {
            const uint8_t* w1 = full ? b1 + s * kTileBytes : tail1;
            if (stream) prefetch_stream(w1, kTileBytes);
            _tile_loadd(7, w1, 64);
            _tile_dpbf16ps(1, 4, 7);
        }
        if constexpr (kTwoM) {
            _tile_loadd(5, a + a1_offset + s * 64, a_stride_bytes);
            _tile_dpbf16ps(2, 5, 6);
            if constexpr (kTwoG) _tile_dpbf16ps(3, 5, 7);
        }
    }
}

template <bool kTwoM, bool kTwoG>
void block(const BlockOutput& o, bool first, const uint8_t* a, int64_t a_stride_bytes, int64_t s_begin,
           int64_t s_end, int64_t full_steps, const uint8_t* b0, const uint8_t* b1, const uint8_t* tail0,
           const uint8_t* tail1, bool stream) {
    start_block<kTwoM, kTwoG>(o, first);
    block_steps<kTwoM, kTwoG>(a, a_stride_bytes, s_begin, s_end, full_steps, b0, b1, tail0, tail1, stream);
    finish_block<kTwoM, kTwoG>(o);
}

// A pass covers a column chunk of kChunkSteps steps (2048 columns) for as many activation tiles as keep their A
// rows within kActivationChunkBytes, in L2 while every group of the range passes over them. The chunks stay that
// wide however large the batch: C tiles go back to y between chunks, and chunks that narrowed as the batch grew
// made that traffic grow with it (1.1B BF16: a 1536-token prefill ran at half the tokens/s of a 512-token one).
constexpr int64_t kActivationChunkBytes = 512 << 10;
constexpr int64_t kChunkSteps = 64;
constexpr int64_t kPassTiles = std::max<int64_t>(2, kActivationChunkBytes / (kChunkSteps * 64 * 16) / 2 * 2);

}  // namespace

void amx_bf16_activations(const float* x, int64_t n, int64_t cols, int64_t row_begin, int64_t row_end, uint16_t* out) {
    const int64_t stride = amx_activation_stride(cols);
    const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
    const __m512i round_bias = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1),
                  quiet = _mm512_set1_epi32(0x40);
    for (int64_t r = row_begin; r < row_end; ++r) {
        uint16_t* dst = out + r * stride;
        if (r >= n) {
            std::memset(dst, 0, size_t(stride) * sizeof(uint16_t));
            continue;
        }
        const float* src = x + r * cols;
        for (int64_t k = 0; k < stride; k += 16) {
            const int64_t left = cols - k;
            const __mmask16 m = left >= 16 ? __mmask16(0xffff) : left > 0 ? __mmask16((1u << left) - 1) : 0;
            // f32_to_bf16: round to nearest even; NaN stays NaN (quietened). Zeros past cols (masked loads).
            const __m512i bits = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, src + k));
            const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(bits, abs_mask), inf);
            const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), one);
            const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(round_bias, lsb)), 16);
            const __m512i nan_value = _mm512_or_si512(_mm512_srli_epi32(bits, 16), quiet);
            const __m512i halves = _mm512_mask_blend_epi32(nan, rounded, nan_value);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k), _mm512_cvtepi32_epi16(halves));
        }
    }
}

void amx_bf16_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t K = p.cols;
    const int64_t gbytes = float_packed_group_bytes(LLMATC_DTYPE_BF16, K);
    const auto* w = static_cast<const uint8_t*>(p.w);
    const int64_t pairs = (K + 1) / 2;
    const int64_t full_steps = pairs / kPairsPerStep, steps = (pairs + kPairsPerStep - 1) / kPairsPerStep;
    const int64_t tail_bytes = (pairs - full_steps * kPairsPerStep) * 64;
    const int64_t a_stride_bytes = amx_activation_stride(K) * int64_t(sizeof(uint16_t));
    const int m = int(std::min<int64_t>(16, p.n));
    const int64_t m_tiles = (p.n + 15) / 16;
    // Decode (one tile of activations) streams each weight byte from memory once: prefetch it ahead.
    const bool stream = m_tiles == 1;
    // Column chunks: the C tiles go back to y between chunks (F32, exactly), so the chunking changes no result.
    configure_tiles(m);
    alignas(64) uint8_t tails[2][kTileBytes];
    std::memset(tails, 0, sizeof(tails));
    const auto* a_base = reinterpret_cast<const uint8_t*>(p.x_amx_bf16);
    const int64_t row_passes = (m_tiles + kPassTiles - 1) / kPassTiles;
    const int64_t passes = (steps + kChunkSteps - 1) / kChunkSteps * row_passes;
    for (int64_t pass = 0; pass < passes; ++pass) {  // column chunk by column chunk (y's partial sums in order)
        const int64_t s0 = pass / row_passes * kChunkSteps, s1 = std::min(steps, s0 + kChunkSteps);
        const int64_t t0 = pass % row_passes * kPassTiles, t1 = std::min(m_tiles, t0 + kPassTiles);
        for (int64_t r = row_begin; r < row_end; r += 32) {
            const bool two_g = row_end - r > 16;
            const int cols_last = int(std::min<int64_t>(16, row_end - r - (two_g ? 16 : 0)));
            const uint8_t* b0 = w + (r / 16) * gbytes;
            const uint8_t* b1 = b0 + gbytes;
            if (tail_bytes && s1 == steps) {
                std::memcpy(tails[0], b0 + full_steps * kTileBytes, size_t(tail_bytes));
                if (two_g) std::memcpy(tails[1], b1 + full_steps * kTileBytes, size_t(tail_bytes));
            }
            for (int64_t t = t0; t < t1; t += 2) {  // t0 and kPassTiles are even: a pair never straddles passes
                const bool two_m = t + 1 < t1;
                BlockOutput o{p.y + t * 16 * p.rows + r, p.rows,
                              int(std::min<int64_t>(16, p.n - t * 16)),
                              two_m ? int(std::min<int64_t>(16, p.n - (t + 1) * 16)) : 0,
                              two_g ? 16 : cols_last, two_g ? cols_last : 0};
                const uint8_t* a = a_base + t * 16 * a_stride_bytes;
                const bool first = s0 == 0;
                if (two_m && two_g)
                    block<true, true>(o, first, a, a_stride_bytes, s0, s1, full_steps, b0, b1, tails[0], tails[1],
                                      stream);
                else if (two_m)
                    block<true, false>(o, first, a, a_stride_bytes, s0, s1, full_steps, b0, b1, tails[0], tails[1],
                                       stream);
                else if (two_g)
                    block<false, true>(o, first, a, a_stride_bytes, s0, s1, full_steps, b0, b1, tails[0], tails[1],
                                       stream);
                else
                    block<false, false>(o, first, a, a_stride_bytes, s0, s1, full_steps, b0, b1, tails[0], tails[1],
                                        stream);
            }
        }
    }
    _tile_release();
}

}  // namespace llmatc::cpu
