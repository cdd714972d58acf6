// tests/core/engine/test_engine_requests.cpp — the engine's C table on stories260k: validation, sampling, stops,
// cancellation, logprobs, embeddings, metrics and chat templates.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "engine_test_support.h"
#include "util/error.h"

using namespace engine_test;

namespace {

std::unique_ptr<llmatc::Engine> make_engine(llmatc::EngineOptions o = {}) {
    o.served_model_name = "stories260k";
    return llmatc::Engine::create(load_stories(), o);
}

void run(const llmatc_engine_api* api, const std::vector<int32_t>& prompt, const llmatc_sampling_params& p,
         Collected& out) {
    REQUIRE(submit(api, prompt, p, &out) == LLMATC_OK);
    out.wait();
}

std::string detok(const llmatc_engine_api* api, const std::vector<int32_t>& ids) {
    std::string out;
    REQUIRE(api->detokenize(api->engine, nullptr, 0, ids.data(), ids.size(), 1,
                            [](const char* d, size_t n, void* u) { static_cast<std::string*>(u)->append(d, n); },
                            &out) == LLMATC_OK);
    return out;
}

}  // namespace

TEST_CASE("submit validates: empty, too long, bad ids, unknown model, bad parameters", "[engine][requests]") {
    llmatc::EngineOptions o;
    o.max_model_len = 64;
    auto engine = make_engine(o);
    const llmatc_engine_api* api = engine->api();
    llmatc_sampling_params p = defaults(api);
    Collected c;

    CHECK(submit(api, {}, p, &c) == LLMATC_ERR_INVALID_ARGUMENT);
    CHECK_THAT(llmatc::thread_error(), Catch::Contains("empty"));

    std::vector<int32_t> long_prompt(70, 300);
    CHECK(submit(api, long_prompt, p, &c) == LLMATC_ERR_INVALID_ARGUMENT);
    CHECK_THAT(llmatc::thread_error(), Catch::Contains("64") && Catch::Contains("70"));

    CHECK(submit(api, {1, 9999}, p, &c) == LLMATC_ERR_INVALID_ARGUMENT);
    CHECK_THAT(llmatc::thread_error(), Catch::Contains("9999"));

    CHECK(submit(api, {1, 403}, p, &c, nullptr, "gpt-4") == LLMATC_ERR_NOT_FOUND);
    CHECK_THAT(llmatc::thread_error(), Catch::Contains("gpt-4") && Catch::Contains("stories260k"));
    Collected named;
    CHECK(submit(api, {1, 403}, p, &named, nullptr, "stories260k") == LLMATC_OK);
    named.wait();

    llmatc_sampling_params bad = p;
    bad.top_p = 1.5f;
    CHECK(submit(api, {1, 403}, bad, &c) == LLMATC_ERR_INVALID_ARGUMENT);
    CHECK_THAT(llmatc::thread_error(), Catch::Contains("top_p"));
    bad = p;
    bad.max_tokens = 0;
    CHECK(submit(api, {1, 403}, bad, &c) == LLMATC_ERR_INVALID_ARGUMENT);
    CHECK_THAT(llmatc::thread_error(), Catch::Contains("max_tokens"));
    bad = p;
    int32_t bias_id = 100000;
    float bias_value = 1.0f;
    bad.n_logit_bias = 1;
    bad.logit_bias_ids = &bias_id;
    bad.logit_bias_values = &bias_value;
    CHECK(submit(api, {1, 403}, bad, &c) == LLMATC_ERR_INVALID_ARGUMENT);
    CHECK_THAT(llmatc::thread_error(), Catch::Contains("logit_bias") && Catch::Contains("100000"));
    CHECK(c.events == 0);  // refused requests produce no events
}

TEST_CASE("max_tokens is clamped to the context left: finish length", "[engine][requests]") {
    llmatc::EngineOptions o;
    o.max_model_len = 16;
    auto engine = make_engine(o);
    const llmatc_engine_api* api = engine->api();
    llmatc_sampling_params p = defaults(api);
    p.temperature = 0.0f;
    p.ignore_eos = 1;
    p.max_tokens = 100;
    Collected c;
    run(api, {1, 403, 407, 261, 378}, p, c);
    CHECK(c.finish == LLMATC_FINISH_LENGTH);
    CHECK(c.tokens.size() == 11);  // 5 prompt + 11 = 16
}

