// core/kernels/cpu/quant_q5_k_packed.cpp — scalar packing and unpacking of the 16-row interleaved Q5_K layout (see
// quant_q5_k_packed.h for the layout).
#include "kernels/cpu/quant_q5_k_packed.h"

#include <cstring>

namespace llmatc::cpu {

namespace {

uint8_t* group_block(void* packed, int64_t cols, int64_t group, int64_t b) {
    return static_cast<uint8_t*>(packed) + (group * (cols / kQ5KBlock) + b) * kQ5KGroupBlockBytes;
}

const uint8_t* group_block(const void* packed, int64_t cols, int64_t group, int64_t b) {
    return group_block(const_cast<void*>(packed), cols, group, b);
}

// Super-block b of row `row` of a packed weight, gathered back into GGUF's block.
void read_block(const void* packed, int64_t cols, int64_t row, int64_t b, BlockQ5_K& block) {
    const int64_t r = row % kQ4KPackRows;
    const uint8_t* gb = group_block(packed, cols, row / kQ4KPackRows, b);
    gather_q4_k_fields(gb, r, block);
    for (int slice = 0; slice < 8; ++slice)
        std::memcpy(block.qh + 4 * slice, gb + kQ5KPackedHighBits + 64 * slice + 4 * r, 4);
}

}  // namespace

uint64_t packed_q5_k_weight_bytes(int64_t rows, int64_t cols) {
    const int64_t groups = (rows + kQ4KPackRows - 1) / kQ4KPackRows;
    return uint64_t(groups) * uint64_t(cols / kQ5KBlock) * uint64_t(kQ5KGroupBlockBytes);
}

void pack_q5_k_group(const BlockQ5_K* blocks, int64_t rows, int64_t cols, int64_t group, void* packed) {
    const int64_t n_blocks = cols / kQ5KBlock;
    for (int64_t b = 0; b < n_blocks; ++b) {
        uint8_t* gb = group_block(packed, cols, group, b);
        std::memset(gb, 0, size_t(kQ5KGroupBlockBytes));
        for (int64_t r = 0; r < kQ4KPackRows; ++r) {
            const int64_t row = group * kQ4KPackRows + r;
            if (row >= rows) break;  // padding rows stay zero (d = dmin = 0)
            const BlockQ5_K& block = blocks[row * n_blocks + b];
            place_q4_k_fields(block, r, gb);
            for (int slice = 0; slice < 8; ++slice)
                std::memcpy(gb + kQ5KPackedHighBits + 64 * slice + 4 * r, block.qh + 4 * slice, 4);
        }
    }
}

void unpack_q5_k_row(const void* packed, int64_t cols, int64_t row, BlockQ5_K* blocks_out) {
    for (int64_t b = 0; b < cols / kQ5KBlock; ++b) read_block(packed, cols, row, b, blocks_out[b]);
}

void packed_q5_k_row_to_f32(const void* packed, int64_t cols, int64_t row, float* out) {
    for (int64_t b = 0; b < cols / kQ5KBlock; ++b) {
        BlockQ5_K block;
        read_block(packed, cols, row, b, block);
        dequantize_block_q5_k(&block, out + b * kQ5KBlock);
    }
}

}  // namespace llmatc::cpu
