// core/engine/sampler.h — picks one request's next token from its logits row (penalties, bias, filters, seed).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "engine/sampling_params.h"
#include "llmatc/frontend.h"

namespace llmatc::engine {

struct SampleResult {
    int32_t token = -1;
    float logprob = 0.0f;                    // of the chosen token (log_softmax of the raw logits)
    std::vector<llmatc_token_logprob> top;   // the n_top best alternatives, best first (same distribution)
};

// Chooses a token for one sequence. Pure function of its inputs: the same logits, history, parameters and RNG
// state give the same token, whatever else is in the batch.
//
// Order (as vLLM): logit_bias, min_tokens masking of stop ids, repetition penalty (prompt + output tokens, HF's
// divide/multiply rule), frequency and presence penalties (output tokens, OpenAI's rule); then greedy argmax
// (lowest id on ties) when temperature is 0, else temperature, top_k, top_p, min_p and one draw from `rng`.
// Log-probabilities, as vLLM reports them by default, come from log_softmax of the raw logits, before any of
// that processing.
//
// `masked_ids` are set to -inf before choosing (the engine passes EOS/stop ids while min_tokens is not reached).
SampleResult sample_token(std::span<const float> logits, const SamplingParams& params,
                          std::span<const int32_t> prompt_tokens, std::span<const int32_t> output_tokens,
                          std::span<const int32_t> masked_ids, int32_t n_top, std::mt19937_64& rng);

// log_softmax of `logits` into `out` (resized): logits[i] - cpu::log_sum_exp(logits), rounded to float.
void log_softmax(std::span<const float> logits, std::vector<float>& out);

// The `k` largest entries of `logprobs` as (id, logprob), best first, lowest id first on ties.
std::vector<llmatc_token_logprob> top_logprobs(std::span<const float> logprobs, int32_t k);

// A uniform double in [0, 1) from 53 bits of `rng` (defined here, not by the standard library, so seeded output
// does not change with the C++ library version).
double uniform01(std::mt19937_64& rng);

}  // namespace llmatc::engine
