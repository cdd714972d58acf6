// core/kernels/cpu/quant_q4_k_packed.cpp — scalar packing and unpacking of the 16-row interleaved Q4_K layout (see
// quant_q4_k_packed.h for the layout).
#include "kernels/cpu/quant_q4_k_packed.h"

#include <cstring>

namespace llmatc::cpu {

namespace {

uint8_t* group_block(void* packed, int64_t cols, int64_t group, int64_t b) {
    return static_cast<uint8_t*>(packed) + (group * (cols / kQ4KBlock) + b) * kQ4KGroupBlockBytes;
}

const uint8_t* group_block(const void* packed, int64_t cols, int64_t group, int64_t b) {
    return group_block(const_cast<void*>(packed), cols, group, b);
}

// Super-block b of row `row` of a packed weight, gathered back into GGUF's block.
void read_block(const void* packed, int64_t cols, int64_t row, int64_t b, BlockQ4_K& block) {
    gather_q4_k_fields(group_block(packed, cols, row / kQ4KPackRows, b), row % kQ4KPackRows, block);
}

}  // namespace

uint64_t packed_q4_k_weight_bytes(int64_t rows, int64_t cols) {
    const int64_t groups = (rows + kQ4KPackRows - 1) / kQ4KPackRows;
    return uint64_t(groups) * uint64_t(cols / kQ4KBlock) * uint64_t(kQ4KGroupBlockBytes);
}

void pack_q4_k_group(const BlockQ4_K* blocks, int64_t rows, int64_t cols, int64_t group, void* packed) {
    const int64_t n_blocks = cols / kQ4KBlock;
    for (int64_t b = 0; b < n_blocks; ++b) {
        uint8_t* gb = group_block(packed, cols, group, b);
        std::memset(gb, 0, size_t(kQ4KGroupBlockBytes));
        for (int64_t r = 0; r < kQ4KPackRows; ++r) {
            const int64_t row = group * kQ4KPackRows + r;
            if (row >= rows) break;  // padding rows stay zero (d = dmin = 0)
            place_q4_k_fields(blocks[row * n_blocks + b], r, gb);
        }
    }
}

void unpack_q4_k_row(const void* packed, int64_t cols, int64_t row, BlockQ4_K* blocks_out) {
    for (int64_t b = 0; b < cols / kQ4KBlock; ++b) read_block(packed, cols, row, b, blocks_out[b]);
}

void packed_q4_k_row_to_f32(const void* packed, int64_t cols, int64_t row, float* out) {
    for (int64_t b = 0; b < cols / kQ4KBlock; ++b) {
        BlockQ4_K block;
        read_block(packed, cols, row, b, block);
        dequantize_block_q4_k(&block, out + b * kQ4KBlock);
    }
}

}  // namespace llmatc::cpu
