// core/kernels/cpu/quant_q5_k_packed.h — the 16-row interleaved layout Q5_K weights are repacked into at load for
// the AVX-512 VNNI kernel, with its scalar pack / unpack routines.
//
// Why: read in place, row by row, a Q5_K kernel unpacks every super-block's levels and scales once per weight row
// and reduces each row's sums on its own, which left prefill at under half of llama.cpp's. Q5_K is Q4_K plus a fifth
// bit per element, so it takes Q4_K's interleaved layout (quant_q4_k_packed.h: row r's sums in lane r of one
// 512-bit register) and adds a plane for the fifth bits. The layout holds exactly the file's bytes.
//
// Layout (16 rows form a group; the last group is padded with zero rows: d = dmin = 0):
//   weight = groups in row order; group = super-blocks in column order; group super-block (2816 bytes) =
//   bytes 0..2303      quant_q4_k_packed.h's group super-block, from BlockQ5_K's d, dmin, scales and qs (the nibbles
//                      sit where Q4_K's do)
//   high bits (512 B)  8 slices of 64 bytes, slice j holding, for row r, bytes 4r..4r+3 = BlockQ5_K::qh[4j..4j+3]
//                      of row r: bit s of qh[l] is the fifth bit of element 32s + l.
// Activations stay BlockQ8K (quant_q4_k.h).
#pragma once

#include <cstdint>

#include "kernels/cpu/quant_q4_k_packed.h"
#include "kernels/cpu/quant_q5_k.h"

namespace llmatc::cpu {

constexpr int64_t kQ5KGroupBlockBytes = kQ4KPackRows * int64_t(sizeof(BlockQ5_K));  // 2816
// Byte offset of the high-bit plane inside a group super-block (d, dmin, scales and payload as in Q4_K's).
constexpr int64_t kQ5KPackedHighBits = kQ4KGroupBlockBytes;
static_assert(kQ5KPackedHighBits + 8 * 64 == kQ5KGroupBlockBytes, "a Q5_K group super-block is Q4_K's plus qh");

// Bytes of a packed [rows, cols] Q5_K weight: rows rounded up to a multiple of 16.
uint64_t packed_q5_k_weight_bytes(int64_t rows, int64_t cols);
// Packs rows [group * 16, group * 16 + 16) of `blocks` (rows of cols / 256 BlockQ5_K; `rows` in all) into the
// group's place in `packed`. Rows past the end become zero rows.
void pack_q5_k_group(const BlockQ5_K* blocks, int64_t rows, int64_t cols, int64_t group, void* packed);
// Row `row` of a packed weight back as cols / 256 BlockQ5_K blocks.
void unpack_q5_k_row(const void* packed, int64_t cols, int64_t row, BlockQ5_K* blocks_out);
// Row `row` of a packed weight dequantized to F32 (cols values), without allocating (embedding lookups).
void packed_q5_k_row_to_f32(const void* packed, int64_t cols, int64_t row, float* out);

// y = x * W^T for a packed Q5_K weight (p.packed, p.x_q8 holding n rows of cols / 256 BlockQ8K); row_begin is a
// multiple of 16. AVX-512 VNNI (isa_avx512_q4k.cpp): defined only in x86-64 builds; call only on the avx512 level.
void matmul_rows_q5_k_packed_avx512(const MatmulProblem& p, int64_t row_begin, int64_t row_end);

}  // namespace llmatc::cpu
