// tests/core/engine/test_engine_kv_dtype.cpp — the engine's KV cache dtype on stories260k: what auto picks, what
// /metrics reports, how many blocks a budget buys, and a clear error for a bad value.
#include <catch2/catch.hpp>

#include "engine/kv_cache.h"
#include "engine_test_support.h"
#include "util/error.h"

using namespace engine_test;

TEST_CASE("the engine's KV cache dtype: auto, f16, and the blocks a budget buys", "[engine][kv_f16]") {
    auto probe = load_stories();
    REQUIRE(probe->weight_dtype() == LLMATC_DTYPE_F32);  // stories260k is an F32 checkpoint
    const uint64_t f32_block = llmatc::engine::kv_block_bytes(probe->desc(), 16, LLMATC_DTYPE_F32);
    probe.reset();
    for (const char* requested : {"auto", "f32", "f16"}) {
        INFO("--kv-cache-dtype " << requested);
        const bool f16 = std::string(requested) == "f16";
        llmatc::EngineOptions o;
        o.served_model_name = "stories260k";
        o.max_model_len = 128;
        o.kv_cache_dtype = requested;
        o.kv_cache_memory = 20 * f32_block;
        auto engine = llmatc::Engine::create(load_stories(), o);
        const std::string m = metrics(engine->api());
        CHECK_THAT(m, Catch::Contains(std::string("cache_dtype=\"") + (f16 ? "f16" : "f32") + "\""));
        CHECK(metric_value(m, "llmatc_kv_cache_blocks_total{") == (f16 ? 40 : 20));
        CHECK(metric_value(m, "llmatc_cache_config_info{") == 1);
        // And it generates.
        Collected got;
        llmatc_sampling_params p = defaults(engine->api());
        p.temperature = 0.0f;
        p.max_tokens = 8;
        p.ignore_eos = 1;
        REQUIRE(submit(engine->api(), tokenize(engine->api(), "Once upon a time"), p, &got) == LLMATC_OK);
        got.wait();
        CHECK(got.finish == LLMATC_FINISH_LENGTH);
        CHECK(got.tokens.size() == 8);
    }
}

TEST_CASE("the engine refuses an unknown KV cache dtype, naming the flag", "[engine][kv_f16]") {
    llmatc::EngineOptions o;
    o.kv_cache_dtype = "int8";
    try {
        llmatc::Engine::create(load_stories(), o);
        FAIL("the engine started with --kv-cache-dtype int8");
    } catch (const llmatc::Error& e) {
        CHECK(e.status() == LLMATC_ERR_INVALID_ARGUMENT);
        CHECK_THAT(e.what(), Catch::Contains("--kv-cache-dtype") && Catch::Contains("int8"));
    }
}
