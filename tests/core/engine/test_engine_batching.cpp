// tests/core/engine/test_engine_batching.cpp — issue 3's acceptance on stories260k: batching never changes tokens.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "engine/kv_cache.h"
#include "engine_test_support.h"
#include "util/error.h"

using namespace engine_test;

namespace {

struct Case {
    std::vector<int32_t> prompt;
    std::vector<int32_t> reference;  // reference.json's greedy ids when the prompt comes from there, else empty
};

// 16 different prompts: reference.json's six, and ten more, several sharing long prefixes (so full KV blocks are
// shared through the prefix cache) and some longer than two blocks.
std::vector<Case> make_cases(const llmatc_engine_api* api) {
    std::ifstream in(shared_dir() / "models" / "stories260k" / "reference.json");
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    rapidjson::Document doc;
    doc.Parse(ss.str().c_str());
    REQUIRE(doc.IsObject());
    std::vector<Case> cases;
    for (const auto& c : doc["cases"].GetArray()) {
        Case k;
        for (const auto& v : c["prompt_ids"].GetArray()) k.prompt.push_back(v.GetInt());
        for (const auto& v : c["generated_ids"].GetArray()) k.reference.push_back(v.GetInt());
        cases.push_back(k);
    }
    const std::string story =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ";
    const char* more[] = {
        "One day, she saw a big, red ball.",
        "One day, she met a friendly dog.",
        "One day, her mom said",
        "She had a best friend named Tom.",
        "Tom and Lily went to the park. They played on the swings and",
        "The bird sang a happy song",
        "Once upon a time, there was a big",
        "The little dog was sad because",
        "Mom said, \"Let's go to the store.\"",
        "Ben liked to build things",
    };
    for (int i = 0; i < 10; ++i) cases.push_back({tokenize(api, (i < 5 ? story : std::string()) + more[i]), {}});
    return cases;
}

llmatc_sampling_params greedy_params(const llmatc_engine_api* api) {
    llmatc_sampling_params p = defaults(api);
    p.temperature = 0.0f;
    p.max_tokens = 48;
    p.ignore_eos = 1;  // as reference.json: exactly 48 new tokens
    return p;
}

struct Result {
    std::vector<int32_t> tokens;
    std::string text;
    llmatc_finish_reason finish;
};

std::vector<Result> run_concurrently(const llmatc_engine_api* api, const std::vector<Case>& cases) {
    std::vector<Collected> got(cases.size());
    const llmatc_sampling_params p = greedy_params(api);
    // Submit from two threads at once, as a server's connections would.
    std::vector<llmatc_status> status(cases.size(), LLMATC_ERR_INTERNAL);
    auto submit_range = [&](size_t begin, size_t step) {
        for (size_t i = begin; i < cases.size(); i += step) status[i] = submit(api, cases[i].prompt, p, &got[i]);
    };
    std::thread other(submit_range, 1, 2);
    submit_range(0, 2);
    other.join();
    for (llmatc_status s : status) REQUIRE(s == LLMATC_OK);  // Catch2 assertions only on this thread
    std::vector<Result> out;
    for (auto& g : got) {
        g.wait();
        out.push_back({g.tokens, g.text, g.finish});
    }
    return out;
}

std::unique_ptr<llmatc::Engine> make_engine(llmatc::EngineOptions o, const std::string& kv_cache_dtype) {
    o.served_model_name = "stories260k";
    o.kv_cache_dtype = kv_cache_dtype;
    return llmatc::Engine::create(load_stories(), o);
}

// Every way of batching gives each request the tokens it gets alone, with a KV cache of `kv_cache_dtype`
// ("auto" is F32 for this F32 model). reference.json (made with F32 keys and values) is checked for F32 only.
void check_batching_never_changes_tokens(const std::string& kv_cache_dtype) {
    const bool exact_cache = kv_cache_dtype != "f16";
    // Alone: one request at a time through an engine.
    std::vector<Case> cases;
    std::vector<Result> alone;
    {
        auto engine = make_engine({}, kv_cache_dtype);
        CHECK_THAT(metrics(engine->api()),
                   Catch::Contains(std::string("cache_dtype=\"") + (exact_cache ? "f32" : "f16") + "\""));
        const llmatc_engine_api* api = engine->api();
        cases = make_cases(api);
        REQUIRE(cases.size() == 16);
        for (const Case& c : cases) {
            Collected got;
            REQUIRE(submit(api, c.prompt, greedy_params(api), &got) == LLMATC_OK);
            got.wait();
            REQUIRE(got.finish == LLMATC_FINISH_LENGTH);
            REQUIRE(got.tokens.size() == 48);
            if (!c.reference.empty() && exact_cache) CHECK(got.tokens == c.reference);  // and alone is right
            alone.push_back({got.tokens, got.text, got.finish});
        }
    }

    auto check_same = [&](const std::vector<Result>& batched) {
        REQUIRE(batched.size() == alone.size());
        for (size_t i = 0; i < alone.size(); ++i) {
            INFO("prompt " << i);
            CHECK(batched[i].tokens == alone[i].tokens);
            CHECK(batched[i].text == alone[i].text);
            CHECK(batched[i].finish == alone[i].finish);
        }
    };

    SECTION("prefix caching on") {
        auto engine = make_engine({}, kv_cache_dtype);
        // Warm the cache with one request first: requests admitted in the same step cannot share blocks that are
        // not computed yet, so without this the hit count would depend on how the 16 requests happen to arrive.
        Collected warm;
        REQUIRE(submit(engine->api(), cases[6].prompt, greedy_params(engine->api()), &warm) == LLMATC_OK);  // the story prefix
        warm.wait();
        check_same(run_concurrently(engine->api(), cases));
        // The shared story prefix was served from the cache at least once.
        const std::string m = metrics(engine->api());
        CHECK(metric_value(m, "llmatc_prefix_cache_hits_total{") > 0);
    }
    SECTION("prefix caching off") {
        llmatc::EngineOptions o;
        o.enable_prefix_caching = false;
        auto engine = make_engine(o, kv_cache_dtype);
        check_same(run_concurrently(engine->api(), cases));
        CHECK(metric_value(metrics(engine->api()), "llmatc_prefix_cache_hits_total{") == 0);
    }
    SECTION("a KV cache small enough to force preemption, prefix caching on and off") {
        for (bool prefix : {true, false}) {
            llmatc::EngineOptions o;
            o.max_model_len = 128;
            o.enable_prefix_caching = prefix;
            o.kv_cache_dtype = kv_cache_dtype;
            auto probe = load_stories();
            const llmatc_dtype dtype = exact_cache ? LLMATC_DTYPE_F32 : LLMATC_DTYPE_F16;
            o.kv_cache_memory = 12 * llmatc::engine::kv_block_bytes(probe->desc(), o.block_size, dtype);  // 192 tokens
            auto engine = llmatc::Engine::create(std::move(probe), o);
            check_same(run_concurrently(engine->api(), cases));
            const std::string m = metrics(engine->api());
            CHECK(metric_value(m, "llmatc_num_preemptions_total{") > 0);
            CHECK(metric_value(m, "llmatc_kv_cache_blocks_total{") == 12);
            CHECK(metric_value(m, "llmatc_kv_cache_usage_perc{") == 0);  // everything given back
        }
    }
    SECTION("tiny token budget: chunked prefills mixed with decodes") {
        llmatc::EngineOptions o;
        o.max_num_batched_tokens = 7;
        o.max_num_seqs = 5;
        auto engine = make_engine(o, kv_cache_dtype);
        check_same(run_concurrently(engine->api(), cases));
    }
}

}  // namespace

TEST_CASE("16 concurrent greedy requests return exactly what each returns alone", "[engine][batching]") {
    check_batching_never_changes_tokens("auto");
}

TEST_CASE("with an F16 KV cache, 16 concurrent greedy requests return exactly what each returns alone",
          "[engine][batching][kv_f16]") {
    check_batching_never_changes_tokens("f16");
}

TEST_CASE("the engine refuses a KV cache that cannot hold one max_model_len sequence", "[engine]") {
    llmatc::EngineOptions o;
    o.max_model_len = 256;
    auto model = load_stories();
    o.kv_cache_memory = 4 * llmatc::engine::kv_block_bytes(model->desc(), o.block_size, LLMATC_DTYPE_F32);  // 64 tokens
    try {
        llmatc::Engine::create(std::move(model), o);
        FAIL("the engine started with a KV cache too small");
    } catch (const llmatc::Error& e) {
        CHECK(e.status() == LLMATC_ERR_OUT_OF_MEMORY);
        CHECK_THAT(e.what(), Catch::Contains("64 tokens") && Catch::Contains("256"));
    }
}
