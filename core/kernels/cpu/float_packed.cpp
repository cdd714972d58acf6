// core/kernels/cpu/float_packed.cpp — scalar packing and unpacking of the 16-row interleaved F16 / BF16 layout (see
// float_packed.h).
#include "kernels/cpu/float_packed.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/fp16.h"

namespace llmatc::cpu {

int64_t float_packed_group_bytes(llmatc_dtype dtype, int64_t cols) {
    const int64_t padded_cols = dtype == LLMATC_DTYPE_BF16 ? (cols + 1) / 2 * 2 : cols;
    return padded_cols * kFloatPackRows * 2;
}

uint64_t float_packed_weight_bytes(llmatc_dtype dtype, int64_t rows, int64_t cols) {
    const int64_t groups = (rows + kFloatPackRows - 1) / kFloatPackRows;
    return uint64_t(groups) * uint64_t(float_packed_group_bytes(dtype, cols));
}

FloatGroupPlace float_packed_group_place(llmatc_dtype dtype, int64_t rows, int64_t cols, int64_t group) {
    const int64_t group_bytes = float_packed_group_bytes(dtype, cols);
    const int64_t unit = float_packed_unit_bytes(dtype);
    if (dtype != LLMATC_DTYPE_F16) return {group * group_bytes, unit};
    const int64_t groups = (rows + kFloatPackRows - 1) / kFloatPackRows;
    const int64_t band = group / kF16BandGroups, first = band * kF16BandGroups;
    const int64_t band_groups = std::min(kF16BandGroups, groups - first);
    return {first * group_bytes + (group - first) * unit, band_groups * unit};
}

void pack_float_group(llmatc_dtype dtype, const uint16_t* src, int64_t count, int64_t rows, int64_t cols,
                      int64_t group, void* packed) {
    const FloatGroupPlace place = float_packed_group_place(dtype, rows, cols, group);
    auto* base = static_cast<uint8_t*>(packed) + place.offset;
    const uint16_t* in[kFloatPackRows];
    for (int64_t r = 0; r < count; ++r) in[r] = src + r * cols;
    // Unit by unit (in order along the group's stream), reading the group's rows side by side.
    if (dtype == LLMATC_DTYPE_F16) {
        for (int64_t k = 0; k < cols; ++k) {
            auto* unit = reinterpret_cast<uint16_t*>(base + k * place.unit_stride);
            for (int64_t r = 0; r < kFloatPackRows; ++r) unit[r] = r < count ? in[r][k] : uint16_t(0);
        }
        return;
    }
    for (int64_t k = 0; k < cols; k += 2) {
        auto* pair = reinterpret_cast<uint16_t*>(base + (k / 2) * place.unit_stride);
        for (int64_t r = 0; r < kFloatPackRows; ++r) {
            pair[2 * r] = r < count ? in[r][k] : uint16_t(0);
            pair[2 * r + 1] = r < count && k + 1 < cols ? in[r][k + 1] : uint16_t(0);
        }
    }
}

uint16_t packed_float_element(llmatc_dtype dtype, const void* packed, int64_t rows, int64_t cols, int64_t row,
                              int64_t k) {
    const FloatGroupPlace place = float_packed_group_place(dtype, rows, cols, row / kFloatPackRows);
    const int64_t r = row % kFloatPackRows;
    const int64_t byte = dtype == LLMATC_DTYPE_F16 ? place.offset + k * place.unit_stride + 2 * r
                                                   : place.offset + (k / 2) * place.unit_stride + 4 * r + 2 * (k % 2);
    uint16_t e;
    std::memcpy(&e, static_cast<const uint8_t*>(packed) + byte, sizeof(e));
    return e;
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
