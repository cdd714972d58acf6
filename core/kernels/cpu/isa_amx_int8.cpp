// core/kernels/cpu/isa_amx_int8.cpp — matmul of packed Q8_0 / Q4_0 weights with Q8_0 activations (TDPBSSD) and of
// packed Q4_K / Q5_K weights with BlockQ8K activations (TDPBSUD) on AMX tiles, for prefill. Compiled with AMX and
// AVX-512 flags; called only where amx_int8_usable().
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

#include "kernels/cpu/amx_tile_config.h"
#include "kernels/cpu/isa_amx_int8.h"
#include "kernels/cpu/k_quant_scales_avx512.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/quant_packed.h"
#include "kernels/cpu/quant_q4_k_packed.h"
#include "kernels/cpu/quant_q5_k_packed.h"
#include "kernels/cpu/stream_prefetch.h"

namespace llmatc::cpu {

namespace {

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
    load_tile_config(cfg);
}

constexpr int64_t kBTileBytes = 512;  // one block of a 16-row group: 8 rows of 64 bytes
// A pass covers a chunk of columns (kChunkBlocks blocks; the group's signed copy of them fits the stack buffer) for
// as many activation rows as keep their A rows within kActivationChunkBytes, in L2 while every group of the
// thread's range passes over them. The chunks stay that wide however large the batch: partial sums go back to y
// between chunks, and chunks that narrowed as the batch grew made that traffic grow with it (a 1536-token prefill
// ran ~13% slower than on VNNI).
constexpr int64_t kActivationChunkBytes = 512 << 10;
constexpr int64_t kChunkBlocks = 64;

// The passes over a batch of n_pad activation rows and `columns` column units, `chunk` units and pass_rows rows at a
// time, column chunk by column chunk (partial sums in y are taken up in column order).
struct Passes {
    int64_t chunk, pass_rows, row_passes, count;
    Passes(int64_t columns, int64_t chunk_units, int64_t n_pad, int64_t unit_bytes)
        : chunk(chunk_units),
          pass_rows(std::max<int64_t>(16, kActivationChunkBytes / (chunk_units * unit_bytes) / 16 * 16)),
          row_passes((n_pad + pass_rows - 1) / pass_rows),
          count((columns + chunk_units - 1) / chunk_units * row_passes) {}
    int64_t first_column(int64_t pass) const { return pass / row_passes * chunk; }
    int64_t first_row(int64_t pass) const { return pass % row_passes * pass_rows; }
};

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

// The integer dot products of four (A, B) tile pairs, stored to c[0..3]: a[k] is the first of 16 activation rows
// (stride bytes apart) of 32 bytes, b[k] a B tile of 8 rows x 64 bytes; B signed (TDPBSSD) or unsigned (TDPBSUD).
template <bool kSignedB>
inline void tile_step(const uint8_t* const* a, int64_t stride, const uint8_t* const* b, int32_t (*c)[256]) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_loadd(4, a[0], stride);
    _tile_loadd(6, b[0], 64);
    if constexpr (kSignedB) _tile_dpbssd(0, 4, 6);
    else _tile_dpbsud(0, 4, 6);
    _tile_loadd(5, a[1], stride);
    _tile_loadd(7, b[1], 64);
    if constexpr (kSignedB) _tile_dpbssd(1, 5, 7);
    else _tile_dpbsud(1, 5, 7);
    _tile_loadd(4, a[2], stride);
    _tile_loadd(6, b[2], 64);
    if constexpr (kSignedB) _tile_dpbssd(2, 4, 6);
    else _tile_dpbsud(2, 4, 6);
    _tile_loadd(5, a[3], stride);
    _tile_loadd(7, b[3], 64);
    if constexpr (kSignedB) _tile_dpbssd(3, 5, 7);
    else _tile_dpbsud(3, 5, 7);
    _tile_stored(0, c[0], 64);
    _tile_stored(1, c[1], 64);
    _tile_stored(2, c[2], 64);
    _tile_stored(3, c[3], 64);
}

