// tests/core/engine/test_sampler.cpp — token choice on hand-built logits: greedy, seeds, filters, penalties, logprobs.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "engine/sampler.h"

using namespace llmatc::engine;

namespace {

SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    return p;
}

// Draws `n` tokens with a fresh RNG seeded `seed`; returns the sequence.
std::vector<int32_t> draws(const std::vector<float>& logits, const SamplingParams& p, uint64_t seed, int n) {
    std::mt19937_64 rng(seed);
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) out.push_back(sample_token(logits, p, {}, {}, {}, 0, rng).token);
    return out;
}

std::set<int32_t> distinct(const std::vector<int32_t>& v) { return {v.begin(), v.end()}; }

// Logits whose softmax is (0.6, 0.3, 0.1).
const std::vector<float> k631{std::log(0.6f), std::log(0.3f), std::log(0.1f)};

}  // namespace

TEST_CASE("greedy takes the largest logit, the lowest id on ties", "[sampler]") {
    std::mt19937_64 rng(1);
    CHECK(sample_token(std::vector<float>{0.1f, 2.0f, -1.0f}, greedy(), {}, {}, {}, 0, rng).token == 1);
    CHECK(sample_token(std::vector<float>{3.0f, 1.0f, 3.0f}, greedy(), {}, {}, {}, 0, rng).token == 0);
}

TEST_CASE("the same seed gives the same tokens; other seeds differ", "[sampler]") {
    std::vector<float> logits(50);
    for (int i = 0; i < 50; ++i) logits[i] = std::sin(static_cast<float>(i)) * 2.0f;
    SamplingParams p;
    p.temperature = 1.0f;
    auto a = draws(logits, p, 42, 64);
    CHECK(a == draws(logits, p, 42, 64));
    CHECK(a != draws(logits, p, 43, 64));
    CHECK(distinct(a).size() > 5);  // it really samples
}

TEST_CASE("sampling follows the distribution", "[sampler]") {
    SamplingParams p;
    auto d = draws(k631, p, 7, 6000);
    std::map<int32_t, int> count;
    for (int32_t t : d) ++count[t];
    CHECK(count[0] / 6000.0 == Approx(0.6).margin(0.03));
    CHECK(count[1] / 6000.0 == Approx(0.3).margin(0.03));
    CHECK(count[2] / 6000.0 == Approx(0.1).margin(0.02));
}

TEST_CASE("top_k, top_p and min_p keep only the allowed candidates", "[sampler]") {
    SamplingParams p;
    SECTION("top_k = 1 is greedy") {
        p.top_k = 1;
        CHECK(distinct(draws(k631, p, 1, 200)) == std::set<int32_t>{0});
    }
    SECTION("top_k = 2") {
        p.top_k = 2;
        CHECK(distinct(draws(k631, p, 1, 400)) == std::set<int32_t>{0, 1});
    }
    SECTION("top_p = 0.5 keeps the best token only") {
        p.top_p = 0.5f;
        CHECK(distinct(draws(k631, p, 1, 200)) == std::set<int32_t>{0});
    }
    SECTION("top_p = 0.8 keeps the two best") {
        p.top_p = 0.8f;
        CHECK(distinct(draws(k631, p, 1, 400)) == std::set<int32_t>{0, 1});
    }
    SECTION("min_p = 0.4 drops tokens under 0.24") {
        p.min_p = 0.4f;
        CHECK(distinct(draws(k631, p, 1, 400)) == std::set<int32_t>{0, 1});
    }
    SECTION("min_p = 0.6 keeps only the best (0.3 < 0.36)") {
        p.min_p = 0.6f;
        CHECK(distinct(draws(k631, p, 1, 200)) == std::set<int32_t>{0});
    }
    SECTION("a low temperature sharpens, a high one flattens") {
        p.temperature = 0.05f;
        CHECK(distinct(draws(k631, p, 1, 200)) == std::set<int32_t>{0});
        p.temperature = 5.0f;
        auto d = draws(k631, p, 1, 3000);
        int n2 = static_cast<int>(std::count(d.begin(), d.end(), 2));
        CHECK(n2 / 3000.0 > 0.2);  // 0.1 at T=1; about 0.27 at T=5
    }
}

