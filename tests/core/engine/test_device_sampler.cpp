// tests/core/engine/test_device_sampler.cpp — the backend sample slot (CPU) against the host sampler, and when the
// engine may use it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "engine/device_sampler.h"
#include "engine/sampler.h"
#include "kernels/backend.h"
#include "util/error.h"

using namespace llmatc::engine;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Logits with the cases that decide ties and filters: repeated values, a few -inf, a wide range.
std::vector<float> make_logits(int32_t vocab, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> x(static_cast<size_t>(vocab));
    for (float& v : x) v = normal(rng);
    for (int32_t i = 0; i < vocab; i += 7) x[size_t(i)] = x[size_t(i / 2)];  // ties
    x[size_t(vocab / 3)] = kNegInf;
    x[size_t(vocab - 1)] = kNegInf;
    return x;
}

uint32_t bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    return b;
}

}  // namespace

TEST_CASE("the CPU sample slot chooses what the host sampler chooses for the same draws", "[device_sampler]") {
    auto backend = llmatc::create_cpu_backend(1);
    const int32_t vocab = 997;
    DeviceSampler sampler(backend->table(), true, vocab);
    REQUIRE(sampler.available());

    const std::vector<float> temperatures{0.0f, 0.25f, 1.0f, 1.7f};
    const std::vector<int32_t> top_ks{0, 1, 5, 64, vocab + 3};
    const std::vector<float> top_ps{1.0f, 0.9f, 0.5f, 0.01f};
    const std::vector<float> min_ps{0.0f, 0.05f, 0.6f};
    // Each combination runs as one row of a batch, so rows with different parameters share a call.
    std::vector<SamplingParams> combos;
    for (float t : temperatures)
        for (int32_t k : top_ks)
            for (float tp : top_ps)
                for (float mp : min_ps) {
                    SamplingParams p;
                    p.temperature = t;
                    p.top_k = k;
                    p.top_p = tp;
                    p.min_p = mp;
                    combos.push_back(p);
                }
    const int32_t n_rows = static_cast<int32_t>(combos.size());
    int n_compared = 0, n_non_greedy_distinct = 0;
    for (uint64_t round = 0; round < 5; ++round) {
        std::vector<float> all(static_cast<size_t>(n_rows) * vocab);
        for (int32_t r = 0; r < n_rows; ++r) {
            const auto row = make_logits(vocab, round * 1000 + uint64_t(r));
            std::copy(row.begin(), row.end(), all.begin() + ptrdiff_t(r) * vocab);
        }
        float* buffer = sampler.logits_buffer(n_rows);
        REQUIRE(backend->table()->to_backend(backend->table()->ctx, buffer, all.data(), all.size() * sizeof(float)) ==
                LLMATC_OK);

        std::vector<llmatc_sample_params> params;
        std::vector<SampleResult> expected;
        for (int32_t r = 0; r < n_rows; ++r) {
            const SamplingParams& p = combos[size_t(r)];
            std::mt19937_64 host_rng(round * 7919 + uint64_t(r));
            std::mt19937_64 device_rng = host_rng;
            const std::span<const float> row(all.data() + ptrdiff_t(r) * vocab, size_t(vocab));
            expected.push_back(sample_token(row, p, {}, {}, {}, 0, host_rng));
            params.push_back(sample_slot_params(p, p.greedy() ? 0.0 : uniform01(device_rng)));
        }
        std::vector<int32_t> tokens(params.size(), -1);
        std::vector<float> logprobs(params.size(), 0.0f);
        sampler.sample(params, tokens, logprobs);
        for (size_t r = 0; r < params.size(); ++r) {
            INFO("round " << round << " row " << r << ": temperature " << combos[r].temperature << " top_k "
                          << combos[r].top_k << " top_p " << combos[r].top_p << " min_p " << combos[r].min_p);
            CHECK(tokens[r] == expected[r].token);
            CHECK(bits(logprobs[r]) == bits(expected[r].logprob));
            ++n_compared;
            const float* row = all.data() + ptrdiff_t(r) * vocab;
            if (!combos[r].greedy() && tokens[r] != int32_t(std::max_element(row, row + vocab) - row))
                ++n_non_greedy_distinct;
        }
    }
    CHECK(n_compared == 5 * n_rows);
    CHECK(n_non_greedy_distinct > 0);  // the draws reached tokens other than the best one
}

