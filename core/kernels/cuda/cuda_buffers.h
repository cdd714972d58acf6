// core/kernels/cuda/cuda_buffers.h — reusable device memory for the CUDA backend: a grow-only device scratch buffer,
// and a pinned host-to-device stager for the small per-call inputs (token ids, positions, block tables).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace llmatc::cuda {

// Device memory that only grows; its contents are not kept when it grows. Growing frees the old buffer with
// cudaFree, which waits for the device, so kernels still reading it are never cut short.
class DeviceScratch {
public:
    DeviceScratch() = default;
    DeviceScratch(const DeviceScratch&) = delete;
    DeviceScratch& operator=(const DeviceScratch&) = delete;
    ~DeviceScratch();
    // At least `bytes` bytes of device memory; throws CudaError when it cannot grow.
    void* reserve(size_t bytes);

private:
    void* data_ = nullptr;
    size_t capacity_ = 0;
};

// Copies small host inputs to the device on the backend's stream through pinned memory, so a call needs no sync.
// The pinned buffer is reused only after the event of its previous copy has completed; an upload whose bytes equal
// the previous upload's reuses the device copy (the forward passes the same positions and block tables to every
// layer, so most calls copy nothing).
class HostToDeviceStager {
public:
    HostToDeviceStager() = default;
    HostToDeviceStager(const HostToDeviceStager&) = delete;
    HostToDeviceStager& operator=(const HostToDeviceStager&) = delete;
    ~HostToDeviceStager();

    // Returns a device pointer holding `bytes` bytes equal to host `src`, valid for work queued on `stream` until the
    // next upload. Throws CudaError.
    const void* upload(cudaStream_t stream, const void* src, size_t bytes);

private:
    void* pinned_ = nullptr;
    void* device_ = nullptr;
    size_t capacity_ = 0;
    size_t last_bytes_ = 0;
    bool has_last_ = false;
    cudaEvent_t copied_ = nullptr;
};

}  // namespace llmatc::cuda