TEST_CASE("repetition penalty divides positive and multiplies negative logits of seen tokens", "[sampler]") {
    SamplingParams p = greedy();
    p.repetition_penalty = 2.0f;
    std::mt19937_64 rng(1);
    std::vector<int32_t> prompt{0};
    // 3.0 / 2 = 1.5 < 2.0: token 1 wins once token 0 was seen (in the prompt).
    CHECK(sample_token(std::vector<float>{3.0f, 2.0f}, p, prompt, {}, {}, 0, rng).token == 1);
    // Negative: -1 * 2 = -2 < -1.5.
    std::vector<int32_t> output{0};
    CHECK(sample_token(std::vector<float>{-1.0f, -1.5f}, p, {}, output, {}, 0, rng).token == 1);
    p.repetition_penalty = 1.0f;
    CHECK(sample_token(std::vector<float>{3.0f, 2.0f}, p, prompt, {}, {}, 0, rng).token == 0);
}

TEST_CASE("frequency and presence penalties count generated tokens only", "[sampler]") {
    std::mt19937_64 rng(1);
    std::vector<int32_t> output{0, 0, 0};
    SamplingParams p = greedy();
    p.frequency_penalty = 0.5f;  // 3.0 - 3 * 0.5 = 1.5 < 2.0
    CHECK(sample_token(std::vector<float>{3.0f, 2.0f}, p, {}, output, {}, 0, rng).token == 1);
    p.frequency_penalty = 0.2f;  // 3.0 - 0.6 = 2.4 > 2.0
    CHECK(sample_token(std::vector<float>{3.0f, 2.0f}, p, {}, output, {}, 0, rng).token == 0);
    p.frequency_penalty = 0.0f;
    p.presence_penalty = 1.5f;  // once, whatever the count: 1.5 < 2.0
    CHECK(sample_token(std::vector<float>{3.0f, 2.0f}, p, {}, output, {}, 0, rng).token == 1);
    // Prompt tokens are not penalised by OpenAI's penalties.
    std::vector<int32_t> prompt{0, 0, 0};
    CHECK(sample_token(std::vector<float>{3.0f, 2.0f}, p, prompt, {}, {}, 0, rng).token == 0);
    p.presence_penalty = -2.0f;  // negative values encourage repeats
    CHECK(sample_token(std::vector<float>{1.0f, 2.0f}, p, {}, output, {}, 0, rng).token == 0);
}

TEST_CASE("logit_bias and masked ids change the choice", "[sampler]") {
    std::mt19937_64 rng(1);
    SamplingParams p = greedy();
    p.logit_bias = {{2, 5.0f}};
    CHECK(sample_token(std::vector<float>{1.0f, 2.0f, 0.0f}, p, {}, {}, {}, 0, rng).token == 2);
    p.logit_bias = {{1, -100.0f}};
    CHECK(sample_token(std::vector<float>{1.0f, 2.0f, 0.0f}, p, {}, {}, {}, 0, rng).token == 0);
    std::vector<int32_t> masked{1};
    CHECK(sample_token(std::vector<float>{1.0f, 2.0f, 0.0f}, greedy(), {}, {}, masked, 0, rng).token == 0);
    SamplingParams s;  // sampled, not greedy: a masked token is never drawn
    std::vector<int32_t> masked0{0};
    for (int i = 0; i < 200; ++i)
        CHECK(sample_token(k631, s, {}, {}, masked0, 0, rng).token != 0);
}

TEST_CASE("logprobs are log_softmax of the raw logits, with alternatives best first", "[sampler]") {
    std::mt19937_64 rng(1);
    SamplingParams p = greedy();
    p.logit_bias = {{2, 10.0f}};  // changes the choice, not the reported distribution
    SampleResult r = sample_token(k631, p, {}, {}, {}, 2, rng);
    CHECK(r.token == 2);
    CHECK(r.logprob == Approx(std::log(0.1)).margin(1e-5));
    REQUIRE(r.top.size() == 2);
    CHECK(r.top[0].token_id == 0);
    CHECK(r.top[0].logprob == Approx(std::log(0.6)).margin(1e-5));
    CHECK(r.top[1].token_id == 1);
    CHECK(r.top[1].logprob == Approx(std::log(0.3)).margin(1e-5));

    std::vector<float> lp;
    log_softmax(std::vector<float>{1000.0f, 1000.0f}, lp);  // no overflow
    CHECK(lp[0] == Approx(std::log(0.5)).margin(1e-5));
    CHECK(top_logprobs(lp, 5).size() == 2);
    CHECK(top_logprobs(lp, 5)[0].token_id == 0);  // lowest id first on ties
}

TEST_CASE("uniform01 stays in [0, 1)", "[sampler]") {
    std::mt19937_64 rng(3);
    for (int i = 0; i < 10000; ++i) {
        double u = uniform01(rng);
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
    }
}