// Four consecutive blocks of one activation tile (a: its first block's first row) times a group's signed blocks
// (wq: the first one's B tile).
inline void block_step(const uint8_t* a, int64_t stride, const int8_t* wq, int32_t (*c)[256]) {
    const uint8_t* as[4] = {a, a + kQuantBlock, a + 2 * kQuantBlock, a + 3 * kQuantBlock};
    const auto* w = reinterpret_cast<const uint8_t*>(wq);
    const uint8_t* bs[4] = {w, w + kBTileBytes, w + 2 * kBTileBytes, w + 3 * kBTileBytes};
    tile_step<true>(as, stride, bs, c);
}

template <llmatc_dtype D>
void matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    const int64_t cols = p.cols, blocks = cols / kQuantBlock;
    const int64_t group_bytes = blocks * (D == LLMATC_DTYPE_Q8_0 ? 544 : 288);
    const int64_t stride = packed_act_row_bytes(cols);
    const int64_t n_pad = amx_int8_activation_rows(p.n);
    const auto* act = static_cast<const uint8_t*>(p.x_q8);
    const auto* w = static_cast<const uint8_t*>(p.w);
    const Passes passes(blocks, kChunkBlocks, n_pad, kQuantBlock);
    alignas(64) int8_t wq[kChunkBlocks * kBTileBytes];
    alignas(64) float w_scales[kChunkBlocks * 16];
    alignas(64) int32_t c[2][4][256];
    configure_tiles();
    for (int64_t pass = 0; pass < passes.count; ++pass) {
        const int64_t b0 = passes.first_column(pass), t0 = passes.first_row(pass);
        const int64_t nb = std::min(kChunkBlocks, blocks - b0), t1 = std::min(n_pad, t0 + passes.pass_rows);
        for (int64_t r = row_begin; r < row_end; r += kPackRows) {
            signed_group_blocks<D>(w + (r / kPackRows) * group_bytes, b0, nb, wq, w_scales);
            const int valid_cols = int(std::min<int64_t>(kPackRows, row_end - r));
            const __mmask16 col_mask = valid_cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << valid_cols) - 1);
            for (int64_t t = t0; t < t1; t += 16) {
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
                if (steps > 0) block_step(a + b0 * kQuantBlock, stride, wq, c[0]);
                for (int64_t j = 0; j < steps; ++j) {
                    if (j + 1 < steps)
                        block_step(a + (b0 + 4 * (j + 1)) * kQuantBlock, stride, wq + 4 * (j + 1) * kBTileBytes,
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

// ---- Q4_K / Q5_K ----
//
// A super-block's 8 sub-blocks of 32 are 8 (A, B) pairs: B holds the group's unsigned levels of the sub-block
// (Q4_K: the packed payload's low or high nibbles; Q5_K: with the fifth bit from the high-bit plane), A the
// activation's 32 bytes of it (BlockQ8K keeps them contiguous). Per row, the VNNI kernel's integer
// sum_s 16 sc[s] dot_s is built from the tiles' dot_s, then the same two F32 steps per super-block.

// A group's super-block prepared once for every activation tile: B tiles of its sub-blocks, each sub-block's 16
// rows' scale times 16 (int32 lanes), the rows' min pairs, d and dmin.
struct alignas(64) PreparedSuperBlock {
    uint8_t levels[kQ4KSubBlocks][kBTileBytes];
    __m512i scale16[kQ4KSubBlocks];
    __m512i min_pairs[4];
    __m512 d, dmin;
};
// Super-blocks one pass covers (2048 columns, as kChunkBlocks).
constexpr int64_t kChunkSuperBlocks = 8;

template <bool kQ5>
void prepare_super_block(const uint8_t* gb, PreparedSuperBlock& out) {
    constexpr int64_t kGroupBlockBytes = kQ5 ? kQ5KGroupBlockBytes : kQ4KGroupBlockBytes;
    prefetch_stream(gb, kGroupBlockBytes);
    const __m512i word0 = _mm512_loadu_si512(gb + kQ4KPackedScales);
    const __m512i word1 = _mm512_loadu_si512(gb + kQ4KPackedScales + 64);
    const __m512i word2 = _mm512_loadu_si512(gb + kQ4KPackedScales + 128);
    for (int sb = 0; sb < kQ4KSubBlocks; ++sb) out.scale16[sb] = _mm512_slli_epi32(scale_of(word0, word2, sb), 4);
    const MinPairs mins(word1, word2);
    for (int p = 0; p < 4; ++p) out.min_pairs[p] = mins.pair[p];
    out.d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb)));
    out.dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb + kQ4KPackedDmin)));
    const __m512i low = _mm512_set1_epi8(0x0f);
    const uint8_t* payload = gb + kQ4KPackedPayload;
    for (int c = 0; c < 4; ++c)
        for (int j = 0; j < 8; ++j) {
            // Slice 8c + j: row j (elements 4j..4j+3) of sub-block 2c (low nibbles) and of 2c + 1 (high nibbles).
            const __m512i v = _mm512_loadu_si512(payload + 64 * (8 * c + j));
            __m512i lo = _mm512_and_si512(v, low), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
            if constexpr (kQ5) {
                const __m512i qh = _mm512_loadu_si512(gb + kQ5KPackedHighBits + 64 * j);
                lo = _mm512_or_si512(lo, fifth_bit(qh, 2 * c));
                hi = _mm512_or_si512(hi, fifth_bit(qh, 2 * c + 1));
            }
            _mm512_store_si512(out.levels[2 * c] + 64 * j, lo);
            _mm512_store_si512(out.levels[2 * c + 1] + 64 * j, hi);
        }
}

