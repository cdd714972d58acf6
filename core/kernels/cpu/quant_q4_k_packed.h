// core/kernels/cpu/quant_q4_k_packed.h — the 16-row interleaved layout Q4_K weights are repacked into at load for
// the VNNI and AVX2 kernels, with its scalar pack / unpack routines.
//
// Why: row by row, a Q4_K kernel reduces every row's sums horizontally and unpacks each super-block's 6-bit scales
// with scalar bit operations, which made it compute-bound below the memory bandwidth. Interleaving 16 rows puts
// row r's sums in lane r of one 512-bit register (vpdpbusd with the activation's 4 bytes broadcast), and the 16
// rows' scales, mins and d's unpack with a few vector instructions. The layout holds exactly the file's bytes.
//
// Layout (kQ4KPackRows = 16 rows form a group; the last group is padded with zero rows: d = dmin = 0):
//   weight = groups in row order; group = super-blocks in column order; group super-block (2304 bytes) =
//   d[16]     IEEE halves, row order (32 bytes)
//   dmin[16]  IEEE halves, row order (32 bytes)
//   scales    3 words of 64 bytes: word w holds, for row r, bytes 4r..4r+3 = BlockQ4_K::scales[4w..4w+3] of row r
//   payload   32 slices of 64 bytes, slice 8c + j (chunk c = 0..3, j = 0..7) holding, for row r, bytes 4r..4r+3 =
//             BlockQ4_K::qs[32c + 4j .. 32c + 4j + 3] of row r: low nibbles are elements 64c + 4j .. + 3 (sub-block
//             2c), high nibbles elements 64c + 32 + 4j .. + 3 (sub-block 2c + 1).
// Activations stay BlockQ8K (quant_q4_k.h): the kernel broadcasts their bytes at the positions of those elements.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/cpu/quant_q4_k.h"

namespace llmatc::cpu {

constexpr int64_t kQ4KPackRows = 16;
constexpr int64_t kQ4KGroupBlockBytes = kQ4KPackRows * int64_t(sizeof(BlockQ4_K));  // 2304
// Byte offsets inside a group super-block.
constexpr int64_t kQ4KPackedDmin = 32;
constexpr int64_t kQ4KPackedScales = 64;
constexpr int64_t kQ4KPackedPayload = 256;

// Row r's (0..15) d, dmin, scales and qs of one block (a BlockQ4_K, or a BlockQ5_K: the same fields) written into /
// read from their places in a group super-block (Q5_K's group super-blocks begin with Q4_K's layout).
template <typename Block>
inline void place_q4_k_fields(const Block& block, int64_t r, uint8_t* group_block) {
    std::memcpy(group_block + 2 * r, &block.d, 2);
    std::memcpy(group_block + kQ4KPackedDmin + 2 * r, &block.dmin, 2);
    for (int w = 0; w < 3; ++w) std::memcpy(group_block + kQ4KPackedScales + 64 * w + 4 * r, block.scales + 4 * w, 4);
    for (int slice = 0; slice < 32; ++slice)
        std::memcpy(group_block + kQ4KPackedPayload + 64 * slice + 4 * r, block.qs + 4 * slice, 4);
}
template <typename Block>
inline void gather_q4_k_fields(const uint8_t* group_block, int64_t r, Block& block) {
    std::memcpy(&block.d, group_block + 2 * r, 2);
    std::memcpy(&block.dmin, group_block + kQ4KPackedDmin + 2 * r, 2);
    for (int w = 0; w < 3; ++w) std::memcpy(block.scales + 4 * w, group_block + kQ4KPackedScales + 64 * w + 4 * r, 4);
    for (int slice = 0; slice < 32; ++slice)
        std::memcpy(block.qs + 4 * slice, group_block + kQ4KPackedPayload + 64 * slice + 4 * r, 4);
}

// Bytes of a packed [rows, cols] Q4_K weight: rows rounded up to a multiple of 16.
uint64_t packed_q4_k_weight_bytes(int64_t rows, int64_t cols);
// Packs rows [group * 16, group * 16 + 16) of `blocks` (rows of cols / 256 BlockQ4_K; `rows` in all) into the
// group's place in `packed`. Rows past the end become zero rows.
void pack_q4_k_group(const BlockQ4_K* blocks, int64_t rows, int64_t cols, int64_t group, void* packed);
// Row `row` of a packed weight back as cols / 256 BlockQ4_K blocks.
void unpack_q4_k_row(const void* packed, int64_t cols, int64_t row, BlockQ4_K* blocks_out);
// Row `row` of a packed weight dequantized to F32 (cols values), without allocating (embedding lookups).
void packed_q4_k_row_to_f32(const void* packed, int64_t cols, int64_t row, float* out);

// y = x * W^T for a packed Q4_K weight (p.packed, p.x_q8 holding n rows of cols / 256 BlockQ8K); row_begin is a
// multiple of 16. AVX-512 VNNI: defined only in x86-64 builds; call only when the CPU has AVX-512 F/BW/VL and VNNI.
void matmul_rows_q4_k_packed_avx512(const MatmulProblem& p, int64_t row_begin, int64_t row_end);

}  // namespace llmatc::cpu
