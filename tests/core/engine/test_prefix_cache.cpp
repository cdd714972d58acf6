// tests/core/engine/test_prefix_cache.cpp — the content index of full KV blocks: chained hashes, collisions, LRU.
#include <catch2/catch.hpp>

#include <vector>

#include "engine/prefix_cache.h"

using llmatc::engine::PrefixCache;

TEST_CASE("block hashes chain the parent and depend on every token", "[prefix_cache]") {
    std::vector<int32_t> a{1, 2, 3, 4}, b{1, 2, 3, 5};
    CHECK(PrefixCache::block_hash(0, a) == PrefixCache::block_hash(0, a));
    CHECK(PrefixCache::block_hash(0, a) != PrefixCache::block_hash(0, b));
    CHECK(PrefixCache::block_hash(0, a) != PrefixCache::block_hash(7, a));
    std::vector<int32_t> swapped{2, 1, 3, 4};
    CHECK(PrefixCache::block_hash(0, a) != PrefixCache::block_hash(0, swapped));
}

TEST_CASE("lookup finds inserted content and rejects a colliding hash with other tokens", "[prefix_cache]") {
    PrefixCache cache;
    std::vector<int32_t> toks{5, 6, 7, 8};
    const uint64_t h = PrefixCache::block_hash(0, toks);
    REQUIRE(cache.insert(3, h, 0, toks));
    CHECK(cache.lookup(h, 0, toks) == std::optional<int32_t>(3));
    std::vector<int32_t> other{5, 6, 7, 9};
    CHECK_FALSE(cache.lookup(h, 0, other).has_value());  // same key, different content: a miss
    CHECK_FALSE(cache.lookup(h, 1, toks).has_value());   // different parent: a miss
    CHECK_FALSE(cache.insert(4, h, 0, toks));            // content already cached in block 3
    CHECK_FALSE(cache.insert(3, h + 1, 0, other));       // block 3 already holds content
    CHECK(cache.is_cached(3));
    CHECK_FALSE(cache.is_cached(4));
}

TEST_CASE("only idle blocks are evicted, least recently used first", "[prefix_cache]") {
    PrefixCache cache;
    for (int32_t b = 0; b < 3; ++b) {
        std::vector<int32_t> toks{b, b, b};
        REQUIRE(cache.insert(b, PrefixCache::block_hash(0, toks), 0, toks));
    }
    CHECK_FALSE(cache.evict_lru().has_value());  // all in use
    cache.mark_idle(2);
    cache.mark_idle(0);
    cache.mark_idle(1);
    cache.mark_in_use(0);  // hit again: no longer evictable
    CHECK(cache.n_idle() == 2);
    CHECK(cache.evict_lru() == std::optional<int32_t>(2));
    CHECK_FALSE(cache.is_cached(2));
    std::vector<int32_t> toks2{2, 2, 2};
    CHECK_FALSE(cache.lookup(PrefixCache::block_hash(0, toks2), 0, toks2).has_value());
    CHECK(cache.evict_lru() == std::optional<int32_t>(1));
    CHECK_FALSE(cache.evict_lru().has_value());
    CHECK(cache.n_cached() == 1);
}