template <bool kQ5>
void matmul_k_quant(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    constexpr int64_t kGroupBlockBytes = kQ5 ? kQ5KGroupBlockBytes : kQ4KGroupBlockBytes;
    const int64_t blocks = p.cols / kQ4KBlock;
    const int64_t group_bytes = blocks * kGroupBlockBytes;
    const int64_t stride = q8k_row_bytes(p.cols);
    const int64_t n_pad = amx_int8_activation_rows(p.n);
    const auto* act = static_cast<const uint8_t*>(p.x_q8);
    const auto* w = static_cast<const uint8_t*>(p.w);
    const Passes passes(blocks, kChunkSuperBlocks, n_pad, int64_t(sizeof(BlockQ8K)));
    PreparedSuperBlock prepared[kChunkSuperBlocks];
    alignas(64) int32_t c[2][4][256];
    alignas(64) float acc[16][16];
    configure_tiles();
    for (int64_t pass = 0; pass < passes.count; ++pass) {
        const int64_t b0 = passes.first_column(pass), t0 = passes.first_row(pass);
        const int64_t nb = std::min(kChunkSuperBlocks, blocks - b0), t1 = std::min(n_pad, t0 + passes.pass_rows);
        for (int64_t r = row_begin; r < row_end; r += kPackRows) {
            const uint8_t* group = w + (r / kPackRows) * group_bytes;
            for (int64_t j = 0; j < nb; ++j)
                prepare_super_block<kQ5>(group + (b0 + j) * kGroupBlockBytes, prepared[j]);
            const int valid_cols = int(std::min<int64_t>(kPackRows, row_end - r));
            const __mmask16 col_mask = valid_cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << valid_cols) - 1);
            for (int64_t t = t0; t < t1; t += 16) {
                const int valid_rows = int(std::min<int64_t>(16, p.n - t));
                const uint8_t* a = act + t * stride;
                float* y = p.y + t * p.rows + r;
                for (int i = 0; i < 16; ++i) {
                    const bool fresh = b0 == 0 || i >= valid_rows;
                    const __m512 start = fresh ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(col_mask, y + i * p.rows);
                    _mm512_store_ps(acc[i], start);
                }
                // Steps of half a super-block (4 sub-blocks), software-pipelined as in the Q8_0 kernel.
                auto issue = [&](int64_t q, int32_t (*cq)[256]) {
                    const int64_t j = q / 2;
                    const uint8_t* sb_act = a + (b0 + j) * int64_t(sizeof(BlockQ8K));
                    const uint8_t* as[4];
                    const uint8_t* bs[4];
                    for (int k = 0; k < 4; ++k) {
                        const int sb = 4 * int(q % 2) + k;
                        as[k] = sb_act + q8k_sub_block_offset(sb);
                        bs[k] = prepared[j].levels[sb];
                    }
                    tile_step<false>(as, stride, bs, cq);
                };
                const int64_t steps = 2 * nb;
                __m512i scaled[16];
                issue(0, c[0]);
                for (int64_t q = 0; q < steps; ++q) {
                    if (q + 1 < steps) issue(q + 1, c[(q + 1) % 2]);
                    const PreparedSuperBlock& ps = prepared[q / 2];
                    if (q % 2 == 0)
                        for (int i = 0; i < 16; ++i) scaled[i] = _mm512_setzero_si512();
                    for (int k = 0; k < 4; ++k) {
                        const __m512i sc = ps.scale16[4 * (q % 2) + k];
                        for (int i = 0; i < 16; ++i)
                            scaled[i] = _mm512_add_epi32(
                                scaled[i], _mm512_mullo_epi32(_mm512_load_si512(c[q % 2][k] + 16 * i), sc));
                    }
                    if (q % 2 == 1) {  // the super-block's F32 steps, as the VNNI kernel takes them
                        for (int i = 0; i < 16; ++i) {
                            const auto* xb = reinterpret_cast<const BlockQ8K*>(a + i * stride) + b0 + q / 2;
                            __m512i o = _mm512_dpwssd_epi32(_mm512_setzero_si512(), ps.min_pairs[0],
                                                            broadcast_sum_pair(*xb, 0));
                            o = _mm512_dpwssd_epi32(o, ps.min_pairs[1], broadcast_sum_pair(*xb, 1));
                            o = _mm512_dpwssd_epi32(o, ps.min_pairs[2], broadcast_sum_pair(*xb, 2));
                            o = _mm512_dpwssd_epi32(o, ps.min_pairs[3], broadcast_sum_pair(*xb, 3));
                            const float xd = xb->d;
                            __m512 v = _mm512_load_ps(acc[i]);
                            v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(scaled[i]),
                                                _mm512_mul_ps(ps.d, _mm512_set1_ps(xd * 0.0625f)), v);
                            v = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(o), _mm512_mul_ps(ps.dmin, _mm512_set1_ps(xd)), v);
                            _mm512_store_ps(acc[i], v);
                        }
                    }
                }
                for (int i = 0; i < valid_rows; ++i)
                    _mm512_mask_storeu_ps(y + i * p.rows, col_mask, _mm512_load_ps(acc[i]));
            }
        }
    }
    _tile_release();
}

}  // namespace

void amx_int8_matmul(const MatmulProblem& p, int64_t row_begin, int64_t row_end) {
    switch (p.dtype) {
        case LLMATC_DTYPE_Q8_0: matmul<LLMATC_DTYPE_Q8_0>(p, row_begin, row_end); break;
        case LLMATC_DTYPE_Q4_0: matmul<LLMATC_DTYPE_Q4_0>(p, row_begin, row_end); break;
        case LLMATC_DTYPE_Q4_K: matmul_k_quant<false>(p, row_begin, row_end); break;
        case LLMATC_DTYPE_Q5_K: matmul_k_quant<true>(p, row_begin, row_end); break;
        default: break;  // the caller sets amx_int8 for these types only
    }
}

}  // namespace llmatc::cpu
