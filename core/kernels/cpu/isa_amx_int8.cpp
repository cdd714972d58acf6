// core/kernels/cpu/isa_amx_int8.cpp — matmul of packed Q8_0 / Q4_0 weights with Q8_0 activations on AMX tiles
// (TDPBSSD), for prefill. Compiled with AMX and AVX-512 flags; called only where amx_int8_usable().
//
// Per 32-element block, the packed layout (quant_packed.h) already is AMX's B operand: a group block's 8 slices of
// 64 bytes are 8 rows of 16 columns x 4 bytes. A group's blocks are first turned into signed int8 (Q8_0: q + 128
// back to q; Q4_0: nibble - 8) in a scratch copy that every activation tile then reads. A tiles are 16 activation
// rows x 32 bytes straight from the packed activations; C tiles 16 x 16 int32 hold one block's integer dot
// products, which AVX-512 converts, scales by (row scales) x (activation scale) and adds to F32 accumulators, block
// by block in column order: the VNNI kernel's integers and F32 steps, so the same bits.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/isa_amx_int8.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/quant_packed.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu {

namespace {

// The LDTILECFG operand (palette 1).
struct alignas(64) TileConfig {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];  // bytes per row of each tile
    uint8_t rows[16];    // rows of each tile
};
static_assert(sizeof(TileConfig) == 64);

// Tiles: C 0-3 (16 x 16 int32, one block each), A 4-5 (16 activation rows x 32 bytes), B 6-7 (8 rows x 64 bytes).
void configure_tiles() {
    TileConfig cfg{};
    cfg.palette = 1;
    for (int t = 0; t < 4; ++t) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    for (int t = 4; t < 6; ++t) {
        cfg.colsb[t] = 32;
        cfg.rows[t] = 16;
    }
    for (int t = 6; t < 8; ++t) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 8;
    }
    // Not _tile_loadconfig: GCC 12 does not see that its builtin reads cfg and drops the stores above once this is
    // inlined (see isa_amx_bf16.cpp).
    __asm__ volatile("ldtilecfg %0" : : "m"(cfg));
}

constexpr int64_t kBTileBytes = 512;  // one block of a 16-row group: 8 rows of 64 bytes
// Blocks one pass over the activations covers: their A rows (all activation tiles) stay in L2 while every group
// of the thread's range passes over them, and the group's signed copy of them fits the stack buffer.
constexpr int64_t kActivationChunkBytes = 512 << 10;
constexpr int64_t kMaxChunkBlocks = 64;

// A group's blocks [b0, b0 + nb) as signed int8 B tiles (wq, kBTileBytes each) and F32 row scales (16 per block).
template <llmatc_dtype D>
void signed_group_blocks(const uint8_t* group, int64_t b0, int64_t nb, int8_t* wq, float* scales) {
    constexpr int64_t gb_bytes = D == LLMATC_DTYPE_Q8_0 ? 544 : 288;
    const __m512i flip = _mm512_set1_epi8(char(0x80)), low = _mm512_set1_epi8(0x0f), eight = _mm512_set1_epi8(8);
    for (int64_t j = 0; j < nb; ++j) {
        const uint8_t* gb = group + (b0 + j) * gb_bytes;
        prefetch_stream(gb, gb_bytes);
        _mm512_storeu_ps(scales + 16 * j,
                         _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb))));
        const uint8_t* payload = gb + 32;
        int8_t* out = wq + j * kBTileBytes;
        if constexpr (D == LLMATC_DTYPE_Q8_0) {
            for (int s = 0; s < 8; ++s)
                _mm512_storeu_si512(out + 64 * s, _mm512_xor_si512(_mm512_loadu_si512(payload + 64 * s), flip));
        } else {
            // Slice s's low nibbles are elements 4s.. (B rows 0-3), its high nibbles elements 16 + 4s.. (rows 4-7).
            for (int s = 0; s < 4; ++s) {
                const __m512i v = _mm512_loadu_si512(payload + 64 * s);
                const __m512i lo = _mm512_and_si512(v, low);
                const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
                _mm512_storeu_si512(out + 64 * s, _mm512_sub_epi8(lo, eight));
                _mm512_storeu_si512(out + 64 * (s + 4), _mm512_sub_epi8(hi, eight));
            }
        }
    }
}

// acc[i] += (float) c[i] * (w_scales * x_scale[i]) for the 16 rows of one block's C tile (as the VNNI kernel does).
inline void scale_block(__m512* acc, const int32_t* c, const float* w_scales, const float* const* x_scales,
                        int64_t b) {
    const __m512 ws = _mm512_loadu_ps(w_scales);
    for (int i = 0; i < 16; ++i) {
        const __m512 dot = _mm512_cvtepi32_ps(_mm512_load_si512(c + 16 * i));
        acc[i] = _mm512_fmadd_ps(dot, _mm512_mul_ps(ws, _mm512_set1_ps(x_scales[i][b])), acc[i]);
    }
}

