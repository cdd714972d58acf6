// core/kernels/cuda/cuda_nccl.h — the CUDA module's NCCL functions (llmatc_cuda_module.nccl_*), built only when
// meson finds NCCL (LLMATC_HAVE_NCCL); the entry function leaves the slots NULL otherwise.
#pragma once

#include "cuda/cuda_module_abi.h"

namespace llmatc::cuda {

llmatc_status nccl_group_create(int32_t n_ranks, const int32_t* devices, llmatc_nccl_group** out);
void nccl_group_destroy(llmatc_nccl_group* group);
llmatc_status nccl_all_reduce_sum(llmatc_nccl_group* group, int32_t rank, const llmatc_kernels* backend, float* data,
                                  uint64_t count);
void nccl_group_abort(llmatc_nccl_group* group);

}  // namespace llmatc::cuda
