// core/kernels/cuda/cuda_error.h — the CUDA module's exception (a status plus a message) and the checks that turn
// CUDA runtime and cuBLAS return codes into it, naming the call that failed.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "llmatc/plugin.h"

namespace llmatc::cuda {

class CudaError : public std::runtime_error {
public:
    CudaError(llmatc_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    llmatc_status status() const noexcept { return status_; }

private:
    llmatc_status status_;
};

[[noreturn]] inline void fail(llmatc_status status, const std::string& message) {
    throw CudaError(status, "cuda backend: " + message);
}

inline void check_cuda(cudaError_t err, const char* call) {
    if (err == cudaSuccess) return;
    const llmatc_status status =
        err == cudaErrorMemoryAllocation ? LLMATC_ERR_OUT_OF_MEMORY : LLMATC_ERR_INTERNAL;
    fail(status, std::string(call) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

inline void check_cublas(cublasStatus_t st, const char* call) {
    if (st == CUBLAS_STATUS_SUCCESS) return;
    const llmatc_status status = st == CUBLAS_STATUS_ALLOC_FAILED ? LLMATC_ERR_OUT_OF_MEMORY : LLMATC_ERR_INTERNAL;
    fail(status, std::string(call) + ": " + cublasGetStatusName(st) + " (" + cublasGetStatusString(st) + ")");
}

// After a kernel launch: reports a bad launch configuration at once (execution errors surface at the next sync).
inline void check_launch(const char* kernel) { check_cuda(cudaGetLastError(), kernel); }

}  // namespace llmatc::cuda
