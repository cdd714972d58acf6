// core/kernels/cpu/float_packed.h — the interleaved layout F16 / BF16 weights are repacked into at load for the
// AVX-512 kernels; scalar pack and row-read routines.
//
// Why: in row order, a GEMM must reduce each (activation row, weight row) pair's vector horizontally and a GEMV
// streams 8+ separate rows at once. With 16 rows interleaved, element k of rows r..r+15 sits in one register: an
// outer product (activation element broadcast times 16 weights) accumulates 16 outputs per instruction, a thread's
// share of the weight is one sequential stream, and the same bytes feed decode and prefill.
//
// Layout (kFloatPackRows = 16 rows form a group; the last group is padded with zero rows):
//   F16:  group = for k in 0..cols-1: 16 IEEE halves (rows r..r+15 at column k), 32 bytes per k.
//   BF16: group = for each pair p of columns (2p, 2p+1): 16 x (row's element 2p, row's element 2p+1), 64 bytes per
//         pair — the operand order of vdpbf16ps; an odd last column is paired with a zero.
#pragma once

#include <cstdint>

#include "llmatc/kernels.h"

namespace llmatc::cpu {

constexpr int64_t kFloatPackRows = 16;

// Bytes of one packed group (16 rows) of a [*, cols] F16 / BF16 weight.
int64_t float_packed_group_bytes(llmatc_dtype dtype, int64_t cols);
// Bytes of a packed [rows, cols] weight: rows rounded up to a multiple of 16.
uint64_t float_packed_weight_bytes(llmatc_dtype dtype, int64_t rows, int64_t cols);

// Packs rows [group * 16, group * 16 + 16) of `src` (row-major [rows, cols] of dtype's 16-bit elements) into the
// group's place in `packed`. Rows past the end become zeros.
void pack_float_group(llmatc_dtype dtype, const uint16_t* src, int64_t rows, int64_t cols, int64_t group,
                      void* packed);
// Element (row, k) of a packed [*, cols] weight.
uint16_t packed_float_element(llmatc_dtype dtype, const void* packed, int64_t cols, int64_t row, int64_t k);
// Row `row` of a packed weight as its 16-bit elements (cols of them).
void unpack_float_row(llmatc_dtype dtype, const void* packed, int64_t cols, int64_t row, uint16_t* out);

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
