// core/kernels/cuda/cuda_backend.h — the CUDA backend's state (device, stream, cuBLAS, reusable buffers) and the
// llmatc_kernels table over it.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cuda/cuda_buffers.h"
#include "cuda/cuda_weight.h"
#include "llmatc/kernels.h"

namespace llmatc::cuda {

// One backend on one device. Calls come from one thread at a time (the kernels.h contract); each makes the device
// current first, so several backends on several devices can share a thread or use one each.
class CudaBackend {
public:
    // Throws CudaError when the device cannot be used (no such device, out of memory, cuBLAS failure).
    explicit CudaBackend(int device);
    ~CudaBackend();
    CudaBackend(const CudaBackend&) = delete;
    CudaBackend& operator=(const CudaBackend&) = delete;

    const llmatc_kernels* table() const { return &table_; }

    int device;
    cudaStream_t stream = nullptr;
    cublasHandle_t cublas = nullptr;
    PinnedUploader weight_uploader;
    HostToDeviceStager token_ids;       // embedding ids
    HostToDeviceStager rope_positions;  // rope positions
    HostToDeviceStager rope_inv_freq;   // rope frequencies
    HostToDeviceStager batch_plan;      // kv_write / attention batch description
    DeviceScratch converted_x;          // matmul inputs converted to the weight dtype for cuBLAS
    DeviceScratch attention_partials;   // decode attention split partials
    HostToDeviceStager sample_params;   // sample: per-row parameters
    DeviceScratch sample_scratch;       // sample: sort keys and CUB temporary storage
    DeviceScratch sample_outputs;       // sample: chosen tokens and their logprobs

private:
    llmatc_kernels table_{};
};

}  // namespace llmatc::cuda
