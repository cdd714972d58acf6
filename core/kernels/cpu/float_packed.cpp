// core/kernels/cpu/float_packed.cpp — scalar packing and unpacking of the 16-row interleaved F16 / BF16 layout (see
// float_packed.h).
#include "kernels/cpu/float_packed.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/fp16.h"

namespace llmatc::cpu {

namespace {

// Index (in 16-bit elements) of row r's element k inside a packed group.
int64_t packed_index(llmatc_dtype dtype, int64_t r, int64_t k) {
    if (dtype == LLMATC_DTYPE_F16) return k * kFloatPackRows + r;
    return (k / 2) * (2 * kFloatPackRows) + 2 * r + (k % 2);
}

}  // namespace

int64_t float_packed_group_bytes(llmatc_dtype dtype, int64_t cols) {
    const int64_t padded_cols = dtype == LLMATC_DTYPE_BF16 ? (cols + 1) / 2 * 2 : cols;
    return padded_cols * kFloatPackRows * 2;
}

uint64_t float_packed_weight_bytes(llmatc_dtype dtype, int64_t rows, int64_t cols) {
    const int64_t groups = (rows + kFloatPackRows - 1) / kFloatPackRows;
    return uint64_t(groups) * uint64_t(float_packed_group_bytes(dtype, cols));
}

void pack_float_group(llmatc_dtype dtype, const uint16_t* src, int64_t rows, int64_t cols, int64_t group,
                      void* packed) {
    const int64_t group_bytes = float_packed_group_bytes(dtype, cols);
    auto* out = reinterpret_cast<uint16_t*>(static_cast<uint8_t*>(packed) + group * group_bytes);
    std::memset(out, 0, size_t(group_bytes));
    const int64_t first = group * kFloatPackRows;
    const int64_t count = std::min<int64_t>(kFloatPackRows, rows - first);
    const uint16_t* in[kFloatPackRows];
    for (int64_t r = 0; r < count; ++r) in[r] = src + (first + r) * cols;
    // Written in order (packed_index's order), reading the group's rows side by side.
    if (dtype == LLMATC_DTYPE_F16) {
        for (int64_t k = 0; k < cols; ++k)
            for (int64_t r = 0; r < count; ++r) out[k * kFloatPackRows + r] = in[r][k];
        return;
    }
    for (int64_t k = 0; k < cols; k += 2) {
        uint16_t* pair = out + k * kFloatPackRows;  // (k / 2) * 2 * kFloatPackRows
        for (int64_t r = 0; r < count; ++r) {
            pair[2 * r] = in[r][k];
            if (k + 1 < cols) pair[2 * r + 1] = in[r][k + 1];
        }
    }
}

uint16_t packed_float_element(llmatc_dtype dtype, const void* packed, int64_t cols, int64_t row, int64_t k) {
    const auto* group = reinterpret_cast<const uint16_t*>(static_cast<const uint8_t*>(packed) +
                                                          (row / kFloatPackRows) * float_packed_group_bytes(dtype, cols));
    return group[packed_index(dtype, row % kFloatPackRows, k)];
}

void unpack_float_row(llmatc_dtype dtype, const void* packed, int64_t cols, int64_t row, uint16_t* out) {
    for (int64_t k = 0; k < cols; ++k) out[k] = packed_float_element(dtype, packed, cols, row, k);
}

void tile_activations_f32(const float* x, int64_t n, int64_t cols, int64_t tile_begin, int64_t tile_end, float* out) {
    for (int64_t t = tile_begin; t < tile_end; ++t) {
        float* tile = out + t * kActTileRows * cols;
        for (int64_t i = 0; i < kActTileRows; ++i) {
            const int64_t row = t * kActTileRows + i;
            for (int64_t k = 0; k < cols; ++k) tile[k * kActTileRows + i] = row < n ? x[row * cols + k] : 0.0f;
        }
    }
}

void bf16_pairs_row(const float* x, int64_t cols, uint32_t* out) {
    for (int64_t p = 0; p < (cols + 1) / 2; ++p)
        out[p] = f32_to_bf16(x[2 * p]) | (2 * p + 1 < cols ? uint32_t(f32_to_bf16(x[2 * p + 1])) << 16 : 0u);
}

void tile_activations_bf16(const float* x, int64_t n, int64_t cols, int64_t tile_begin, int64_t tile_end,
                           uint32_t* out) {
    const int64_t pairs = (cols + 1) / 2;
    for (int64_t t = tile_begin; t < tile_end; ++t) {
        uint32_t* tile = out + t * kActTileRows * pairs;
        for (int64_t i = 0; i < kActTileRows; ++i) {
            const int64_t row = t * kActTileRows + i;
            for (int64_t p = 0; p < pairs; ++p) {
                uint32_t word = 0;
                if (row < n) {
                    const float* v = x + row * cols + 2 * p;
                    word = f32_to_bf16(v[0]) | (2 * p + 1 < cols ? uint32_t(f32_to_bf16(v[1])) << 16 : 0u);
                }
                tile[p * kActTileRows + i] = word;
            }
        }
    }
}

}  // namespace llmatc::cpu
