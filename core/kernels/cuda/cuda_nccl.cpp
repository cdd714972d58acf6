// core/kernels/cuda/cuda_nccl.cpp — NCCL communicators for tensor-parallel ranks that are threads of one process,
// one GPU each (ncclCommInitAll), and the in-place F32 sum each rank queues on its backend's stream.
#include "cuda/cuda_nccl.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <atomic>
#include <new>
#include <string>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_error.h"
#include "cuda/cuda_guarded.h"
#include "cuda/cuda_host.h"

struct llmatc_nccl_group {
    std::vector<ncclComm_t> comms;  // [rank]
    std::vector<int32_t> devices;   // [rank]
    std::atomic<bool> aborted{false};
};

namespace llmatc::cuda {

namespace {

void check_nccl(ncclResult_t result, const char* call) {
    if (result == ncclSuccess) return;
    fail(result == ncclSystemError ? LLMATC_ERR_IO : LLMATC_ERR_INTERNAL,
         std::string(call) + ": " + ncclGetErrorString(result) + " (" + ncclGetLastError(nullptr) + ")");
}

}  // namespace

llmatc_status nccl_group_create(int32_t n_ranks, const int32_t* devices, llmatc_nccl_group** out) {
    return guarded("nccl_group_create", [&] {
        if (!out || !devices || n_ranks < 1)
            fail(LLMATC_ERR_INVALID_ARGUMENT, "nccl_group_create: needs out, devices and n_ranks >= 1");
        auto* group = new llmatc_nccl_group();
        group->comms.resize(size_t(n_ranks), nullptr);
        group->devices.assign(devices, devices + n_ranks);
        const ncclResult_t made = ncclCommInitAll(group->comms.data(), n_ranks, group->devices.data());
        if (made != ncclSuccess) {
            delete group;
            check_nccl(made, "ncclCommInitAll");
        }
        *out = group;
        host_log(LLMATC_LOG_INFO, "NCCL: " + std::to_string(n_ranks) + " communicators, one per GPU");
    });
}

void nccl_group_destroy(llmatc_nccl_group* group) {
    if (!group) return;
    guarded("nccl_group_destroy", [&] {
        for (ncclComm_t comm : group->comms) {
            if (!comm) continue;
            // An aborted communicator is already released; a live one is finished then destroyed.
            if (!group->aborted.load()) ncclCommDestroy(comm);
        }
        delete group;
    });
}

llmatc_status nccl_all_reduce_sum(llmatc_nccl_group* group, int32_t rank, const llmatc_kernels* backend, float* data,
                                  uint64_t count) {
    return guarded("nccl_all_reduce_sum", [&] {
        if (!group || !backend || !backend->ctx || (!data && count > 0))
            fail(LLMATC_ERR_INVALID_ARGUMENT, "nccl_all_reduce_sum: group, backend or data is NULL");
        if (rank < 0 || size_t(rank) >= group->comms.size())
            fail(LLMATC_ERR_INVALID_ARGUMENT, "nccl_all_reduce_sum: rank " + std::to_string(rank) + " is outside [0, " +
                                                  std::to_string(group->comms.size()) + ")");
        if (group->aborted.load()) fail(LLMATC_ERR_CANCELLED, "NCCL all-reduce: another rank failed in this step");
        const CudaBackend& cuda = *static_cast<const CudaBackend*>(backend->ctx);
        if (cuda.device != group->devices[size_t(rank)])
            fail(LLMATC_ERR_INVALID_ARGUMENT, "nccl_all_reduce_sum: rank " + std::to_string(rank) + "'s backend is on device " +
                                                  std::to_string(cuda.device) + ", its communicator on device " +
                                                  std::to_string(group->devices[size_t(rank)]));
        check_cuda(cudaSetDevice(cuda.device), "cudaSetDevice");
        check_nccl(ncclAllReduce(data, data, size_t(count), ncclFloat32, ncclSum, group->comms[size_t(rank)],
                                 cuda.stream),
                   "ncclAllReduce");
    });
}

void nccl_group_abort(llmatc_nccl_group* group) {
    if (!group) return;
    bool expected = false;
    if (!group->aborted.compare_exchange_strong(expected, true)) return;
    guarded("nccl_group_abort", [&] {
        for (ncclComm_t comm : group->comms)
            if (comm) ncclCommAbort(comm);
    });
}

}  // namespace llmatc::cuda