TEST_CASE("the sample slot's draw: u = 0 takes the best kept candidate, u near 1 the last", "[device_sampler]") {
    auto backend = llmatc::create_cpu_backend(1);
    const int32_t vocab = 6;
    DeviceSampler sampler(backend->table(), true, vocab);
    const std::vector<float> logits{1.0f, 3.0f, 2.0f, 3.0f, 0.5f, -1.0f};  // best first: 1, 3 (tie), 2, 0, 4, 5
    float* buffer = sampler.logits_buffer(2);
    for (int r = 0; r < 2; ++r)
        REQUIRE(backend->table()->to_backend(backend->table()->ctx, buffer + r * vocab, logits.data(),
                                             logits.size() * sizeof(float)) == LLMATC_OK);
    SamplingParams p;
    p.top_k = 4;
    const std::vector<llmatc_sample_params> params{sample_slot_params(p, 0.0),
                                                   sample_slot_params(p, std::nextafter(1.0, 0.0))};
    std::vector<int32_t> tokens(2);
    std::vector<float> logprobs(2);
    sampler.sample(params, tokens, logprobs);
    CHECK(tokens[0] == 1);
    CHECK(tokens[1] == 0);
    double sum = 0.0;
    for (float v : logits) sum += std::exp(double(v) - 3.0);
    CHECK(logprobs[1] == Approx(1.0 - 3.0 - std::log(sum)));
}

TEST_CASE("the sample slot refuses bad parameters naming them", "[device_sampler]") {
    auto backend = llmatc::create_cpu_backend(1);
    const llmatc_kernels* k = backend->table();
    const int32_t vocab = 4;
    std::vector<float> logits{0.0f, 1.0f, 2.0f, 3.0f};
    int32_t token = -1;
    SamplingParams p;
    auto refused = [&](llmatc_sample_params sp, const char* what) {
        llmatc::set_thread_error("");
        CHECK(k->sample(k->ctx, logits.data(), 1, vocab, &sp, &token, nullptr) == LLMATC_ERR_INVALID_ARGUMENT);
        CHECK_THAT(llmatc::thread_error(), Catch::Contains(what));
    };
    auto sp = sample_slot_params(p, 0.5);
    sp.top_p = 0.0f;
    refused(sp, "top_p");
    sp = sample_slot_params(p, 0.5);
    sp.temperature = -1.0f;
    refused(sp, "temperature");
    sp = sample_slot_params(p, 0.5);
    sp.u = 1.0;
    refused(sp, "u must be in [0, 1)");
    sp = sample_slot_params(p, 0.5);
    sp.top_k = -2;
    refused(sp, "top_k");
    sp = sample_slot_params(p, 0.5);
    sp.struct_size = 8;
    refused(sp, "struct_size");
    CHECK(k->sample(k->ctx, logits.data(), 1, 0, &sp, &token, nullptr) == LLMATC_ERR_INVALID_ARGUMENT);
    CHECK(token == -1);  // nothing written on refusal
}

TEST_CASE("device sampling is offered only by a 1.1 table with the slot and a model that writes device logits",
          "[device_sampler]") {
    auto backend = llmatc::create_cpu_backend(1);
    CHECK_FALSE(DeviceSampler(backend->table(), false, 10).available());
    llmatc_kernels old_table = *backend->table();
    old_table.struct_size = static_cast<uint32_t>(offsetof(llmatc_kernels, sample));  // an ABI 1.0 backend
    CHECK_FALSE(DeviceSampler(&old_table, true, 10).available());
    llmatc_kernels no_slot = *backend->table();
    no_slot.sample = nullptr;
    CHECK_FALSE(DeviceSampler(&no_slot, true, 10).available());
    CHECK(DeviceSampler(backend->table(), true, 10).available());
}

TEST_CASE("only requests without logprobs, penalties, bias or masking sample on the device", "[device_sampler]") {
    Sequence seq;
    seq.tokens = {1, 2, 3};
    seq.n_prompt = 3;
    CHECK(samples_on_device(seq));
    auto without = [&](auto change) {
        Sequence s;
        s.tokens = seq.tokens;
        s.n_prompt = seq.n_prompt;
        change(s);
        return samples_on_device(s);
    };
    CHECK_FALSE(without([](Sequence& s) { s.kind = SequenceKind::Embed; }));
    CHECK_FALSE(without([](Sequence& s) { s.params.logprobs = 0; }));
    CHECK_FALSE(without([](Sequence& s) { s.params.prompt_logprobs = 0; }));
    CHECK_FALSE(without([](Sequence& s) { s.params.logit_bias.push_back({1, 2.0f}); }));
    CHECK_FALSE(without([](Sequence& s) { s.params.repetition_penalty = 1.1f; }));
    CHECK_FALSE(without([](Sequence& s) { s.params.frequency_penalty = 0.5f; }));
    CHECK_FALSE(without([](Sequence& s) { s.params.presence_penalty = -0.5f; }));
    CHECK_FALSE(without([](Sequence& s) { s.params.min_tokens = 1; }));
    CHECK(without([](Sequence& s) {
        s.params.min_tokens = 1;
        s.tokens.push_back(4);  // one generated: min_tokens reached, nothing masked any more
    }));
}
