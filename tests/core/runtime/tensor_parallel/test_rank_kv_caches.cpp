// tests/core/runtime/tensor_parallel/test_rank_kv_caches.cpp — the mirrored KV caches of ranks 1..N-1: same geometry
// as rank 0's cache on each rank's own backend, kept (with their contents) across steps over the same cache,
// replaced when the cache changes, and clear errors for an empty cache or a backend out of memory.
#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "runtime/tensor_parallel/rank_kv_caches.h"
#include "util/error.h"

namespace {

using llmatc::tp::RankKvCaches;

// Rank 0's cache as the engine would allocate it: `layers` key and value buffers of `blocks` 4-token blocks.
struct EngineCache {
    const llmatc_kernels& backend;
    std::vector<void*> k, v;
    llmatc_kv_cache view{};
    EngineCache(const llmatc_kernels& b, int32_t layers, int32_t kv_heads, int32_t head_dim, int32_t blocks)
        : backend(b) {
        const size_t bytes = size_t(blocks) * 4 * size_t(kv_heads) * size_t(head_dim) * sizeof(float);
        for (int32_t l = 0; l < layers; ++l) {
            k.push_back(b.alloc(b.ctx, bytes));
            v.push_back(b.alloc(b.ctx, bytes));
        }
        view = {sizeof(llmatc_kv_cache), LLMATC_ABI_VERSION, LLMATC_DTYPE_F32, layers, kv_heads, head_dim, 4,
                blocks, k.data(), v.data()};
    }
    ~EngineCache() {
        for (void* p : k) backend.free(backend.ctx, p);
        for (void* p : v) backend.free(backend.ctx, p);
    }
};

}  // namespace

TEST_CASE("mirrors have rank 0's geometry on their own backends and keep their contents", "[rank_kv_caches]") {
    auto b0 = llmatc::create_cpu_backend(1), b1 = llmatc::create_cpu_backend(1), b2 = llmatc::create_cpu_backend(1);
    RankKvCaches caches({b0->table(), b1->table(), b2->table()});
    EngineCache rank0(*b0->table(), 3, 2, 8, 5);

    const auto& first = caches.for_step(rank0.view);
    REQUIRE(first.size() == 3);
    CHECK(first[0].k == rank0.view.k);
    const size_t layer_bytes = 5 * 4 * 2 * 8 * sizeof(float);
    CHECK(caches.mirror_bytes() == 2 * 3 * 2 * layer_bytes);  // 2 mirrors x 3 layers x (k, v)
    for (size_t r = 1; r < 3; ++r) {
        const llmatc_kv_cache& m = first[r];
        CHECK(m.n_layers == 3);
        CHECK(m.n_kv_heads == 2);
        CHECK(m.head_dim == 8);
        CHECK(m.block_size == 4);
        CHECK(m.n_blocks == 5);
        CHECK(m.dtype == LLMATC_DTYPE_F32);
        for (int32_t l = 0; l < 3; ++l) {
            REQUIRE(m.k[l] != nullptr);
            REQUIRE(m.v[l] != nullptr);
            CHECK(m.k[l] != rank0.view.k[l]);
        }
    }
    // Something rank 1 wrote in one step is there in the next step over the same cache.
    const float written = 42.5f;
    std::memcpy(static_cast<char*>(first[1].v[2]) + layer_bytes - sizeof(float), &written, sizeof(float));
    void* const mirror_k = first[1].k[0];
    const auto& second = caches.for_step(rank0.view);
    CHECK(second[1].k[0] == mirror_k);
    float read = 0.0f;
    std::memcpy(&read, static_cast<const char*>(second[1].v[2]) + layer_bytes - sizeof(float), sizeof(float));
    CHECK(read == written);
}

TEST_CASE("a different cache gets new mirrors of its own geometry", "[rank_kv_caches]") {
    auto b0 = llmatc::create_cpu_backend(1), b1 = llmatc::create_cpu_backend(1);
    RankKvCaches caches({b0->table(), b1->table()});
    EngineCache small(*b0->table(), 2, 1, 4, 2);
    CHECK(caches.for_step(small.view)[1].n_blocks == 2);
    EngineCache large(*b0->table(), 2, 1, 4, 9);
    const auto& now = caches.for_step(large.view);
    CHECK(now[1].n_blocks == 9);
    CHECK(now[0].k == large.view.k);
    CHECK(caches.mirror_bytes() == 2 * 2 * size_t(9 * 4 * 1 * 4) * sizeof(float));
}

TEST_CASE("an empty cache and an allocation failure are clear errors", "[rank_kv_caches]") {
    auto b0 = llmatc::create_cpu_backend(1);
    llmatc_kernels starved = *b0->table();
    starved.alloc = [](void*, size_t) -> void* { return nullptr; };
    RankKvCaches caches({b0->table(), &starved});

    llmatc_kv_cache empty{sizeof(llmatc_kv_cache), LLMATC_ABI_VERSION, LLMATC_DTYPE_F32, 0, 1, 4, 4, 1, nullptr,
                          nullptr};
    CHECK_THROWS_WITH(caches.for_step(empty), Catch::Contains("KV cache given to forward() is empty"));

    EngineCache rank0(*b0->table(), 2, 1, 4, 3);
    try {
        caches.for_step(rank0.view);
        FAIL("a backend that cannot allocate must fail the step");
    } catch (const llmatc::Error& e) {
        CHECK(e.status() == LLMATC_ERR_OUT_OF_MEMORY);
        CHECK(std::string(e.what()).find("tensor-parallel rank 1") != std::string::npos);
        CHECK(std::string(e.what()).find("cannot allocate") != std::string::npos);
    }
    CHECK(caches.mirror_bytes() == 0);
}
