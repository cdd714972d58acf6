// tests/core/engine/test_kv_cache.cpp — the KV cache's dtype choice (--kv-cache-dtype) and its memory accounting.
#include <catch2/catch.hpp>

#include "engine/kv_cache.h"
#include "util/error.h"

using llmatc::engine::kv_block_bytes;
using llmatc::engine::plan_kv_blocks;
using llmatc::engine::resolve_kv_cache_dtype;

namespace {

// TinyLlama's KV geometry: 22 layers, 4 KV heads of width 64.
llmatc_model_desc tinyllama_desc() {
    llmatc_model_desc d{};
    d.struct_size = sizeof(d);
    d.n_layers = 22;
    d.n_kv_heads = 4;
    d.head_dim = 64;
    d.max_position_embeddings = 2048;
    return d;
}

}  // namespace

TEST_CASE("auto picks F32 for F32 weights and F16 for anything narrower", "[kv_cache]") {
    CHECK(resolve_kv_cache_dtype("auto", LLMATC_DTYPE_F32) == LLMATC_DTYPE_F32);
    for (llmatc_dtype w : {LLMATC_DTYPE_F16, LLMATC_DTYPE_BF16, LLMATC_DTYPE_Q8_0, LLMATC_DTYPE_Q4_0,
                           LLMATC_DTYPE_Q4_K})
        CHECK(resolve_kv_cache_dtype("auto", w) == LLMATC_DTYPE_F16);
    // Explicit choices win over the weights.
    CHECK(resolve_kv_cache_dtype("f16", LLMATC_DTYPE_F32) == LLMATC_DTYPE_F16);
    CHECK(resolve_kv_cache_dtype("f32", LLMATC_DTYPE_Q4_0) == LLMATC_DTYPE_F32);
}

TEST_CASE("an unknown --kv-cache-dtype is refused by name", "[kv_cache]") {
    for (const char* bad : {"bf16", "F16", "fp8", "half"}) {
        try {
            resolve_kv_cache_dtype(bad, LLMATC_DTYPE_F16);
            FAIL("accepted --kv-cache-dtype " << bad);
        } catch (const llmatc::Error& e) {
            CHECK(e.status() == LLMATC_ERR_INVALID_ARGUMENT);
            CHECK_THAT(e.what(), Catch::Contains("--kv-cache-dtype") && Catch::Contains(bad));
        }
    }
}

TEST_CASE("block bytes and block counts follow the element size", "[kv_cache]") {
    const llmatc_model_desc d = tinyllama_desc();
    // Keys and values, 22 layers, 16 tokens of 4 * 64 elements.
    CHECK(kv_block_bytes(d, 16, LLMATC_DTYPE_F32) == 2ull * 22 * 16 * 4 * 64 * 4);
    CHECK(kv_block_bytes(d, 16, LLMATC_DTYPE_F16) == 2ull * 22 * 16 * 4 * 64 * 2);
    // The same memory holds twice the blocks in F16.
    const uint64_t budget = 128ull << 20;
    const int32_t f32_blocks = plan_kv_blocks(d, 16, LLMATC_DTYPE_F32, 2048, 4, budget);
    const int32_t f16_blocks = plan_kv_blocks(d, 16, LLMATC_DTYPE_F16, 2048, 4, budget);
    CHECK(f32_blocks == int32_t(budget / kv_block_bytes(d, 16, LLMATC_DTYPE_F32)));
    CHECK(f16_blocks == 2 * f32_blocks);
    // A budget that fits one 2048-token sequence only in F16.
    const uint64_t f16_only = 128 * kv_block_bytes(d, 16, LLMATC_DTYPE_F16);
    CHECK(plan_kv_blocks(d, 16, LLMATC_DTYPE_F16, 2048, 1, f16_only) == 128);
    CHECK_THROWS_AS(plan_kv_blocks(d, 16, LLMATC_DTYPE_F32, 2048, 1, f16_only), llmatc::Error);
    CHECK_THROWS_AS(kv_block_bytes(d, 16, LLMATC_DTYPE_BF16), llmatc::Error);
}
