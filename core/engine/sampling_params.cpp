// core/engine/sampling_params.cpp — copying the C sampling parameters into owned form, with range checks.
#include "engine/sampling_params.h"

#include <cmath>
#include <string>

#include "util/error.h"

namespace llmatc::engine {

namespace {
[[noreturn]] void bad(const std::string& message) { throw Error(LLMATC_ERR_INVALID_ARGUMENT, message); }

std::string num(double v) {
    std::string s = std::to_string(v);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}
}  // namespace

void fill_default_sampling(llmatc_sampling_params* out) {
    *out = llmatc_sampling_params{};
    out->struct_size = sizeof(llmatc_sampling_params);
    out->abi_version = LLMATC_ABI_VERSION;
    out->temperature = 1.0f;
    out->top_p = 1.0f;
    out->top_k = 0;
    out->min_p = 0.0f;
    out->repetition_penalty = 1.0f;
    out->max_tokens = 16;
    out->logprobs = -1;
    out->prompt_logprobs = -1;
    out->skip_special_tokens = 1;
}

SamplingParams parse_sampling_params(const llmatc_sampling_params& in, int32_t vocab_size) {
    if (in.struct_size < sizeof(llmatc_sampling_params))
        bad("sampling parameters: struct_size " + std::to_string(in.struct_size) + " is smaller than " +
            std::to_string(sizeof(llmatc_sampling_params)) + " (fill them with default_sampling first)");
    SamplingParams p;
    if (!std::isfinite(in.temperature) || in.temperature < 0.0f)
        bad("temperature must be >= 0, got " + num(in.temperature));
    p.temperature = in.temperature;
    if (!(in.top_p > 0.0f && in.top_p <= 1.0f)) bad("top_p must be in (0, 1], got " + num(in.top_p));
    p.top_p = in.top_p;
    if (in.top_k < -1) bad("top_k must be -1, 0 (off) or a positive count, got " + std::to_string(in.top_k));
    p.top_k = in.top_k > 0 ? in.top_k : 0;
    if (!(in.min_p >= 0.0f && in.min_p <= 1.0f)) bad("min_p must be in [0, 1], got " + num(in.min_p));
    p.min_p = in.min_p;
    p.has_seed = in.has_seed != 0;
    p.seed = in.seed;
    if (!(in.presence_penalty >= -2.0f && in.presence_penalty <= 2.0f))
        bad("presence_penalty must be in [-2, 2], got " + num(in.presence_penalty));
    if (!(in.frequency_penalty >= -2.0f && in.frequency_penalty <= 2.0f))
        bad("frequency_penalty must be in [-2, 2], got " + num(in.frequency_penalty));
    if (!(in.repetition_penalty > 0.0f && std::isfinite(in.repetition_penalty)))
        bad("repetition_penalty must be > 0, got " + num(in.repetition_penalty));
    p.presence_penalty = in.presence_penalty;
    p.frequency_penalty = in.frequency_penalty;
    p.repetition_penalty = in.repetition_penalty;

    if (in.n_logit_bias < 0 || (in.n_logit_bias > 0 && (!in.logit_bias_ids || !in.logit_bias_values)))
        bad("logit_bias: count " + std::to_string(in.n_logit_bias) + " without ids/values");
    for (int32_t i = 0; i < in.n_logit_bias; ++i) {
        int32_t id = in.logit_bias_ids[i];
        float v = in.logit_bias_values[i];
        if (id < 0 || id >= vocab_size)
            bad("logit_bias: token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                std::to_string(vocab_size) + ")");
        if (!(v >= -100.0f && v <= 100.0f))
            bad("logit_bias: value " + num(v) + " for token " + std::to_string(id) + " must be in [-100, 100]");
        p.logit_bias.emplace_back(id, v);
    }

    if (in.n_stop < 0 || (in.n_stop > 0 && (!in.stop || !in.stop_lens)))
        bad("stop: count " + std::to_string(in.n_stop) + " without strings");
    for (int32_t i = 0; i < in.n_stop; ++i) {
        if (!in.stop[i] || in.stop_lens[i] == 0) bad("stop: string " + std::to_string(i) + " is empty");
        p.stop.emplace_back(in.stop[i], in.stop_lens[i]);
    }
    if (in.n_stop_token_ids < 0 || (in.n_stop_token_ids > 0 && !in.stop_token_ids))
        bad("stop_token_ids: count " + std::to_string(in.n_stop_token_ids) + " without ids");
    for (int32_t i = 0; i < in.n_stop_token_ids; ++i) {
        int32_t id = in.stop_token_ids[i];
        if (id < 0 || id >= vocab_size)
            bad("stop_token_ids: token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                std::to_string(vocab_size) + ")");
        p.stop_token_ids.push_back(id);
    }
    p.ignore_eos = in.ignore_eos != 0;
    if (in.min_tokens < 0) bad("min_tokens must be >= 0, got " + std::to_string(in.min_tokens));
    if (in.max_tokens <= 0) bad("max_tokens must be at least 1, got " + std::to_string(in.max_tokens));
    if (in.min_tokens > in.max_tokens)
        bad("min_tokens (" + std::to_string(in.min_tokens) + ") must not exceed max_tokens (" +
            std::to_string(in.max_tokens) + ")");
    p.min_tokens = in.min_tokens;
    p.max_tokens = in.max_tokens;
    if (in.logprobs < -1 || in.logprobs > kMaxLogprobs)
        bad("logprobs must be between 0 and " + std::to_string(kMaxLogprobs) + ", got " +
            std::to_string(in.logprobs));
    if (in.prompt_logprobs < -1 || in.prompt_logprobs > kMaxLogprobs)
        bad("prompt_logprobs must be between 0 and " + std::to_string(kMaxLogprobs) + ", got " +
            std::to_string(in.prompt_logprobs));
    p.logprobs = in.logprobs;
    p.prompt_logprobs = in.prompt_logprobs;
    p.include_stop_str_in_output = in.include_stop_str_in_output != 0;
    p.skip_special_tokens = in.skip_special_tokens != 0;
    return p;
}

}  // namespace llmatc::engine