TEST_CASE("the same seed gives the same tokens, alone or in a busy batch", "[engine][requests]") {
    auto engine = make_engine();
    const llmatc_engine_api* api = engine->api();
    llmatc_sampling_params p = defaults(api);
    p.temperature = 1.0f;
    p.has_seed = 1;
    p.seed = 1234;
    p.max_tokens = 40;
    p.ignore_eos = 1;
    std::vector<int32_t> prompt{1, 403, 407, 261, 378};
    Collected alone;
    run(api, prompt, p, alone);

    std::vector<Collected> noise(6);
    llmatc_sampling_params q = p;
    q.has_seed = 0;
    for (auto& n : noise) REQUIRE(submit(api, {1, 415, 266}, q, &n) == LLMATC_OK);
    Collected busy;
    REQUIRE(submit(api, prompt, p, &busy) == LLMATC_OK);
    busy.wait();
    for (auto& n : noise) n.wait();
    CHECK(busy.tokens == alone.tokens);

    Collected other_seed;
    p.seed = 99;
    run(api, prompt, p, other_seed);
    CHECK(other_seed.tokens != alone.tokens);
}

TEST_CASE("stop strings end generation without their text; stop tokens and min_tokens", "[engine][requests]") {
    auto engine = make_engine();
    const llmatc_engine_api* api = engine->api();
    llmatc_sampling_params p = defaults(api);
    p.temperature = 0.0f;
    p.max_tokens = 48;
    p.ignore_eos = 1;
    std::vector<int32_t> prompt{1, 403, 407, 261, 378};  // greedy: ", there was a little girl named Lily. She..."
    Collected full;
    run(api, prompt, p, full);
    REQUIRE(full.text.find("Lily") != std::string::npos);

    SECTION("a stop string spanning tokens") {
        const char* stop = "ily. S";  // across "Lily", "." and " She"
        size_t len = std::strlen(stop);
        p.n_stop = 1;
        p.stop = &stop;
        p.stop_lens = &len;
        Collected c;
        run(api, prompt, p, c);
        CHECK(c.finish == LLMATC_FINISH_STOP);
        CHECK(c.text == full.text.substr(0, full.text.find(stop)));
        p.include_stop_str_in_output = 1;
        Collected kept;
        run(api, prompt, p, kept);
        CHECK(kept.text == full.text.substr(0, full.text.find(stop) + len));
    }
    SECTION("a stop token id") {
        int32_t stop_id = full.tokens[5];
        p.n_stop_token_ids = 1;
        p.stop_token_ids = &stop_id;
        Collected c;
        run(api, prompt, p, c);
        CHECK(c.finish == LLMATC_FINISH_STOP);
        REQUIRE(c.tokens.size() == 6);
        CHECK(c.tokens.back() == stop_id);
        // The stop token adds no text.
        std::vector<int32_t> first5(full.tokens.begin(), full.tokens.begin() + 5);
        std::vector<int32_t> ctx = prompt;
        ctx.insert(ctx.end(), first5.begin(), first5.end());
        CHECK(detok(api, ctx).substr(detok(api, prompt).size()) == c.text);
    }
    SECTION("min_tokens masks the stop token until reached") {
        int32_t stop_id = full.tokens[0];
        p.n_stop_token_ids = 1;
        p.stop_token_ids = &stop_id;
        p.min_tokens = 3;
        Collected c;
        run(api, prompt, p, c);
        REQUIRE(c.tokens.size() >= 3);
        CHECK(c.tokens[0] != stop_id);
    }
}

TEST_CASE("text deltas concatenate to the decoded continuation", "[engine][requests]") {
    auto engine = make_engine();
    const llmatc_engine_api* api = engine->api();
    llmatc_sampling_params p = defaults(api);
    p.temperature = 0.0f;
    p.max_tokens = 48;
    p.ignore_eos = 1;
    std::vector<int32_t> prompt{1, 403, 407, 261, 378};
    Collected c;
    run(api, prompt, p, c);
    CHECK(c.events == 48);
    std::vector<int32_t> all = prompt;
    all.insert(all.end(), c.tokens.begin(), c.tokens.end());
    CHECK(prompt.size() > 0);
    CHECK(detok(api, prompt) + c.text == detok(api, all));
    CHECK(c.text.rfind(", there was a little girl named Lily.", 0) == 0);
}