// Four consecutive blocks of one activation tile (a: its first block's first row) times a group's signed blocks
// (wq: the first one's B tile): their integer dot products, stored to c[0..3].
inline void tile_step(const uint8_t* a, int64_t stride, const int8_t* wq, int32_t (*c)[256]) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_loadd(4, a, stride);
    _tile_loadd(6, wq, 64);
    _tile_dpbssd(0, 4, 6);
    _tile_loadd(5, a + kQuantBlock, stride);
    _tile_loadd(7, wq + kBTileBytes, 64);
    _tile_dpbssd(1, 5, 7);
    _tile_loadd(4, a + 2 * kQuantBlock, stride);
    _tile_loadd(6, wq + 2 * kBTileBytes, 64);
    _tile_dpbssd(2, 4, 6);
    _tile_loadd(5, a + 3 * kQuantBlock, stride);
    _tile_loadd(7, wq + 3 * kBTileBytes, 64);
    _tile_dpbssd(3, 5, 7);
    _tile_stored(0, c[0], 64);
    _tile_stored(1, c[1], 64);
    _tile_stored(2, c[2], 64);
    _tile_stored(3, c[3], 64);
}

template <llmatc_dtype D>
void matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t cols = p.cols, blocks = cols / kQuantBlock;
    const int64_t group_bytes = blocks * (D == LLMATC_DTYPE_Q8_0 ? 544 : 288);
    const int64_t stride = packed_act_row_bytes(cols);
    const int64_t n_pad = amx_int8_activation_rows(p.n);
    const auto* act = static_cast<const uint8_t*>(p.x_q8);
    const auto* w = static_cast<const uint8_t*>(p.w);
    const int64_t chunk = std::clamp<int64_t>(kActivationChunkBytes / (n_pad * kQuantBlock), 4, kMaxChunkBlocks);
    alignas(64) int8_t wq[kMaxChunkBlocks * kBTileBytes];
    alignas(64) float w_scales[kMaxChunkBlocks * 16];
    alignas(64) int32_t c[2][4][256];
    configure_tiles();
    for (int64_t b0 = 0; b0 < blocks; b0 += chunk) {
        const int64_t nb = std::min(chunk, blocks - b0);
        for (int64_t r = row_begin; r < row_end; r += kPackRows) {
            signed_group_blocks<D>(w + (r / kPackRows) * group_bytes, b0, nb, wq, w_scales);
            const int valid_cols = int(std::min<int64_t>(kPackRows, row_end - r));
            const __mmask16 col_mask = valid_cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << valid_cols) - 1);
            for (int64_t t = 0; t < n_pad; t += 16) {
                const int valid_rows = int(std::min<int64_t>(16, p.n - t));
                const uint8_t* a = act + t * stride;
                const float* x_scales[16];
                for (int i = 0; i < 16; ++i) x_scales[i] = packed_act_row(act, stride, cols, t + i).scales;
                float* y = p.y + t * p.rows + r;
                __m512 acc[16];
                for (int i = 0; i < 16; ++i)
                    acc[i] = b0 == 0 || i >= valid_rows ? _mm512_setzero_ps()
                                                        : _mm512_maskz_loadu_ps(col_mask, y + i * p.rows);
                // Steps of 4 blocks, software-pipelined: the tiles of step j + 1 are computed and stored while
                // AVX-512 scales step j's stored results (a tile store's data reaches loads late).
                const int64_t steps = nb / 4;
                if (steps > 0) tile_step(a + b0 * kQuantBlock, stride, wq, c[0]);
                for (int64_t j = 0; j < steps; ++j) {
                    if (j + 1 < steps)
                        tile_step(a + (b0 + 4 * (j + 1)) * kQuantBlock, stride, wq + 4 * (j + 1) * kBTileBytes,
                                  c[(j + 1) % 2]);
                    for (int k = 0; k < 4; ++k)
                        scale_block(acc, c[j % 2][k], w_scales + 16 * (4 * j + k), x_scales, b0 + 4 * j + k);
                }
                for (int64_t j = 4 * steps; j < nb; ++j) {
                    _tile_zero(0);
                    _tile_loadd(4, a + (b0 + j) * kQuantBlock, stride);
                    _tile_loadd(6, wq + j * kBTileBytes, 64);
                    _tile_dpbssd(0, 4, 6);
                    _tile_stored(0, c[0][0], 64);
                    scale_block(acc, c[0][0], w_scales + 16 * j, x_scales, b0 + j);
                }
                for (int i = 0; i < valid_rows; ++i) _mm512_mask_storeu_ps(y + i * p.rows, col_mask, acc[i]);
            }
        }
    }
    _tile_release();
}

}  // namespace

void amx_int8_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    if (p.dtype == LLMATC_DTYPE_Q8_0) matmul<LLMATC_DTYPE_Q8_0>(p, row_begin, row_end);
    else matmul<LLMATC_DTYPE_Q4_0>(p, row_begin, row_end);
}

}  // namespace llmatc::cpu
