// core/runtime/tensor_parallel/rank_kv_caches.h — the KV caches of tensor-parallel ranks 1..N-1, mirroring the one
// cache the engine allocates (which is rank 0's) block for block, each on its own rank's backend.
//
// Why mirrors: the engine allocates one paged cache from LoadedModel::desc() on LoadedModel::kernels() and hands
// its block ids to forward(). A tensor-parallel model reports one rank's share of the KV heads in desc(), so the
// engine's cache is exactly rank 0's; every other rank needs the same geometry (blocks, block size, dtype) with its
// own heads on its own device. Using the engine's block ids unchanged in every rank's cache keeps the block manager,
// prefix caching and preemption identical to the single-rank case.
#pragma once

#include <cstdint>
#include <vector>

#include "llmatc/kernels.h"

namespace llmatc::tp {

// Not thread-safe: used from the step thread (LoadedModel::forward) only.
class RankKvCaches {
public:
    // `rank_backends[r]` is rank r's backend (rank 0's entry is not used for allocation); each outlives this object.
    explicit RankKvCaches(std::vector<const llmatc_kernels*> rank_backends);
    ~RankKvCaches();
    RankKvCaches(const RankKvCaches&) = delete;
    RankKvCaches& operator=(const RankKvCaches&) = delete;

    // Every rank's cache for a step over `rank0`: rank0 itself, then the mirrors. The mirrors are (re)allocated when
    // `rank0` is a different cache from the previous call (other buffers or another geometry); a caller that
    // switches caches therefore starts the other ranks' caches afresh, so it must not interleave steps over two
    // live caches (the engine uses one for its whole life). Throws llmatc::Error(OUT_OF_MEMORY) naming the rank
    // and the bytes when a backend cannot allocate a mirror.
    const std::vector<llmatc_kv_cache>& for_step(const llmatc_kv_cache& rank0);

    // Bytes the mirrors hold now (all ranks but 0).
    uint64_t mirror_bytes() const { return mirror_bytes_; }

private:
    struct Mirror {
        std::vector<void*> k, v;
    };
    bool matches(const llmatc_kv_cache& rank0) const;
    void allocate(const llmatc_kv_cache& rank0);
    void release();

    std::vector<const llmatc_kernels*> backends_;
    std::vector<Mirror> mirrors_;          // [world_size], entry 0 unused
    std::vector<llmatc_kv_cache> caches_;  // [world_size]
    const void* mirrored_k0_ = nullptr;    // rank 0's first key buffer: the identity of the mirrored cache
    uint64_t mirror_bytes_ = 0;
};

}  // namespace llmatc::tp
