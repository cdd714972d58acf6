// core/engine/sampler.cpp — logits processing and token choice for one sequence.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

namespace llmatc::engine {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

int32_t argmax(std::span<const float> x) {
    int32_t best = 0;
    for (int32_t i = 1; i < static_cast<int32_t>(x.size()); ++i)
        if (x[i] > x[best]) best = i;
    return best;
}
}  // namespace

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

void log_softmax(std::span<const float> logits, std::vector<float>& out) {
    out.resize(logits.size());
    float max = kNegInf;
    for (float v : logits) max = std::max(max, v);
    double sum = 0.0;
    for (float v : logits) sum += std::exp(static_cast<double>(v) - max);
    const double log_sum = std::log(sum) + max;
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
        result.token = argmax(x);
    } else {
        // Candidates sorted best first (lowest id on ties), so filtering and the draw do not depend on hash or
        // memory order.
        for (float& v : x) v /= params.temperature;
        std::vector<int32_t> order(static_cast<size_t>(vocab));
        std::iota(order.begin(), order.end(), 0);
        auto better = [&](int32_t a, int32_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); };
        size_t n_keep = order.size();
        if (params.top_k > 0 && static_cast<size_t>(params.top_k) < order.size()) {
            std::partial_sort(order.begin(), order.begin() + params.top_k, order.end(), better);
            n_keep = static_cast<size_t>(params.top_k);
        } else {
            std::sort(order.begin(), order.end(), better);
        }
        const float max = x[order[0]];
        std::vector<double> probs(n_keep);
        double total = 0.0;
        for (size_t i = 0; i < n_keep; ++i) total += probs[i] = std::exp(static_cast<double>(x[order[i]]) - max);
        if (params.top_p < 1.0f) {
            // Keep the smallest prefix whose mass reaches top_p (always at least the best token).
            double cum = 0.0;
            size_t keep = 0;
            while (keep < n_keep) {
                cum += probs[keep] / total;
                ++keep;
                if (cum >= params.top_p) break;
            }
            n_keep = keep;
        }
        if (params.min_p > 0.0f) {
            // probs[0] is the largest; drop those under min_p times it.
            const double floor = params.min_p * probs[0];
            size_t keep = 1;
            while (keep < n_keep && probs[keep] >= floor) ++keep;
            n_keep = keep;
        }
        total = 0.0;
        for (size_t i = 0; i < n_keep; ++i) total += probs[i];
        const double target = uniform01(rng) * total;
        double cum = 0.0;
        result.token = order[n_keep - 1];
        for (size_t i = 0; i < n_keep; ++i) {
            cum += probs[i];
            if (target < cum) {
                result.token = order[i];
                break;
            }
        }
        if (x[result.token] == kNegInf) result.token = argmax(x);  // every candidate masked: fall back, never -inf
    }

    std::vector<float> lp;
    log_softmax(logits, lp);
    result.logprob = lp[result.token];
    result.top = top_logprobs(lp, n_top);
    return result;
}

}  // namespace llmatc::engine
