// frontends/openai/sampling_request.h — the sampling fields shared by completions and chat, parsed into llmatc_sampling_params.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine_client.h"
#include "json_fields.h"
#include "llmatc/frontend.h"

namespace llmatc::openai {

// Owns the storage the C struct points into; copy-safe (params() rebinds the pointers to this object's storage).
class SamplingRequest {
public:
    // Reads temperature, top_p, top_k, min_p, seed, presence/frequency/repetition penalties, logit_bias, stop,
    // stop_token_ids, ignore_eos, min_tokens, skip_special_tokens, include_stop_str_in_output. `max_tokens` is set by
    // the endpoint (its defaults differ). Throws bad_request naming the field.
    static SamplingRequest parse(const JsonFields& fields, const EngineClient& engine, const ServedModel& model);

    llmatc_sampling_params& raw() { return params_; }
    // The C struct with its pointers bound to this object's storage; valid while this object is unchanged.
    const llmatc_sampling_params& params();

private:
    llmatc_sampling_params params_{};
    std::vector<std::string> stop_;
    std::vector<const char*> stop_ptrs_;
    std::vector<size_t> stop_lens_;
    std::vector<int32_t> stop_token_ids_;
    std::vector<int32_t> bias_ids_;
    std::vector<float> bias_values_;
};

}  // namespace llmatc::openai
