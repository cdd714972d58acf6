// core/engine/sampling_params.h — a request's sampling and stopping parameters, owned and validated.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "llmatc/frontend.h"

namespace llmatc::engine {

// The engine's own copy of llmatc_sampling_params (the C struct's pointers are only borrowed during submit).
struct SamplingParams {
    float temperature = 1.0f;
    float top_p = 1.0f;
    int32_t top_k = 0;
    float min_p = 0.0f;
    bool has_seed = false;
    uint64_t seed = 0;
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    float repetition_penalty = 1.0f;
    std::vector<std::pair<int32_t, float>> logit_bias;
    std::vector<std::string> stop;
    std::vector<int32_t> stop_token_ids;
    bool ignore_eos = false;
    int32_t min_tokens = 0;
    int32_t max_tokens = 16;
    int32_t logprobs = -1;
    int32_t prompt_logprobs = -1;
    bool include_stop_str_in_output = false;
    bool skip_special_tokens = true;

    bool greedy() const { return temperature == 0.0f; }
};

// The defaults frontends start from (temperature 1, top_p 1, max_tokens 16, logprobs -1 ...).
void fill_default_sampling(llmatc_sampling_params* out);

// Copies and validates `in` for a model with `vocab_size` tokens. Throws Error(INVALID_ARGUMENT) naming the
// parameter and its allowed range.
SamplingParams parse_sampling_params(const llmatc_sampling_params& in, int32_t vocab_size);

// Most alternatives a request may ask for per token (vLLM's default limit).
inline constexpr int32_t kMaxLogprobs = 20;

}  // namespace llmatc::engine
