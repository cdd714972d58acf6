// core/kernels/cuda/cuda_weight.h — a weight in device memory (llmatc_weight for the CUDA backend) and its upload:
// host (memory-mapped) bytes -> pinned staging -> device, converted on the device to the storage dtype.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>

#include "llmatc/kernels.h"

// The CUDA module's definition of the opaque ABI type. Rows x cols elements of `dtype`, row-major, in device
// memory owned by the weight; a 1-D tensor has rows == 1.
struct llmatc_weight {
    llmatc_dtype dtype = LLMATC_DTYPE_F32;  // F32, F16 or BF16
    int32_t n_dims = 0;
    int64_t rows = 0;
    int64_t cols = 0;
    void* data = nullptr;
    uint64_t bytes = 0;
    ~llmatc_weight();
};

namespace llmatc::cuda {

size_t dtype_size(llmatc_dtype dtype);  // 4, 2 or 2; 0 for a dtype this backend does not hold

// Two pinned host buffers that alternate: one is filled from the (memory-mapped) source while the other's copy to
// the device runs. Kept by the backend and reused for every weight.
class PinnedUploader {
public:
    PinnedUploader() = default;
    PinnedUploader(const PinnedUploader&) = delete;
    PinnedUploader& operator=(const PinnedUploader&) = delete;
    ~PinnedUploader();
    // Copies `bytes` from host `src` to device `dst` on `stream` and waits for the copy to finish. Throws CudaError.
    void copy(cudaStream_t stream, void* dst, const void* src, size_t bytes);

private:
    static constexpr size_t kChunkBytes = size_t(16) << 20;
    void* pinned_[2] = {nullptr, nullptr};
    cudaEvent_t done_[2] = {nullptr, nullptr};
};

// Uploads and converts `src` into a new device weight stored as `storage` (F32/F16/BF16, or -1 for src's own
// dtype). Throws CudaError naming the problem (unsupported dtype, bad shape, size mismatch, out of memory).
std::unique_ptr<llmatc_weight> upload_weight(cudaStream_t stream, PinnedUploader& uploader,
                                             const llmatc_tensor_view& src, llmatc_dtype storage);

}  // namespace llmatc::cuda