TEST_CASE("logprobs and prompt logprobs agree with each other", "[engine][requests]") {
    auto engine = make_engine();
    const llmatc_engine_api* api = engine->api();
    llmatc_sampling_params p = defaults(api);
    p.temperature = 0.0f;
    p.max_tokens = 4;
    p.logprobs = 3;
    std::vector<int32_t> prompt{1, 403, 407, 261, 378};
    Collected gen;
    run(api, prompt, p, gen);
    REQUIRE(gen.logprobs.size() == 4);
    REQUIRE(gen.top.size() == 4);
    CHECK(gen.top[0][0].token_id == gen.tokens[0]);  // greedy = the best alternative
    CHECK(gen.top[0][0].logprob == Approx(gen.logprobs[0]));
    CHECK(gen.top[0][0].logprob >= gen.top[0][1].logprob);
    CHECK(gen.top[0][0].token_id == 432);  // reference.json's first_step_top5: ',' then '▁there'
    CHECK(gen.top[0][1].token_id == 383);

    // Echo: score prompt + generated tokens as a prompt; its entries match the generated logprobs.
    std::vector<int32_t> echo = prompt;
    echo.insert(echo.end(), gen.tokens.begin(), gen.tokens.end());
    llmatc_sampling_params e = p;
    e.max_tokens = 1;
    e.prompt_logprobs = 3;
    Collected scored;
    run(api, echo, e, scored);
    REQUIRE(scored.prompt_logprobs.size() == echo.size());
    CHECK(scored.prompt_logprobs[0] == 0.0f);
    for (size_t i = 0; i < gen.tokens.size(); ++i)
        CHECK(scored.prompt_logprobs[prompt.size() + i] == Approx(gen.logprobs[i]).margin(1e-4));
    CHECK(scored.n_cached_prompt_tokens == 0);  // prompt logprobs need every row: no prefix cache
}

TEST_CASE("cancel frees the request's blocks at once and ends it with abort", "[engine][requests]") {
    auto engine = make_engine();
    const llmatc_engine_api* api = engine->api();
    llmatc_sampling_params p = defaults(api);
    p.max_tokens = 400;
    p.ignore_eos = 1;
    Collected c;
    uint64_t id = 0;
    REQUIRE(submit(api, {1, 403, 407}, p, &c, &id) == LLMATC_OK);
    // Cancelled once its first token is out: 399 more decode steps remain, far longer than the cancel takes (a fixed
    // sleep raced the tiny model, which can finish 400 tokens in it).
    c.wait_for_events(1);
    api->cancel(api->engine, id);
    c.wait();
    CHECK(c.finish == LLMATC_FINISH_ABORT);
    CHECK(c.tokens.size() < 400);
    const std::string m = metrics(api);
    CHECK(metric_value(m, "llmatc_kv_cache_usage_perc{") == 0);
    CHECK(metric_value(m, "llmatc_request_success_total{model_name=\"stories260k\",finished_reason=\"abort\"}") == 1);
    api->cancel(api->engine, id);      // finished: ignored
    api->cancel(api->engine, 987654);  // unknown: ignored
    Collected after;
    p.max_tokens = 2;
    run(api, {1, 403}, p, after);  // still serving
    CHECK(after.finish == LLMATC_FINISH_LENGTH);
}

TEST_CASE("a full queue answers unavailable", "[engine][requests]") {
    llmatc::EngineOptions o;
    o.max_num_seqs = 1;
    o.max_queue = 2;
    auto engine = make_engine(o);
    const llmatc_engine_api* api = engine->api();
    llmatc_sampling_params p = defaults(api);
    p.max_tokens = 500;
    p.ignore_eos = 1;
    std::vector<Collected> got(8);
    std::vector<uint64_t> ids(8);
    int refused = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        llmatc_status s = submit(api, {1, 403}, p, &got[i], &ids[i]);
        if (s == LLMATC_ERR_UNAVAILABLE) {
            ++refused;
            CHECK_THAT(llmatc::thread_error(), Catch::Contains("queue is full"));
        }
    }
    CHECK(refused >= 5);  // one runs, two wait
    engine->shutdown();   // aborts what is left; every accepted request gets its final event
}

TEST_CASE("embeddings: mean of the final hidden states, L2-normalised, unaffected by batching", "[engine][embed]") {
    auto engine = make_engine();
    const llmatc_engine_api* api = engine->api();
    llmatc_model_info info{};
    REQUIRE(api->model_info(api->engine, 0, &info) == LLMATC_OK);
    CHECK(info.hidden_size == 64);
    CHECK(info.max_model_len == 512);
    CHECK(std::string(info.id) == "stories260k");
    std::vector<int32_t> toks{1, 403, 407, 261, 378};
    std::vector<float> a(64), b(64), other(64);
    REQUIRE(api->embed(api->engine, nullptr, 0, toks.data(), 5, a.data(), a.size()) == LLMATC_OK);
    double norm = 0;
    for (float v : a) norm += v * v;
    CHECK(std::sqrt(norm) == Approx(1.0).margin(1e-5));

    // Again while generations run: the same vector.
    llmatc_sampling_params p = defaults(api);
    p.max_tokens = 100;
    p.ignore_eos = 1;
    std::vector<Collected> busy(4);
    for (auto& c : busy) REQUIRE(submit(api, {1, 415, 266}, p, &c) == LLMATC_OK);
    REQUIRE(api->embed(api->engine, nullptr, 0, toks.data(), 5, b.data(), b.size()) == LLMATC_OK);
    for (auto& c : busy) c.wait();
    CHECK(a == b);
    std::vector<int32_t> toks2{1, 415, 266};
    REQUIRE(api->embed(api->engine, nullptr, 0, toks2.data(), 3, other.data(), other.size()) == LLMATC_OK);
    CHECK(a != other);

    CHECK(api->embed(api->engine, nullptr, 0, toks.data(), 5, a.data(), 10) == LLMATC_ERR_INVALID_ARGUMENT);
    CHECK_THAT(llmatc::thread_error(), Catch::Contains("64"));
    CHECK(api->embed(api->engine, nullptr, 0, toks.data(), 0, a.data(), a.size()) == LLMATC_ERR_INVALID_ARGUMENT);
}

