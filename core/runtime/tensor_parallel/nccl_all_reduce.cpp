// core/runtime/tensor_parallel/nccl_all_reduce.cpp — NcclAllReduce over the CUDA module's NCCL functions.
#include "runtime/tensor_parallel/nccl_all_reduce.h"

#include <cstring>
#include <set>
#include <utility>

#include "kernels/cuda_loader.h"
#include "util/error.h"

namespace llmatc::tp {

std::unique_ptr<NcclAllReduce> NcclAllReduce::create(const std::vector<const llmatc_kernels*>& rank_backends,
                                                     std::string* why_not) {
    auto refuse = [&](const std::string& why) -> std::unique_ptr<NcclAllReduce> {
        if (why_not) *why_not = why;
        return nullptr;
    };
    std::string no_cuda;
    const llmatc_cuda_module* module = cuda_module(&no_cuda);
    if (!module) return refuse(no_cuda);
    if (!module->nccl_group_create || !module->nccl_all_reduce_sum || !module->nccl_group_destroy ||
        !module->nccl_group_abort || !module->backend_device)
        return refuse("the CUDA module was built without NCCL");
    std::vector<int32_t> devices;
    std::set<int32_t> distinct;
    for (size_t r = 0; r < rank_backends.size(); ++r) {
        const llmatc_kernels* b = rank_backends[r];
        if (!b || !b->name || std::strcmp(b->name, "cuda") != 0)
            return refuse("rank " + std::to_string(r) + " is not on a CUDA backend");
        int32_t device = -1;
        if (module->backend_device(b, &device) != LLMATC_OK) return refuse(thread_error());
        if (!distinct.insert(device).second)
            return refuse("two ranks share CUDA device " + std::to_string(device) + " (NCCL needs one GPU per rank)");
        devices.push_back(device);
    }
    llmatc_nccl_group* group = nullptr;
    if (module->nccl_group_create(int32_t(devices.size()), devices.data(), &group) != LLMATC_OK || !group)
        return refuse("NCCL setup failed: " + thread_error());
    return std::unique_ptr<NcclAllReduce>(new NcclAllReduce(*module, rank_backends, group));
}

NcclAllReduce::NcclAllReduce(const llmatc_cuda_module& module, std::vector<const llmatc_kernels*> backends,
                             llmatc_nccl_group* group)
    : module_(module), backends_(std::move(backends)), group_(group) {}

NcclAllReduce::~NcclAllReduce() { module_.nccl_group_destroy(group_); }

void NcclAllReduce::sum(int32_t rank, float* data, size_t count) {
    if (rank < 0 || rank >= world_size())
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "NCCL all-reduce: rank " + std::to_string(rank) + " is outside [0, " +
                                                     std::to_string(world_size()) + ")");
    check_status(module_.nccl_all_reduce_sum(group_, rank, backends_[size_t(rank)], data, uint64_t(count)),
                 "NCCL all-reduce on rank " + std::to_string(rank));
}

void NcclAllReduce::abandon(int32_t) { module_.nccl_group_abort(group_); }

}  // namespace llmatc::tp
