// core/checkpoint/tensor_entry.h — one tensor found in a checkpoint file: its dtype, shape and where its bytes live.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llmatc/kernels.h"

namespace llmatc::checkpoint_detail {

// A tensor located by a reader. `data` points into memory owned by the reader that produced it (a read-only
// file mapping, or a buffer holding a decompressed zip entry) and is valid while that reader lives.
struct TensorEntry {
    std::string name;
    llmatc_dtype dtype = LLMATC_DTYPE_F32;
    std::vector<int64_t> shape;  // outermost first; empty for a 0-d scalar
    const void* data = nullptr;
    uint64_t nbytes = 0;         // == product(shape) * element size, checked by the reader
    // GGUF q/k weights: > 0 when the rows of each of this many heads are stored in llama.cpp's interleaved rotary
    // order (validated: rows split into heads of even size); the checkpoint hands out a copy in Hugging Face order.
    int64_t interleaved_rotary_heads = 0;
};

// product(shape) * element_size, or nullopt when a dimension is negative or the product overflows 64 bits.
inline std::optional<uint64_t> checked_byte_size(const std::vector<int64_t>& shape, uint64_t element_size) {
    uint64_t total = element_size;
    for (int64_t dim : shape) {
        if (dim < 0) return std::nullopt;
        if (dim != 0 && total > UINT64_MAX / static_cast<uint64_t>(dim)) return std::nullopt;
        total *= static_cast<uint64_t>(dim);
    }
    return total;
}

// "[512, 64]", for messages.
inline std::string shape_string(const std::vector<int64_t>& shape) {
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(shape[i]);
    }
    return out + "]";
}

}  // namespace llmatc::checkpoint_detail
