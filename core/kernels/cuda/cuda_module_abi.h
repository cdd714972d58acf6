/* core/kernels/cuda/cuda_module_abi.h — the C interface between the core's CUDA loader and the CUDA backend module
 * (libllmatc-backend-cuda.so). Internal to llm-atc: the module and the loader are built from the same tree, but the
 * core never links libcudart, so everything crosses this table of C function pointers after dlopen. */
#ifndef LLMATC_CUDA_MODULE_ABI_H
#define LLMATC_CUDA_MODULE_ABI_H

#include "llmatc/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The one symbol the module exports. */
#define LLMATC_CUDA_MODULE_ENTRY_SYMBOL "llmatc_cuda_module_entry"
#define LLMATC_CUDA_MODULE_FILE "libllmatc-backend-cuda.so"

/* One NCCL communicator per tensor-parallel rank, made by the module. Opaque. */
typedef struct llmatc_nccl_group llmatc_nccl_group;

/* What the module can tell about one device, filled by describe_device. */
typedef struct llmatc_cuda_device_desc {
    uint32_t struct_size;
    uint32_t abi_version;
    char name[256];               /* e.g. "NVIDIA H100 80GB HBM3" */
    int32_t compute_major;        /* compute capability */
    int32_t compute_minor;
    int32_t multiprocessors;
    uint64_t total_memory_bytes;
    uint64_t free_memory_bytes;   /* at the time of the call */
} llmatc_cuda_device_desc;

/* The module's functions. Each returns LLMATC_OK or sets the calling thread's message through the host table
 * given to the entry function, and never throws. */
typedef struct llmatc_cuda_module {
    uint32_t struct_size;
    uint32_t abi_version;

    /* Number of CUDA devices the runtime sees (0 when the driver has none). */
    llmatc_status (*device_count)(int32_t* out);
    llmatc_status (*describe_device)(int32_t device, llmatc_cuda_device_desc* out);

    /* Creates a backend on `device`: a CUDA stream, cuBLAS handles and staging buffers. *out stays valid until
     * backend_destroy; every llmatc_weight and buffer from it must be freed first. */
    llmatc_status (*backend_create)(int32_t device, const llmatc_kernels** out);
    void (*backend_destroy)(const llmatc_kernels* backend);

    /* Device-to-device copy rate on `device`, bytes per second (read + write counted once each, as the bandwidth
     * a memory-bound kernel sees), from copies of `bytes` repeated `repeats` times. */
    llmatc_status (*measure_copy_bandwidth)(int32_t device, uint64_t bytes, int32_t repeats, double* out);

    /* The device a backend from backend_create runs on. */
    llmatc_status (*backend_device)(const llmatc_kernels* backend, int32_t* out);

    /* NCCL for tensor parallelism with one thread per GPU in one process. All four are NULL when the module was
     * built without NCCL (then ranks on GPUs sum through host memory). */
    /* Creates one communicator per rank over `devices[0..n_ranks)` (ncclCommInitAll). Freed by nccl_group_destroy
     * after every rank stopped using it. */
    llmatc_status (*nccl_group_create)(int32_t n_ranks, const int32_t* devices, llmatc_nccl_group** out);
    void (*nccl_group_destroy)(llmatc_nccl_group* group);
    /* Collective, called by every rank from its own thread: sums `count` F32 values at the device pointer `data`
     * across ranks, in place, queued on the stream of `backend` (rank `rank`'s backend, on devices[rank]); it
     * returns once queued, and the backend's later work is ordered after it. */
    llmatc_status (*nccl_all_reduce_sum)(llmatc_nccl_group* group, int32_t rank, const llmatc_kernels* backend,
                                         float* data, uint64_t count);
    /* Aborts every communicator of the group (ncclCommAbort), from any thread: a rank waiting for one that failed
     * gets an error instead of hanging. The group is unusable afterwards except for nccl_group_destroy. */
    void (*nccl_group_abort)(llmatc_nccl_group* group);
} llmatc_cuda_module;

/* The entry function: checks the host's ABI version (same major, module minor <= host minor), keeps `host` for
 * logging and errors, and fills *out (struct_size set by the caller). Touches no GPU. */
typedef llmatc_status (*llmatc_cuda_module_entry_fn)(const llmatc_host* host, llmatc_cuda_module* out);

#ifdef __cplusplus
}
#endif

#endif /* LLMATC_CUDA_MODULE_ABI_H */
