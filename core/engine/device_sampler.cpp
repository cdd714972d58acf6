// core/engine/device_sampler.cpp — the backend buffer for a step's logits and the call to the backend's sample slot.
#include "engine/device_sampler.h"

#include <cstddef>
#include <string>

#include "util/error.h"

namespace llmatc::engine {

bool samples_on_device(const Sequence& seq) {
    const SamplingParams& p = seq.params;
    return seq.kind == SequenceKind::Generate && p.logprobs < 0 && p.prompt_logprobs < 0 && seq.n_top == 0 &&
           p.logit_bias.empty() && p.repetition_penalty == 1.0f && p.frequency_penalty == 0.0f &&
           p.presence_penalty == 0.0f && seq.n_generated() >= p.min_tokens;
}

llmatc_sample_params sample_slot_params(const SamplingParams& p, double u) {
    llmatc_sample_params out{};
    out.struct_size = sizeof(out);
    out.abi_version = LLMATC_ABI_VERSION;
    out.temperature = p.temperature;
    out.top_k = p.top_k;
    out.top_p = p.top_p;
    out.min_p = p.min_p;
    out.u = u;
    return out;
}

DeviceSampler::DeviceSampler(const llmatc_kernels* kernels, bool model_writes_device_logits, int32_t vocab_size)
    : kernels_(kernels), vocab_size_(vocab_size) {
    // A table from an ABI 1.0 backend ends before the slot: struct_size says whether it exists.
    const bool has_slot = kernels && kernels->struct_size >= offsetof(llmatc_kernels, sample) + sizeof(void*) &&
                          kernels->sample && kernels->alloc && kernels->free;
    available_ = has_slot && model_writes_device_logits && vocab_size > 0;
}

DeviceSampler::~DeviceSampler() {
    if (buffer_) kernels_->free(kernels_->ctx, buffer_);
}

float* DeviceSampler::logits_buffer(int32_t n_rows) {
    if (n_rows > buffer_rows_) {
        if (buffer_) kernels_->free(kernels_->ctx, buffer_);
        buffer_ = nullptr;
        buffer_rows_ = 0;
        const size_t bytes = static_cast<size_t>(n_rows) * static_cast<size_t>(vocab_size_) * sizeof(float);
        buffer_ = static_cast<float*>(kernels_->alloc(kernels_->ctx, bytes));
        if (!buffer_)
            throw Error(LLMATC_ERR_OUT_OF_MEMORY, std::string(kernels_->name) + " backend: no memory for " +
                                                      std::to_string(n_rows) + " rows of logits (" +
                                                      std::to_string(bytes) + " bytes)");
        buffer_rows_ = n_rows;
    }
    return buffer_;
}

void DeviceSampler::sample(std::span<const llmatc_sample_params> params, std::span<int32_t> tokens,
                           std::span<float> logprobs) {
    if (params.empty()) return;
    if (static_cast<int64_t>(params.size()) > buffer_rows_ || tokens.size() < params.size() ||
        logprobs.size() < params.size())
        throw Error(LLMATC_ERR_INTERNAL, "device sampling: " + std::to_string(params.size()) +
                                             " rows do not fit the logits buffer or the outputs");
    const llmatc_status status = kernels_->sample(kernels_->ctx, buffer_, static_cast<int64_t>(params.size()),
                                                  vocab_size_, params.data(), tokens.data(), logprobs.data());
    if (status != LLMATC_OK) check_status(status, std::string(kernels_->name) + " backend: sample");
}

}  // namespace llmatc::engine
