// core/engine/sampler.cpp — logits processing and token choice for one sequence.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "kernels/cpu/logits_reductions.h"
#include "kernels/cpu/token_choice.h"

namespace llmatc::engine {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}  // namespace

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

void log_softmax(std::span<const float> logits, std::vector<float>& out) {
    out.resize(logits.size());
    const double log_sum = cpu::log_sum_exp(logits.data(), static_cast<int64_t>(logits.size()));
    for (size_t i = 0; i < logits.size(); ++i) out[i] = static_cast<float>(logits[i] - log_sum);
}

std::vector<llmatc_token_logprob> top_logprobs(std::span<const float> logprobs, int32_t k) {
    std::vector<llmatc_token_logprob> top;
    if (k <= 0) return top;
    k = std::min<int32_t>(k, static_cast<int32_t>(logprobs.size()));
    std::vector<int32_t> ids(logprobs.size());
    std::iota(ids.begin(), ids.end(), 0);
    auto better = [&](int32_t a, int32_t b) { return logprobs[a] > logprobs[b] || (logprobs[a] == logprobs[b] && a < b); };
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), better);
    for (int32_t i = 0; i < k; ++i) top.push_back({ids[i], logprobs[ids[i]]});
    return top;
}

SampleResult sample_token(std::span<const float> logits, const SamplingParams& params,
                          std::span<const int32_t> prompt_tokens, std::span<const int32_t> output_tokens,
                          std::span<const int32_t> masked_ids, int32_t n_top, std::mt19937_64& rng) {
    const int32_t vocab = static_cast<int32_t>(logits.size());
    std::vector<float> x(logits.begin(), logits.end());

    for (const auto& [id, bias] : params.logit_bias) x[id] += bias;
    for (int32_t id : masked_ids)
        if (id >= 0 && id < vocab) x[id] = kNegInf;

    if (params.repetition_penalty != 1.0f) {
        std::vector<bool> seen(static_cast<size_t>(vocab), false);
        for (int32_t t : prompt_tokens) if (t >= 0 && t < vocab) seen[t] = true;
        for (int32_t t : output_tokens) if (t >= 0 && t < vocab) seen[t] = true;
        for (int32_t id = 0; id < vocab; ++id) {
            if (!seen[id]) continue;
            x[id] = x[id] > 0 ? x[id] / params.repetition_penalty : x[id] * params.repetition_penalty;
        }
    }
    if (params.frequency_penalty != 0.0f || params.presence_penalty != 0.0f) {
        std::unordered_map<int32_t, int32_t> counts;
        for (int32_t t : output_tokens) ++counts[t];
        for (const auto& [id, count] : counts) {
            if (id < 0 || id >= vocab) continue;
            x[id] -= params.frequency_penalty * static_cast<float>(count) + params.presence_penalty;
        }
    }

    SampleResult result;
    if (params.greedy()) {
        result.token = cpu::row_argmax(x.data(), static_cast<int64_t>(x.size()));
    } else {
        // The CPU backend's draw (candidates best first, lowest id on ties), so the host and the backend's sample
        // slot choose alike for the same u.
        for (float& v : x) v /= params.temperature;
        thread_local cpu::TokenChoiceScratch scratch;
        result.token = cpu::choose_token(x.data(), vocab, params.top_k, params.top_p, params.min_p, uniform01(rng),
                                         scratch);
    }

    if (n_top > 0) {
        std::vector<float> lp;
        log_softmax(logits, lp);
        result.logprob = lp[result.token];
        result.top = top_logprobs(lp, n_top);
    } else {
        result.logprob = cpu::token_logprob(logits.data(), static_cast<int64_t>(logits.size()), result.token);
    }
    return result;
}

}  // namespace llmatc::engine
