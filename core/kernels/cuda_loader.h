// core/kernels/cuda_loader.h — finding and loading the CUDA backend module at run time (dlopen), only where a CUDA
// driver and a device exist. The core never links libcudart; everything CUDA goes through this.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/cuda/cuda_module_abi.h"

namespace llmatc {

// The CUDA module's table, loading it on first use (thread-safe; the module stays loaded for the process life).
// Returns nullptr and sets *why_not (when given) to a one-line reason when there is no usable CUDA: no driver
// (libcuda.so.1), no device, or no module file (it is searched in $LLMATC_CUDA_MODULE, then each
// $LLMATC_PLUGIN_PATH directory, then the build tree around the executable, then the install directory).
const llmatc_cuda_module* cuda_module(std::string* why_not);

// Whether the CUDA driver reports at least one device, without loading the module. Sets *why_not when not.
bool cuda_device_present(std::string* why_not);

// Free and total memory of CUDA device `device` now (cudaMemGetInfo through the module). Returns false and sets
// *why_not when there is no usable CUDA or the query fails.
bool cuda_device_memory(int device, uint64_t* free_bytes, uint64_t* total_bytes, std::string* why_not);

}  // namespace llmatc
