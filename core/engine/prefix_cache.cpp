// core/engine/prefix_cache.cpp — the content index of full KV blocks with LRU eviction of idle blocks.
#include "engine/prefix_cache.h"

#include <algorithm>

namespace llmatc::engine {

namespace {
// splitmix64's finaliser: a strong 64-bit mixer, so chained keys spread well.
uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
}  // namespace

uint64_t PrefixCache::block_hash(uint64_t parent_hash, std::span<const int32_t> tokens) {
    uint64_t h = mix(parent_hash ^ 0x6c6c6d617463ULL);
    for (int32_t t : tokens) h = mix(h ^ static_cast<uint32_t>(t));
    return mix(h ^ tokens.size());
}

std::optional<int32_t> PrefixCache::lookup(uint64_t hash, uint64_t parent_hash,
                                           std::span<const int32_t> tokens) const {
    auto it = by_hash_.find(hash);
    if (it == by_hash_.end()) return std::nullopt;
    const Entry& e = it->second;
    if (e.parent_hash != parent_hash || !std::equal(e.tokens.begin(), e.tokens.end(), tokens.begin(), tokens.end()))
        return std::nullopt;
    return e.block;
}

bool PrefixCache::insert(int32_t block, uint64_t hash, uint64_t parent_hash, std::span<const int32_t> tokens) {
    if (by_hash_.count(hash) || block_to_hash_.count(block)) return false;
    by_hash_.emplace(hash, Entry{block, parent_hash, std::vector<int32_t>(tokens.begin(), tokens.end())});
    block_to_hash_.emplace(block, hash);
    return true;
}

void PrefixCache::mark_idle(int32_t block) {
    if (!is_cached(block) || idle_pos_.count(block)) return;
    idle_lru_.push_back(block);
    idle_pos_[block] = std::prev(idle_lru_.end());
}

void PrefixCache::mark_in_use(int32_t block) {
    auto it = idle_pos_.find(block);
    if (it == idle_pos_.end()) return;
    idle_lru_.erase(it->second);
    idle_pos_.erase(it);
}

std::optional<int32_t> PrefixCache::evict_lru() {
    if (idle_lru_.empty()) return std::nullopt;
    int32_t block = idle_lru_.front();
    idle_lru_.pop_front();
    idle_pos_.erase(block);
    auto h = block_to_hash_.find(block);
    by_hash_.erase(h->second);
    block_to_hash_.erase(h);
    return block;
}

}  // namespace llmatc::engine
