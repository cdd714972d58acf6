// core/engine/kv_cache.h — the paged KV cache's memory: its element type, sizing from options or free RAM, and
// allocation on the backend.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llmatc/kernels.h"
#include "llmatc/model.h"

namespace llmatc::engine {

// The KV cache dtype for a --kv-cache-dtype value: "f32", "f16", or "auto" (vLLM's word): F32 when the model's
// weights are F32, F16 when they are anything narrower (F16, BF16, block-quantized). Throws
// Error(INVALID_ARGUMENT) naming the flag for any other value.
llmatc_dtype resolve_kv_cache_dtype(const std::string& requested, llmatc_dtype weight_dtype);

// Bytes of one cached element (4 for F32, 2 for F16); throws Error(UNSUPPORTED) for any other dtype.
uint64_t kv_element_bytes(llmatc_dtype dtype);

// "f32" or "f16" (the flag's spelling), for logs and metrics.
const char* kv_dtype_name(llmatc_dtype dtype);

// Bytes one KV block takes over all layers (keys and values) with elements of `dtype`.
uint64_t kv_block_bytes(const llmatc_model_desc& desc, int32_t block_size, llmatc_dtype dtype);

// How many blocks to allocate: from `kv_cache_memory` bytes, or when that is 0 about 40% of MemAvailable
// (/proc/meminfo), capped at what max_num_seqs full-length sequences could use twice over (the rest of RAM is
// better left to the OS). Blocks are sized with `dtype`'s element bytes, so an F16 cache holds twice the tokens of
// an F32 one in the same memory. Throws Error(OUT_OF_MEMORY) when the result cannot hold one max_model_len
// sequence; the message gives both token counts and the bytes needed.
int32_t plan_kv_blocks(const llmatc_model_desc& desc, int32_t block_size, llmatc_dtype dtype, int32_t max_model_len,
                       int32_t max_num_seqs, uint64_t kv_cache_memory);

// Owns the per-layer key/value buffers on a backend; frees them on destruction.
class KvCacheMemory {
public:
    KvCacheMemory(const llmatc_kernels* kernels, const llmatc_model_desc& desc, int32_t block_size,
                  int32_t n_blocks, llmatc_dtype dtype);
    ~KvCacheMemory();
    KvCacheMemory(const KvCacheMemory&) = delete;
    KvCacheMemory& operator=(const KvCacheMemory&) = delete;

    const llmatc_kv_cache& view() const { return view_; }
    uint64_t bytes() const { return bytes_; }
    llmatc_dtype dtype() const { return view_.dtype; }

private:
    const llmatc_kernels* kernels_;
    std::vector<void*> k_, v_;
    llmatc_kv_cache view_{};
    uint64_t bytes_ = 0;
};

}  // namespace llmatc::engine
