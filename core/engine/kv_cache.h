// core/engine/kv_cache.h — the paged KV cache's memory: sizing from options or free RAM, allocation on the backend.
#pragma once

#include <cstdint>
#include <vector>

#include "llmatc/kernels.h"
#include "llmatc/model.h"

namespace llmatc::engine {

// Bytes one KV block takes over all layers (keys and values, F32).
uint64_t kv_block_bytes(const llmatc_model_desc& desc, int32_t block_size);

// How many blocks to allocate: from `kv_cache_memory` bytes, or when that is 0 about 40% of MemAvailable
// (/proc/meminfo), capped at what max_num_seqs full-length sequences could use twice over (the rest of RAM is
// better left to the OS). Throws Error(OUT_OF_MEMORY) when the result cannot hold one max_model_len sequence; the
// message gives both token counts and the bytes needed.
int32_t plan_kv_blocks(const llmatc_model_desc& desc, int32_t block_size, int32_t max_model_len,
                       int32_t max_num_seqs, uint64_t kv_cache_memory);

// Owns the per-layer key/value buffers on a backend; frees them on destruction.
class KvCacheMemory {
public:
    KvCacheMemory(const llmatc_kernels* kernels, const llmatc_model_desc& desc, int32_t block_size,
                  int32_t n_blocks);
    ~KvCacheMemory();
    KvCacheMemory(const KvCacheMemory&) = delete;
    KvCacheMemory& operator=(const KvCacheMemory&) = delete;

    const llmatc_kv_cache& view() const { return view_; }
    uint64_t bytes() const { return bytes_; }

private:
    const llmatc_kernels* kernels_;
    std::vector<void*> k_, v_;
    llmatc_kv_cache view_{};
    uint64_t bytes_ = 0;
};

}  // namespace llmatc::engine
