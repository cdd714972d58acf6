// core/kernels/cpu/quant_q6_k_packed.cpp — scalar packing and unpacking of the 16-row interleaved Q6_K layout (see
// quant_q6_k_packed.h for the layout).
#include "kernels/cpu/quant_q6_k_packed.h"

#include <cstring>

namespace llmatc::cpu {

namespace {

uint8_t* group_block(void* packed, int64_t cols, int64_t group, int64_t b) {
    return static_cast<uint8_t*>(packed) + (group * (cols / kQ6KBlock) + b) * kQ6KGroupBlockBytes;
}

const uint8_t* group_block(const void* packed, int64_t cols, int64_t group, int64_t b) {
    return group_block(const_cast<void*>(packed), cols, group, b);
}

// Row r's (0..15) fields of one block written into / read from their places in a group super-block.
void place_fields(const BlockQ6_K& block, int64_t r, uint8_t* gb) {
    for (int s = 0; s < 32; ++s) std::memcpy(gb + 64 * s + 4 * r, block.ql + 4 * s, 4);
    for (int t = 0; t < 16; ++t) std::memcpy(gb + kQ6KPackedHighBits + 64 * t + 4 * r, block.qh + 4 * t, 4);
    for (int w = 0; w < 4; ++w) std::memcpy(gb + kQ6KPackedScales + 64 * w + 4 * r, block.scales + 4 * w, 4);
    std::memcpy(gb + kQ6KPackedD + 2 * r, &block.d, 2);
}

void gather_fields(const uint8_t* gb, int64_t r, BlockQ6_K& block) {
    for (int s = 0; s < 32; ++s) std::memcpy(block.ql + 4 * s, gb + 64 * s + 4 * r, 4);
    for (int t = 0; t < 16; ++t) std::memcpy(block.qh + 4 * t, gb + kQ6KPackedHighBits + 64 * t + 4 * r, 4);
    for (int w = 0; w < 4; ++w) std::memcpy(block.scales + 4 * w, gb + kQ6KPackedScales + 64 * w + 4 * r, 4);
    std::memcpy(&block.d, gb + kQ6KPackedD + 2 * r, 2);
}

}  // namespace

uint64_t packed_q6_k_weight_bytes(int64_t rows, int64_t cols) {
    const int64_t groups = (rows + kQ6KPackRows - 1) / kQ6KPackRows;
    return uint64_t(groups) * uint64_t(cols / kQ6KBlock) * uint64_t(kQ6KGroupBlockBytes);
}

void pack_q6_k_group(const BlockQ6_K* blocks, int64_t rows, int64_t cols, int64_t group, void* packed) {
    const int64_t n_blocks = cols / kQ6KBlock;
    for (int64_t b = 0; b < n_blocks; ++b) {
        uint8_t* gb = group_block(packed, cols, group, b);
        std::memset(gb, 0, size_t(kQ6KGroupBlockBytes));
        for (int64_t r = 0; r < kQ6KPackRows; ++r) {
            const int64_t row = group * kQ6KPackRows + r;
            if (row >= rows) break;  // padding rows stay zero (d = 0)
            place_fields(blocks[row * n_blocks + b], r, gb);
        }
    }
}

void unpack_q6_k_row(const void* packed, int64_t cols, int64_t row, BlockQ6_K* blocks_out) {
    for (int64_t b = 0; b < cols / kQ6KBlock; ++b)
        gather_fields(group_block(packed, cols, row / kQ6KPackRows, b), row % kQ6KPackRows, blocks_out[b]);
}

void packed_q6_k_row_to_f32(const void* packed, int64_t cols, int64_t row, float* out) {
    for (int64_t b = 0; b < cols / kQ6KBlock; ++b) {
        BlockQ6_K block;
        gather_fields(group_block(packed, cols, row / kQ6KPackRows, b), row % kQ6KPackRows, block);
        dequantize_block_q6_k(&block, out + b * kQ6KBlock);
    }
}

}  // namespace llmatc::cpu
