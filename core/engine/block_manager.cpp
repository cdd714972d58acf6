// core/engine/block_manager.cpp — KV block accounting: free list, reference counts, prefix-cache sharing.
#include "engine/block_manager.h"

#include <string>

#include "util/error.h"

namespace llmatc::engine {

BlockManager::BlockManager(int32_t n_blocks, int32_t block_size, bool enable_prefix_caching)
    : n_blocks_(n_blocks), block_size_(block_size), prefix_caching_(enable_prefix_caching),
      ref_counts_(static_cast<size_t>(n_blocks), 0) {
    if (n_blocks <= 0 || block_size <= 0)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "KV block manager: need n_blocks > 0 and block_size > 0, got " +
                                                     std::to_string(n_blocks) + " and " + std::to_string(block_size));
    free_list_.reserve(static_cast<size_t>(n_blocks));
    // Hand out low ids first (keeps the touched part of the cache small and the tests readable).
    for (int32_t b = n_blocks - 1; b >= 0; --b) free_list_.push_back(b);
}

int32_t BlockManager::n_available() const {
    return static_cast<int32_t>(free_list_.size() + cache_.n_idle());
}

int32_t BlockManager::blocks_for(int64_t n_tokens) const {
    return static_cast<int32_t>((n_tokens + block_size_ - 1) / block_size_);
}

std::optional<int32_t> BlockManager::allocate() {
    int32_t block;
    if (!free_list_.empty()) {
        block = free_list_.back();
        free_list_.pop_back();
    } else if (auto evicted = cache_.evict_lru()) {
        block = *evicted;
    } else {
        return std::nullopt;
    }
    ref_counts_[block] = 1;
    ++n_in_use_;
    return block;
}

void BlockManager::retain(int32_t block) {
    if (ref_counts_.at(block)++ == 0) {
        cache_.mark_in_use(block);
        ++n_in_use_;
    }
}

void BlockManager::release(int32_t block) {
    int32_t& count = ref_counts_.at(block);
    if (count <= 0)
        throw Error(LLMATC_ERR_INTERNAL, "KV block " + std::to_string(block) + " released more often than taken");
    if (--count > 0) return;
    --n_in_use_;
    if (cache_.is_cached(block))
        cache_.mark_idle(block);
    else
        free_list_.push_back(block);
}

void BlockManager::release_all(std::span<const int32_t> blocks) {
    // Release from the end, so a sequence's later blocks (less likely shared) are evicted before its prefix.
    for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) release(*it);
}

std::optional<int32_t> BlockManager::lookup_cached(uint64_t hash, uint64_t parent_hash,
                                                   std::span<const int32_t> tokens) {
    if (!prefix_caching_) return std::nullopt;
    auto block = cache_.lookup(hash, parent_hash, tokens);
    if (block) retain(*block);
    return block;
}

void BlockManager::register_full(int32_t block, uint64_t hash, uint64_t parent_hash,
                                 std::span<const int32_t> tokens) {
    if (prefix_caching_) cache_.insert(block, hash, parent_hash, tokens);
}

}  // namespace llmatc::engine
