// core/kernels/cpu/quant_packed.cpp — scalar packing and unpacking of the 16-row interleaved Q8_0 / Q4_0 layout and
// the reference activation quantizer (see quant_packed.h for the layout).
#include "kernels/cpu/quant_packed.h"

#include <cstring>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/quant_blocks.h"

namespace llmatc::cpu {

namespace {

constexpr int64_t kScaleBytes = kPackRows * 2;

// The block size and payload bytes per row per block of each packed type.
int64_t block_bytes(llmatc_dtype dtype) {
    return dtype == LLMATC_DTYPE_Q8_0 ? int64_t(sizeof(BlockQ8_0)) : int64_t(sizeof(BlockQ4_0));
}
int64_t payload_bytes_per_row(llmatc_dtype dtype) { return dtype == LLMATC_DTYPE_Q8_0 ? 32 : 16; }

}  // namespace

int64_t packed_group_block_bytes(llmatc_dtype dtype) {
    return kScaleBytes + kPackRows * payload_bytes_per_row(dtype);
}

uint64_t packed_weight_bytes(llmatc_dtype dtype, int64_t rows, int64_t cols) {
    const int64_t groups = (rows + kPackRows - 1) / kPackRows;
    return uint64_t(groups) * uint64_t(cols / kQuantBlock) * uint64_t(packed_group_block_bytes(dtype));
}

void pack_quant_group(llmatc_dtype dtype, const void* blocks, int64_t rows, int64_t cols, int64_t group,
                      void* packed) {
    const int64_t n_blocks = cols / kQuantBlock;
    const int64_t gb_bytes = packed_group_block_bytes(dtype);
    const int64_t payload = payload_bytes_per_row(dtype);
    auto* out = static_cast<uint8_t*>(packed) + group * n_blocks * gb_bytes;
    const auto* in = static_cast<const uint8_t*>(blocks);
    for (int64_t b = 0; b < n_blocks; ++b) {
        uint8_t* gb = out + b * gb_bytes;
        std::memset(gb, 0, size_t(gb_bytes));
        for (int64_t r = 0; r < kPackRows; ++r) {
            const int64_t row = group * kPackRows + r;
            if (row >= rows) break;  // padding rows stay zero (scale 0)
            const uint8_t* block = in + (row * n_blocks + b) * block_bytes(dtype);
            std::memcpy(gb + 2 * r, block, 2);  // the IEEE-half scale
            const uint8_t* qs = block + 2;
            for (int64_t s = 0; s < payload / 4; ++s)
                for (int64_t j = 0; j < 4; ++j) {
                    const uint8_t q = qs[4 * s + j];
                    gb[kScaleBytes + s * 64 + 4 * r + j] = dtype == LLMATC_DTYPE_Q8_0 ? uint8_t(q ^ 0x80) : q;
                }
        }
    }
}

namespace {

// Block b of row r (within its group) of a packed weight, back in GGUF order (block_bytes(dtype) bytes at block_out).
void unpack_block(llmatc_dtype dtype, const uint8_t* group, int64_t b, int64_t r, uint8_t* block_out) {
    const uint8_t* gb = group + b * packed_group_block_bytes(dtype);
    std::memcpy(block_out, gb + 2 * r, 2);
    for (int64_t s = 0; s < payload_bytes_per_row(dtype) / 4; ++s)
        for (int64_t j = 0; j < 4; ++j) {
            const uint8_t q = gb[kScaleBytes + s * 64 + 4 * r + j];
            block_out[2 + 4 * s + j] = dtype == LLMATC_DTYPE_Q8_0 ? uint8_t(q ^ 0x80) : q;
        }
}

const uint8_t* group_of_row(llmatc_dtype dtype, const void* packed, int64_t cols, int64_t row) {
    return static_cast<const uint8_t*>(packed) +
           (row / kPackRows) * (cols / kQuantBlock) * packed_group_block_bytes(dtype);
}

}  // namespace

void unpack_quant_row(llmatc_dtype dtype, const void* packed, int64_t cols, int64_t row, void* blocks_out) {
    const uint8_t* group = group_of_row(dtype, packed, cols, row);
    auto* out = static_cast<uint8_t*>(blocks_out);
    for (int64_t b = 0; b < cols / kQuantBlock; ++b)
        unpack_block(dtype, group, b, row % kPackRows, out + b * block_bytes(dtype));
}

void packed_row_to_f32(llmatc_dtype dtype, const void* packed, int64_t cols, int64_t row, float* out) {
    const uint8_t* group = group_of_row(dtype, packed, cols, row);
    for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
        alignas(4) uint8_t block[sizeof(BlockQ8_0)];
        unpack_block(dtype, group, b, row % kPackRows, block);
        if (dtype == LLMATC_DTYPE_Q8_0) {
            BlockQ8_0 q;
            std::memcpy(&q, block, sizeof q);
            dequantize_block_q8_0(&q, out + b * kQuantBlock);
        } else {
            BlockQ4_0 q;
            std::memcpy(&q, block, sizeof q);
            dequantize_block_q4_0(&q, out + b * kQuantBlock);
        }
    }
}

void quantize_act_row_ref(const float* x, void* out, int64_t cols) {
    const int64_t n_blocks = cols / kQuantBlock;
    auto* qs = static_cast<int8_t*>(out);
    auto* scales = reinterpret_cast<float*>(qs + cols);
    auto* sums = reinterpret_cast<int32_t*>(scales + n_blocks);
    for (int64_t b = 0; b < n_blocks; ++b) {
        BlockQ8_0 block;
        quantize_block_q8_0(x + b * kQuantBlock, &block);
        int32_t sum = 0;
        for (int i = 0; i < 32; ++i) {
            qs[b * kQuantBlock + i] = block.qs[i];
            sum += block.qs[i];
        }
        scales[b] = fp16_to_f32(block.d);
        sums[b] = sum;
    }
}

}  // namespace llmatc::cpu
