// core/kernels/cuda/cuda_batch_plan.h — checks a batch against the KV cache and flattens what the GPU kernels need
// (row -> sequence, positions, block tables, decode rows, prefill tiles) into one int32 array for one upload.
#pragma once

#include <cstdint>
#include <vector>

#include "cuda/cuda_kernels.h"
#include "llmatc/kernels.h"

namespace llmatc::cuda {

// Sequences with at least this many new rows go through the prefill kernel; the others through decode.
constexpr int32_t kPrefillMinRows = 8;

struct HostBatchPlan {
    std::vector<int32_t> data;
    DeviceBatchPlan layout;  // offsets into data; layout.data is set once data is on the device
};

// Throws CudaError (invalid argument) naming the sequence, row or block at fault, like the CPU backend does.
void validate_cache(const char* kernel, const llmatc_kv_cache* cache, int32_t layer);
HostBatchPlan build_batch_plan(const char* kernel, const llmatc_kv_cache& cache, const llmatc_batch* batch);

}  // namespace llmatc::cuda
