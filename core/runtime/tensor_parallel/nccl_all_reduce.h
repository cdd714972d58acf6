// core/runtime/tensor_parallel/nccl_all_reduce.h — the all-reduce for ranks that are CUDA backends, one GPU per rank
// in one process: NCCL communicators from the CUDA module (ncclCommInitAll), each rank summing its device buffer on
// its own stream. Nothing here links CUDA or NCCL: the calls go through the module's table (kernels/cuda_loader.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_module_abi.h"
#include "runtime/tensor_parallel/all_reduce.h"

namespace llmatc::tp {

class NcclAllReduce final : public AllReduce {
public:
    // An all-reduce over `rank_backends` (rank r's backend; all must be CUDA backends on distinct devices), or nullptr
    // with *why_not set (no CUDA module, a module built without NCCL, a non-CUDA backend, or NCCL failing to set
    // up), in which case the caller falls back to InProcessAllReduce through host memory.
    static std::unique_ptr<NcclAllReduce> create(const std::vector<const llmatc_kernels*>& rank_backends,
                                                 std::string* why_not);
    ~NcclAllReduce() override;
    NcclAllReduce(const NcclAllReduce&) = delete;
    NcclAllReduce& operator=(const NcclAllReduce&) = delete;

    int32_t world_size() const override { return int32_t(backends_.size()); }
    // Queues the sum on rank `rank`'s stream and returns; `data` is that rank's device memory.
    void sum(int32_t rank, float* data, size_t count) override;
    // Aborts the communicators so the other ranks' queued sums fail instead of waiting for this rank forever.
    void abandon(int32_t rank) override;
    bool sums_backend_memory() const override { return true; }

private:
    NcclAllReduce(const llmatc_cuda_module& module, std::vector<const llmatc_kernels*> backends,
                  llmatc_nccl_group* group);

    const llmatc_cuda_module& module_;
    std::vector<const llmatc_kernels*> backends_;
    llmatc_nccl_group* group_;
};

}  // namespace llmatc::tp
