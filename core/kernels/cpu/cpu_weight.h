// core/kernels/cpu/cpu_weight.h — a weight as the CPU kernels read it: its storage type, shape, and either a
// zero-copy pointer into the caller's (memory-mapped) tensor or a buffer it owns.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "llmatc/kernels.h"

namespace llmatc::cpu {
class ThreadPool;
}

// The opaque handle of the C interface; on the CPU backend it is this.
struct llmatc_weight {
    llmatc_dtype dtype;   // storage: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K or Q6_K
    int64_t rows;         // 2-D: out features; 1-D: 1
    int64_t cols;         // 2-D: in features; 1-D: length
    int32_t n_dims;
    const void* data;     // rows * cols elements of dtype (blocks for the quantized types)
    uint64_t bytes;       // size of data
    bool packed = false;  // in the 16-row interleaved layout of quant_packed.h / quant_q4_k_packed.h /
                          // quant_q5_k_packed.h / quant_q6_k_packed.h / float_packed.h, not row order
    std::unique_ptr<uint8_t[], void (*)(void*)> owned{nullptr, nullptr};  // set when data is ours
};

namespace llmatc::cpu {

// Bytes of `count` elements of dtype (count a multiple of 32 for the block types); 0 for types without a size.
uint64_t dtype_bytes(llmatc_dtype dtype, int64_t count);
const char* dtype_name(llmatc_dtype dtype);  // llmatc::dtype_name (checkpoint/dtype.h), for kernel messages

// Memory aligned to 64 bytes (a cache line, a full AVX-512 register), freed with aligned_free.
void* aligned_alloc_bytes(size_t bytes);
void aligned_free(void* ptr);

// Builds a weight from a checkpoint tensor (see weight_create in llmatc/kernels.h for the contract). Throws
// llmatc::Error naming the problem (dims, dtype, byte size, a width not a multiple of 32 for quantization).
// Conversion and quantization run on `pool` when given. `pack` says which storage types are repacked into the
// 16-row interleaved layouts (quant_packed.h, float_packed.h) the ISA's kernels read; a packed weight is never
// zero-copy.
struct WeightPacking {
    bool quantized = false;  // Q8_0 / Q4_0 / Q4_K / Q5_K / Q6_K
    bool floats = false;     // F16 / BF16
};
std::unique_ptr<llmatc_weight> make_weight(const llmatc_tensor_view& src, llmatc_dtype storage, ThreadPool* pool,
                                           WeightPacking pack = {});

// Row `row` (cols elements) of the weight as F32, dequantizing block types. For embedding lookups and tests.
void weight_row_to_f32(const llmatc_weight& w, int64_t row, float* out);

}  // namespace llmatc::cpu
