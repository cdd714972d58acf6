// core/engine/block_manager.h — KV block accounting: a free list, reference counts, and prefix-cache sharing.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/prefix_cache.h"

namespace llmatc::engine {

// Hands out ids of the paged KV cache's blocks. A block is free, in use (reference count >= 1: shared when a
// prefix-cache hit gave it to several sequences), or idle-cached (count 0 but its content kept for later hits).
// Allocation takes a free block first, then evicts the least recently used idle-cached one. Not thread-safe
// (owned by the engine's step thread).
class BlockManager {
public:
    BlockManager(int32_t n_blocks, int32_t block_size, bool enable_prefix_caching);

    int32_t n_blocks() const { return n_blocks_; }
    int32_t block_size() const { return block_size_; }
    bool prefix_caching() const { return prefix_caching_; }

    // Blocks an allocation can get now: free ones plus evictable idle-cached ones.
    int32_t n_available() const;
    // Blocks referenced by at least one sequence.
    int32_t n_in_use() const { return n_in_use_; }
    // Blocks needed to hold `n_tokens` tokens.
    int32_t blocks_for(int64_t n_tokens) const;

    // One block with reference count 1, or nullopt when none is available.
    std::optional<int32_t> allocate();
    // Adds a reference (a sequence starts sharing the block).
    void retain(int32_t block);
    // Drops a reference; at zero the block becomes free, or idle-cached when the prefix cache holds its content.
    void release(int32_t block);
    void release_all(std::span<const int32_t> blocks);
    int32_t ref_count(int32_t block) const { return ref_counts_.at(block); }

    // Prefix caching (no-ops / misses when disabled). lookup_cached returns the block holding that content with a
    // reference added for the caller, or nullopt. register_full records that a block the caller filled holds it.
    std::optional<int32_t> lookup_cached(uint64_t hash, uint64_t parent_hash, std::span<const int32_t> tokens);
    void register_full(int32_t block, uint64_t hash, uint64_t parent_hash, std::span<const int32_t> tokens);

    const PrefixCache& prefix_cache() const { return cache_; }

private:
    int32_t n_blocks_;
    int32_t block_size_;
    bool prefix_caching_;
    std::vector<int32_t> ref_counts_;
    std::vector<int32_t> free_list_;  // back = next to hand out
    int32_t n_in_use_ = 0;
    PrefixCache cache_;
};

}  // namespace llmatc::engine
