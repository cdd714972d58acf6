// core/kernels/cpu/cpu_backend.h — creating the CPU backend at a chosen instruction-set level (tests and
// benchmarks compare levels; everyone else calls llmatc::create_cpu_backend, which picks the best).
#pragma once

#include <memory>

#include "kernels/backend.h"
#include "kernels/cpu/cpu_context.h"
#include "kernels/cpu/isa_kernels.h"

namespace llmatc::cpu {

// Throws llmatc::Error (unsupported) when this CPU cannot run `isa`.
std::unique_ptr<KernelBackend> create_cpu_backend_for_isa(int n_threads, Isa isa,
                                                          const CpuBackendOptions& options = {});

}  // namespace llmatc::cpu
