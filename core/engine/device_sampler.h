// core/engine/device_sampler.h — token choice where the logits are (llmatc_kernels.sample), for requests that qualify.
#pragma once

#include <cstdint>
#include <span>

#include "engine/sequence.h"
#include "llmatc/kernels.h"

namespace llmatc::engine {

// Whether `seq`'s next token can be chosen by the backend's sample slot: a generation request that wants no
// logprobs (its own or the prompt's), no penalties, no logit_bias, and is past min_tokens (so no stop ids are
// masked). Everything else goes through the host sampler (sampler.h), which implements all of those.
bool samples_on_device(const Sequence& seq);

// The sample slot's parameters for a request's sampling settings and its uniform draw u in [0, 1) (0 for greedy).
llmatc_sample_params sample_slot_params(const SamplingParams& p, double u);

// Owns the backend buffer a step's logits stay in and calls the backend's sample slot. The backend's choice is the
// host sampler's for the same draws (llmatc_sample_params); on the CPU backend bit for bit (tested), so the engine
// uses it there too. Used from the step thread only.
class DeviceSampler {
public:
    // Usable when `kernels` has the sample slot (ABI 1.1 table) and the model writes llmatc_batch.device_logits.
    DeviceSampler(const llmatc_kernels* kernels, bool model_writes_device_logits, int32_t vocab_size);
    ~DeviceSampler();
    DeviceSampler(const DeviceSampler&) = delete;
    DeviceSampler& operator=(const DeviceSampler&) = delete;

    bool available() const { return available_; }
    // A backend buffer for n_rows logits rows, valid until the next call. Throws Error(OUT_OF_MEMORY).
    float* logits_buffer(int32_t n_rows);
    // Chooses one token per row of the buffer (params.size() rows); logprobs get log_softmax of the raw logits at
    // the chosen token. Throws llmatc::Error with the backend's message.
    void sample(std::span<const llmatc_sample_params> params, std::span<int32_t> tokens, std::span<float> logprobs);

private:
    const llmatc_kernels* kernels_;
    bool available_ = false;
    int32_t vocab_size_;
    float* buffer_ = nullptr;
    int32_t buffer_rows_ = 0;
};

}  // namespace llmatc::engine
