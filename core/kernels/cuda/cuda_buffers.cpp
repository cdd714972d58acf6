// core/kernels/cuda/cuda_buffers.cpp — the CUDA backend's grow-only device scratch and pinned host-to-device stager.
#include "cuda/cuda_buffers.h"

#include <cstring>
#include <string>

#include "cuda/cuda_error.h"

namespace llmatc::cuda {

DeviceScratch::~DeviceScratch() {
    if (data_) cudaFree(data_);
}

void* DeviceScratch::reserve(size_t bytes) {
    if (bytes <= capacity_ && data_) return data_;
    if (data_) check_cuda(cudaFree(data_), "cudaFree (scratch)");
    data_ = nullptr;
    capacity_ = 0;
    const size_t grown = bytes + bytes / 4 + 256;
    void* p = nullptr;
    if (cudaMalloc(&p, grown) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky-free allocation error
        fail(LLMATC_ERR_OUT_OF_MEMORY, "cannot allocate " + std::to_string(grown) + " bytes of device scratch");
    }
    data_ = p;
    capacity_ = grown;
    return data_;
}

HostToDeviceStager::~HostToDeviceStager() {
    if (copied_) {
        cudaEventSynchronize(copied_);
        cudaEventDestroy(copied_);
    }
    if (pinned_) cudaFreeHost(pinned_);
    if (device_) cudaFree(device_);
}

const void* HostToDeviceStager::upload(cudaStream_t stream, const void* src, size_t bytes) {
    if (!copied_) check_cuda(cudaEventCreateWithFlags(&copied_, cudaEventDisableTiming), "cudaEventCreate");
    // The pinned buffer may still be the source of the previous copy: wait for it before touching it.
    check_cuda(cudaEventSynchronize(copied_), "cudaEventSynchronize (staging)");
    if (bytes == 0) return device_;
    if (has_last_ && bytes == last_bytes_ && std::memcmp(pinned_, src, bytes) == 0) return device_;
    if (bytes > capacity_) {
        const size_t grown = bytes + bytes / 2 + 256;
        // cudaFree waits for the device: nothing queued still reads the old device copy afterwards.
        if (device_) check_cuda(cudaFree(device_), "cudaFree (staging)");
        if (pinned_) check_cuda(cudaFreeHost(pinned_), "cudaFreeHost (staging)");
        device_ = pinned_ = nullptr;
        capacity_ = 0;
        has_last_ = false;
        check_cuda(cudaMallocHost(&pinned_, grown), "cudaMallocHost (staging)");
        check_cuda(cudaMalloc(&device_, grown), "cudaMalloc (staging)");
        capacity_ = grown;
    }
    std::memcpy(pinned_, src, bytes);
    // Kernels queued earlier on `stream` that read device_ run before this copy overwrites it (stream order).
    check_cuda(cudaMemcpyAsync(device_, pinned_, bytes, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync (staging)");
    check_cuda(cudaEventRecord(copied_, stream), "cudaEventRecord (staging)");
    last_bytes_ = bytes;
    has_last_ = true;
    return device_;
}

}  // namespace llmatc::cuda
