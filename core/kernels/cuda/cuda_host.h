// core/kernels/cuda/cuda_host.h — the host services table as the CUDA module sees it (kept by the entry function):
// logging and the calling thread's error message.
#pragma once

#include <string>

#include "llmatc/plugin.h"

namespace llmatc::cuda {

// Stored by the module's entry function; NULL before it ran (then logging is silent, errors are lost).
extern const llmatc_host* g_host;

void host_log(llmatc_log_level level, const std::string& message);
void host_set_error(const std::string& message);

}  // namespace llmatc::cuda
