// core/kernels/cuda/cuda_guarded.h — the CUDA module's exception boundary: runs a body and turns whatever it throws
// into an llmatc_status plus the calling thread's error message, so no exception crosses the C ABI.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "cuda/cuda_error.h"
#include "cuda/cuda_host.h"
#include "llmatc/plugin.h"

namespace llmatc::cuda {

// Calls `body()` and returns LLMATC_OK, or the status of what it threw with the message set through the host:
// a CudaError keeps its own status and message; anything else is prefixed with "cuda backend: <function>: ".
// `function` names the ABI function for those messages (a string literal; borrowed for the call only).
template <class Body>
llmatc_status guarded(const char* function, Body&& body) noexcept {
    try {
        body();
        return LLMATC_OK;
    } catch (const CudaError& e) {
        host_set_error(e.what());
        return e.status();
    } catch (const std::bad_alloc&) {
        host_set_error(std::string("cuda backend: ") + function + ": out of host memory");
        return LLMATC_ERR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        host_set_error(std::string("cuda backend: ") + function + ": " + e.what());
        return LLMATC_ERR_INTERNAL;
    } catch (...) {
        host_set_error(std::string("cuda backend: ") + function + ": unknown exception");
        return LLMATC_ERR_INTERNAL;
    }
}

}  // namespace llmatc::cuda
