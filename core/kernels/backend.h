// core/kernels/backend.h — creating kernel backends: the in-core CPU backend, and (where a GPU is) the CUDA module.
#pragma once

#include <memory>
#include <string>

#include "llmatc/kernels.h"

namespace llmatc {

// Owns a backend table and its state (thread pool ...). Destroy only after every weight/buffer from it is freed.
class KernelBackend {
public:
    virtual ~KernelBackend() = default;
    virtual const llmatc_kernels* table() const = 0;
};

// The CPU backend with `n_threads` compute threads (0 = all cores). Kernels are chosen at run time from the CPU's
// features (AVX2+FMA baseline; AVX-512, VNNI, BF16 where present).
std::unique_ptr<KernelBackend> create_cpu_backend(int n_threads);

// The CUDA backend on `device`, from the CUDA module loaded at run time (core/kernels/cuda_loader.cpp; the core
// never links libcudart). Returns nullptr and sets *why_not (when given) to a one-line reason when no CUDA backend
// can be made here: no driver, no device, no such device index, no module file, or its creation failed.
std::unique_ptr<KernelBackend> create_cuda_backend(int device, std::string* why_not);

}  // namespace llmatc
