// core/kernels/cpu/quant_q6_k_packed.h — the 16-row interleaved layout Q6_K weights are repacked into at load for
// the AVX-512 VNNI and AVX2 kernels, with its scalar pack / unpack routines.
//
// Why: read in place, row by row, a Q6_K kernel reduces every row's sums horizontally and unpacks each super-block
// once per weight row, which held its prefill GEMM at about half of Q4_K's. As Q4_K's layout does
// (quant_q4_k_packed.h), interleaving 16 rows puts row r's sums in lane r of one 512-bit register (vpdpbusd with
// the activation's 4 bytes broadcast). The layout holds exactly the file's bytes.
//
// Layout (kQ6KPackRows = 16 rows form a group; the last group is padded with zero rows: d = 0):
//   weight = groups in row order; group = super-blocks in column order; group super-block (3360 bytes) =
//   low bits   32 slices of 64 bytes (offset 0): slice s holds, for row r, bytes 4r..4r+3 = BlockQ6_K::ql[4s..4s+3]
//              of row r
//   high bits  16 slices of 64 bytes (offset 2048): slice t holds, for row r, bytes 4r..4r+3 =
//              BlockQ6_K::qh[4t..4t+3] of row r
//   scales     4 words of 64 bytes (offset 3072): word w holds, for row r, bytes 4r..4r+3 =
//              BlockQ6_K::scales[4w..4w+3] of row r
//   d[16]      IEEE halves, row order (offset 3328, 32 bytes)
// The planes come first so that they start on a cache line in every other super-block (3360 is not a multiple of 64).
// Activations stay BlockQ8K16 (quant_q6_k.h).
#pragma once

#include <cstdint>

#include "kernels/cpu/quant_q6_k.h"

namespace llmatc::cpu {

constexpr int64_t kQ6KPackRows = 16;
constexpr int64_t kQ6KGroupBlockBytes = kQ6KPackRows * int64_t(sizeof(BlockQ6_K));  // 3360
// Byte offsets inside a group super-block.
constexpr int64_t kQ6KPackedHighBits = 2048;
constexpr int64_t kQ6KPackedScales = 3072;
constexpr int64_t kQ6KPackedD = 3328;
static_assert(kQ6KPackedD + 2 * kQ6KPackRows == kQ6KGroupBlockBytes, "the layout holds the 16 blocks' bytes");

// Bytes of a packed [rows, cols] Q6_K weight: rows rounded up to a multiple of 16.
uint64_t packed_q6_k_weight_bytes(int64_t rows, int64_t cols);
// Packs rows [group * 16, group * 16 + 16) of `blocks` (rows of cols / 256 BlockQ6_K; `rows` in all) into the
// group's place in `packed`. Rows past the end become zero rows.
void pack_q6_k_group(const BlockQ6_K* blocks, int64_t rows, int64_t cols, int64_t group, void* packed);
// Row `row` of a packed weight back as cols / 256 BlockQ6_K blocks.
void unpack_q6_k_row(const void* packed, int64_t cols, int64_t row, BlockQ6_K* blocks_out);
// Row `row` of a packed weight dequantized to F32 (cols values), without allocating (embedding lookups).
void packed_q6_k_row_to_f32(const void* packed, int64_t cols, int64_t row, float* out);

// y = x * W^T for a packed Q6_K weight (p.packed, p.x_q8 holding n rows of cols / 256 BlockQ8K16); row_begin is a
// multiple of 16. AVX-512 VNNI (isa_avx512_q6k.cpp): defined only in x86-64 builds; call only on the avx512 level.
// The AVX2 levels' kernel is isa_avx2_quant_impl.h's q6_k_packed_matmul.
void matmul_rows_q6_k_packed_avx512(const MatmulProblem& p, int64_t row_begin, int64_t row_end);

}  // namespace llmatc::cpu
