// core/kernels/cpu/quant_packed.h — the interleaved layout Q8_0 / Q4_0 weights are repacked into at load for the
// VNNI and AVX2 kernels, and the activation format those kernels read; scalar pack / unpack / quantize routines.
//
// Why: in GGUF order a row's blocks are contiguous, so a kernel dotting one activation block with 16 weight rows
// must reduce 16 vectors horizontally and convert 16 scales one by one. Interleaving 16 rows puts row r's partial
// sums in lane r of one 512-bit register: vpdpbusd with the activation's 4 bytes broadcast accumulates all 16 rows
// at once, and the 16 scales convert with one instruction. The packed weight has the same number of bytes.
//
// Layout (kPackRows = 16 rows form a group; the last group is padded with zero rows, scale 0):
//   weight = groups in row order; group = blocks in column order; group block = 16 IEEE-half scales (row order,
//   32 bytes), then the payload:
//   Q8_0: 8 slices of 64 bytes; slice s holds, for row r = 0..15, bytes 4r..4r+3 = qs[4s..4s+3] of row r, each
//         stored as unsigned (q + 128) so vpdpbusd can take the weights as its unsigned operand.
//   Q4_0: 4 slices of 64 bytes; slice s holds, for row r, bytes 4r..4r+3 = the packed bytes qs[4s..4s+3] of row r:
//         low nibbles are elements 4s..4s+3, high nibbles elements 16+4s..16+4s+3 (unsigned 0..15 already).
//
// Activations (one row of K = cols elements): K int8 values (Q8_0's rounding), then K/32 float scales (the IEEE-half
// rounded Q8_0 scale, as F32), then K/32 int32 sums of the block's int8 values, used to undo the +128 / +8 offsets.
#pragma once

#include <cstdint>

#include "llmatc/kernels.h"

namespace llmatc::cpu {

constexpr int64_t kPackRows = 16;

// Bytes of one 16-row group's block (scales + payload): 544 for Q8_0, 288 for Q4_0.
int64_t packed_group_block_bytes(llmatc_dtype dtype);
// Bytes of a packed [rows, cols] weight: rows rounded up to a multiple of 16.
uint64_t packed_weight_bytes(llmatc_dtype dtype, int64_t rows, int64_t cols);

// Packs rows [group * 16, group * 16 + 16) of `blocks` (GGUF order: rows of cols / 32 blocks; `rows` in all) into
// the group's place in `packed`. Rows past the end become zero rows.
void pack_quant_group(llmatc_dtype dtype, const void* blocks, int64_t rows, int64_t cols, int64_t group,
                      void* packed);
// Row `row` of a packed weight back in GGUF order (cols / 32 blocks written to `blocks_out`).
void unpack_quant_row(llmatc_dtype dtype, const void* packed, int64_t cols, int64_t row, void* blocks_out);
// Row `row` of a packed weight dequantized to F32 (cols values), without allocating (embedding lookups).
void packed_row_to_f32(llmatc_dtype dtype, const void* packed, int64_t cols, int64_t row, float* out);

// Bytes of one activation row in the packed kernels' format.
inline int64_t packed_act_row_bytes(int64_t cols) { return cols + (cols / 32) * 8; }
// One activation row of that format, in its three parts: cols int8 values, cols / 32 scales, cols / 32 sums.
struct PackedActRow {
    const int8_t* qs;
    const float* scales;
    const int32_t* sums;
};
// Row i of activations in that format, rows `stride` bytes apart from `base`.
inline PackedActRow packed_act_row(const uint8_t* base, int64_t stride, int64_t cols, int64_t i) {
    const auto* qs = reinterpret_cast<const int8_t*>(base + i * stride);
    const auto* scales = reinterpret_cast<const float*>(qs + cols);
    return {qs, scales, reinterpret_cast<const int32_t*>(scales + cols / 32)};
}
// Quantizes one activation row (cols a multiple of 32) into that format, portably. Every ISA's version must give
// the same bytes.
void quantize_act_row_ref(const float* x, void* out, int64_t cols);

}  // namespace llmatc::cpu
