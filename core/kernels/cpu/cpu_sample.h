// core/kernels/cpu/cpu_sample.h — the CPU backend's token sampling (llmatc_kernels.sample) as a C++ function.
#pragma once

#include <cstdint>

#include "llmatc/kernels.h"

namespace llmatc::cpu {

// Chooses one token per row of `logits` [n_rows, vocab] as llmatc_sample_params documents (the engine's host
// sampler without penalties, bias or masking; the same float and double operations in the same order, so the
// results are bit-identical to it for the same draws). Throws llmatc::Error naming the bad argument.
void op_sample(const float* logits, int64_t n_rows, int32_t vocab, const llmatc_sample_params* params,
               int32_t* out_tokens, float* out_logprobs);

}  // namespace llmatc::cpu
