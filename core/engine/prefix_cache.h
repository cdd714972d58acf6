// core/engine/prefix_cache.h — the content index of full KV blocks: (parent hash, tokens) -> block, LRU of idle ones.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace llmatc::engine {

// Maps the content of full KV blocks to the block holding their keys/values, so sequences that share a token
// prefix share blocks. A block's key chains its parent's hash with its own tokens, so equal keys mean equal
// prefixes; the tokens are kept too and compared on lookup, so a hash collision is a miss, never a wrong hit.
//
// Blocks nobody references stay cached ("idle") until the block manager needs memory: it evicts the least
// recently used idle block. Not thread-safe (owned by the engine's step thread).
class PrefixCache {
public:
    // The hash of a full block whose previous block hashed to `parent_hash` (0 for the first block).
    static uint64_t block_hash(uint64_t parent_hash, std::span<const int32_t> tokens);

    // The block caching exactly (parent_hash, tokens) under `hash`, if any.
    std::optional<int32_t> lookup(uint64_t hash, uint64_t parent_hash, std::span<const int32_t> tokens) const;

    // Records that `block` holds (parent_hash, tokens). Returns false (and records nothing) when another block
    // already holds that content or `block` is already cached under some content.
    bool insert(int32_t block, uint64_t hash, uint64_t parent_hash, std::span<const int32_t> tokens);

    bool is_cached(int32_t block) const { return block_to_hash_.count(block) != 0; }

    // A cached block's last reference went away: it becomes evictable (most recently used).
    void mark_idle(int32_t block);
    // A cached idle block got a reference again: no longer evictable.
    void mark_in_use(int32_t block);

    // Forgets the least recently used idle block and returns it (now a plain free block); nullopt when none.
    std::optional<int32_t> evict_lru();

    size_t n_idle() const { return idle_lru_.size(); }
    size_t n_cached() const { return block_to_hash_.size(); }

private:
    struct Entry {
        int32_t block;
        uint64_t parent_hash;
        std::vector<int32_t> tokens;
    };
    std::unordered_map<uint64_t, Entry> by_hash_;
    std::unordered_map<int32_t, uint64_t> block_to_hash_;
    std::list<int32_t> idle_lru_;  // front = least recently used
    std::unordered_map<int32_t, std::list<int32_t>::iterator> idle_pos_;
};

}  // namespace llmatc::engine
