// core/kernels/cpu/float_packed.h — the interleaved layout F16 / BF16 weights are repacked into at load for the
// AVX2 and AVX-512 kernels (float_packed_matmul_impl.h); scalar pack and row-read routines.
//
// Why: in row order, a GEMM must reduce each (activation row, weight row) pair's vector horizontally and a GEMV
// streams 8+ separate rows at once. With 16 rows interleaved, element k of rows r..r+15 sits in one register: an
// outer product (activation element broadcast times 16 weights) accumulates 16 outputs per instruction, a thread's
// share of the weight is one sequential stream, and the same bytes feed decode and prefill.
//
// Layout (kFloatPackRows = 16 rows form a group; the last group is padded with zero rows):
//   F16:  groups in bands of kF16BandGroups consecutive groups (64 rows; the last band holds the 1..4 groups left).
//         band = for k in 0..cols-1: for each of the band's groups in order: 16 IEEE halves (the group's rows at
//         column k), 32 bytes per group and k. A GEMV over a band (4 groups side by side, as it reads them) is one
//         sequential stream, not 4 streams 32 * cols bytes apart.
//   BF16: group = for each pair p of columns (2p, 2p+1): 16 x (row's element 2p, row's element 2p+1), 64 bytes per
//         pair — the operand order of vdpbf16ps and, 16 pairs at a time, AMX's B tile; an odd last column is paired
//         with a zero. Groups follow each other (bands of one group).
// Either way a group's data is a sequence of units (F16: one column, 32 bytes; BF16: one column pair, 64 bytes),
// float_packed_group_place's unit_stride bytes apart; band b starts after the groups of the bands before it, so the
// weight is as many bytes as its groups, with no padding between bands.
#pragma once

#include <cstdint>

#include "llmatc/kernels.h"

namespace llmatc::cpu {

constexpr int64_t kFloatPackRows = 16;

// Bytes of one packed group (16 rows) of a [*, cols] F16 / BF16 weight.
int64_t float_packed_group_bytes(llmatc_dtype dtype, int64_t cols);
// Bytes of a packed [rows, cols] weight: rows rounded up to a multiple of 16.
uint64_t float_packed_weight_bytes(llmatc_dtype dtype, int64_t rows, int64_t cols);

// Groups per F16 band (see the layout above).
constexpr int64_t kF16BandGroups = 4;
// Bytes of one unit of a group (F16: a column of 16 rows; BF16: a column pair of 16 rows).
constexpr int64_t float_packed_unit_bytes(llmatc_dtype dtype) { return dtype == LLMATC_DTYPE_F16 ? 32 : 64; }
// Columns one unit covers (F16: 1; BF16: a pair).
constexpr int64_t float_packed_unit_columns(llmatc_dtype dtype) { return dtype == LLMATC_DTYPE_F16 ? 1 : 2; }

// Where group `group` of a packed [rows, cols] weight lives: its first unit at `offset` bytes from the weight's
// start, each next unit `unit_stride` bytes further on. Groups of one band are unit_bytes apart at the same unit.
struct FloatGroupPlace {
    int64_t offset;       // bytes from the start of the weight to the group's unit 0
    int64_t unit_stride;  // bytes from one of the group's units to the next (a band's groups times unit bytes)
};
FloatGroupPlace float_packed_group_place(llmatc_dtype dtype, int64_t rows, int64_t cols, int64_t group);

// Packs `count` rows (row-major [count, cols] of dtype's 16-bit elements at `src`: rows group * 16.. of a
// [rows, cols] weight) into group `group`'s place in the packed weight at `packed`; rows count..15 become zeros.
// Concurrent calls for different groups write disjoint bytes.
void pack_float_group(llmatc_dtype dtype, const uint16_t* src, int64_t count, int64_t rows, int64_t cols,
                      int64_t group, void* packed);
// Element (row, k) of a packed [rows, cols] weight.
uint16_t packed_float_element(llmatc_dtype dtype, const void* packed, int64_t rows, int64_t cols, int64_t row,
                              int64_t k);

// Activations for the packed GEMM, in tiles of kActTileRows rows: tile t holds, for each column k, the values of
// rows 8t..8t+7 side by side (rows past n are zeros), so a kernel broadcasts them from one cache line. The BF16
// form holds, per column pair (2p, 2p+1), each row's two values rounded to BF16 as one 32-bit word (low half 2p).
constexpr int64_t kActTileRows = 8;
inline int64_t act_tiles(int64_t n) { return (n + kActTileRows - 1) / kActTileRows; }
// Writes tiles [tile_begin, tile_end) of x [n, cols]: F32 into out (act_tiles(n) * 8 * cols floats in all), or BF16
// pairs into out_bf16 (act_tiles(n) * 8 * ((cols + 1) / 2) words in all).
void tile_activations_f32(const float* x, int64_t n, int64_t cols, int64_t tile_begin, int64_t tile_end, float* out);
void tile_activations_bf16(const float* x, int64_t n, int64_t cols, int64_t tile_begin, int64_t tile_end,
                           uint32_t* out);
// One row x [cols] as BF16 pairs ((cols + 1) / 2 words, an odd last column paired with zero): the GEMV's
// activations for the BF16 dot product (a tile of one row).
void bf16_pairs_row(const float* x, int64_t cols, uint32_t* out);

}  // namespace llmatc::cpu