TEST_CASE("metrics use vLLM's names with the llmatc_ prefix", "[engine][metrics]") {
    auto engine = make_engine();
    const llmatc_engine_api* api = engine->api();
    llmatc_sampling_params p = defaults(api);
    p.max_tokens = 5;
    p.ignore_eos = 1;
    Collected c;
    run(api, {1, 403, 407}, p, c);
    const std::string m = metrics(api);
    for (const char* name :
         {"llmatc_num_requests_running{", "llmatc_num_requests_waiting{", "llmatc_kv_cache_usage_perc{",
          "llmatc_kv_cache_blocks_free{", "llmatc_prefix_cache_hits_total{",
          "llmatc_time_to_first_token_seconds_bucket{", "llmatc_time_per_output_token_seconds_count{",
          "llmatc_e2e_request_latency_seconds_sum{"}) {
        INFO(name);
        CHECK(m.find(name) != std::string::npos);
    }
    CHECK(metric_value(m, "llmatc_prompt_tokens_total{") == 3);
    CHECK(metric_value(m, "llmatc_generation_tokens_total{") == 5);
    CHECK(metric_value(m, "llmatc_request_success_total{model_name=\"stories260k\",finished_reason=\"length\"}") == 1);
    CHECK(metric_value(m, "llmatc_time_per_output_token_seconds_count{") == 4);
    CHECK(api->healthy(api->engine) == 1);
    CHECK(std::string(api->version(api->engine)) == "0.1.0");
}

TEST_CASE("chat templates render through the engine; errors carry the template's message", "[engine][chat]") {
    llmatc::EngineOptions o;
    o.chat_template =
        "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role here') }}{% endif %}"
        "{{ bos_token }}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}[assistant]"
        "{% endif %}";
    auto engine = make_engine(o);
    const llmatc_engine_api* api = engine->api();
    auto render = [&](const std::string& json, std::string& out) {
        return api->apply_chat_template(api->engine, nullptr, 0, json.data(), json.size(), 1,
                                        [](const char* d, size_t n, void* u) {
                                            static_cast<std::string*>(u)->append(d, n);
                                        },
                                        &out);
    };
    std::string out;
    REQUIRE(render(R"([{"role":"user","content":"Hi"}])", out) == LLMATC_OK);
    CHECK(out == "<s>[user] Hi\n[assistant]");
    out.clear();
    CHECK(render(R"([{"role":"system","content":"x"}])", out) == LLMATC_ERR_INVALID_ARGUMENT);
    CHECK_THAT(llmatc::thread_error(), Catch::Contains("no system role here"));
    CHECK(render("[{", out) == LLMATC_ERR_INVALID_ARGUMENT);
    CHECK_THAT(llmatc::thread_error(), Catch::Contains("invalid JSON"));
}

TEST_CASE("tokenize, detokenize and token_text go through the model's tokenizer", "[engine]") {
    auto engine = make_engine();
    const llmatc_engine_api* api = engine->api();
    CHECK(tokenize(api, "Once upon a time") == std::vector<int32_t>{1, 403, 407, 261, 378});
    CHECK(detok(api, {1, 403, 407, 261, 378}) == "Once upon a time");
    size_t n = 0;
    int32_t small[2];
    CHECK(api->tokenize(api->engine, nullptr, 0, "Once upon a time", 16, 1, small, 2, &n) == LLMATC_ERR_OUT_OF_MEMORY);
    CHECK(n == 5);
    std::string piece;
    REQUIRE(api->token_text(api->engine, nullptr, 0, 383,
                            [](const char* d, size_t k, void* u) { static_cast<std::string*>(u)->append(d, k); },
                            &piece) == LLMATC_OK);
    CHECK(piece == " there");
    CHECK(api->token_text(api->engine, nullptr, 0, 512, [](const char*, size_t, void*) {}, nullptr) ==
          LLMATC_ERR_INVALID_ARGUMENT);
}
