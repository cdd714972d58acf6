// core/kernels/cuda/cuda_sample.h — the launcher of the GPU token sampler (llmatc_kernels.sample) and its inputs.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace llmatc::cuda {

// One row's parameters as the kernels read them (repacked from llmatc_sample_params, whose stride may grow).
struct SampleRowParams {
    float temperature;
    int32_t top_k;
    float top_p;
    float min_p;
    double u;
};

// Rows sorted per launch of the segmented sort: bounds the scratch to kSampleRowsPerSort * vocab * 16 bytes.
constexpr int64_t kSampleRowsPerSort = 32;

// Device scratch bytes launch_sample needs for `n_rows` rows of `vocab` (0 rows sorted when none samples).
size_t sample_scratch_bytes(int64_t n_rows, int32_t vocab, bool any_sampled);

// Queues the choice of one token per row of `logits` (device, [n_rows, vocab]) into tokens/logprobs (device,
// [n_rows]). params: device [n_rows]. any_sampled: some row has temperature > 0 (else no sort is run). The
// semantics are llmatc_sample_params's; sums run in a block-parallel order, so a sampled (not greedy) choice can
// differ from the CPU backend's where a cumulative sum lands within rounding of a threshold. Throws CudaError.
void launch_sample(cudaStream_t stream, const float* logits, int64_t n_rows, int32_t vocab,
                   const SampleRowParams* params, bool any_sampled, void* scratch, size_t scratch_bytes,
                   int32_t* tokens, float* logprobs);

}  // namespace llmatc::cuda
