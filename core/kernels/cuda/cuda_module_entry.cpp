// core/kernels/cuda/cuda_module_entry.cpp — the CUDA module's one exported symbol and the functions of its table
// (device queries, backend create/destroy, copy bandwidth). Nothing here runs at load time: the entry function
// only fills the table, so loading the module on a machine without a GPU costs nothing and touches no device.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_error.h"
#include "cuda/cuda_guarded.h"
#include "cuda/cuda_host.h"
#include "cuda/cuda_module_abi.h"
#ifdef LLMATC_HAVE_NCCL
#include "cuda/cuda_nccl.h"
#endif

#define LLMATC_CUDA_EXPORT extern "C" __attribute__((visibility("default")))

namespace llmatc::cuda {

const llmatc_host* g_host = nullptr;

void host_log(llmatc_log_level level, const std::string& message) {
    if (g_host && g_host->log) g_host->log(level, "cuda", message.data(), message.size());
}

void host_set_error(const std::string& message) {
    if (g_host && g_host->set_error) g_host->set_error(message.data(), message.size());
}

namespace {

llmatc_status device_count(int32_t* out) {
    return guarded("device_count", [&] {
        if (!out) fail(LLMATC_ERR_INVALID_ARGUMENT, "device_count: out is NULL");
        int count = 0;
        const cudaError_t err = cudaGetDeviceCount(&count);
        // "No device" and "no driver" are answers, not failures: the caller falls back to the CPU.
        if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) {
            cudaGetLastError();
            count = 0;
        } else {
            check_cuda(err, "cudaGetDeviceCount");
        }
        *out = count;
    });
}

llmatc_status describe_device(int32_t device, llmatc_cuda_device_desc* out) {
    return guarded("describe_device", [&] {
        if (!out || out->struct_size < sizeof(llmatc_cuda_device_desc))
            fail(LLMATC_ERR_INVALID_ARGUMENT, "describe_device: out is NULL or too small");
        cudaDeviceProp prop{};
        check_cuda(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
        check_cuda(cudaSetDevice(device), "cudaSetDevice");
        size_t free_bytes = 0, total_bytes = 0;
        check_cuda(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
        std::memset(out->name, 0, sizeof(out->name));
        std::memcpy(out->name, prop.name, std::min(std::strlen(prop.name), sizeof(out->name) - 1));
        out->abi_version = LLMATC_ABI_VERSION;
        out->compute_major = prop.major;
        out->compute_minor = prop.minor;
        out->multiprocessors = prop.multiProcessorCount;
        out->total_memory_bytes = total_bytes;
        out->free_memory_bytes = free_bytes;
    });
}

llmatc_status backend_create(int32_t device, const llmatc_kernels** out) {
    return guarded("backend_create", [&] {
        if (!out) fail(LLMATC_ERR_INVALID_ARGUMENT, "backend_create: out is NULL");
        auto* backend = new CudaBackend(device);
        *out = backend->table();
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, device) == cudaSuccess)
            host_log(LLMATC_LOG_INFO, "cuda backend on device " + std::to_string(device) + ": " + prop.name +
                                          " (compute " + std::to_string(prop.major) + "." +
                                          std::to_string(prop.minor) + ")");
    });
}

void backend_destroy(const llmatc_kernels* table) {
    if (!table) return;
    guarded("backend_destroy", [&] { delete static_cast<CudaBackend*>(table->ctx); });
}

llmatc_status measure_copy_bandwidth(int32_t device, uint64_t bytes, int32_t repeats, double* out) {
    return guarded("measure_copy_bandwidth", [&] {
        if (!out || bytes == 0 || repeats <= 0)
            fail(LLMATC_ERR_INVALID_ARGUMENT, "measure_copy_bandwidth: needs out, bytes > 0 and repeats > 0");
        check_cuda(cudaSetDevice(device), "cudaSetDevice");
        void* src = nullptr;
        void* dst = nullptr;
        cudaEvent_t start = nullptr, stop = nullptr;
        auto release = [&] {
            if (src) cudaFree(src);
            if (dst) cudaFree(dst);
            if (start) cudaEventDestroy(start);
            if (stop) cudaEventDestroy(stop);
        };
        try {
            check_cuda(cudaMalloc(&src, bytes), "cudaMalloc (bandwidth source)");
            check_cuda(cudaMalloc(&dst, bytes), "cudaMalloc (bandwidth destination)");
            check_cuda(cudaMemset(src, 1, bytes), "cudaMemset");
            check_cuda(cudaEventCreate(&start), "cudaEventCreate");
            check_cuda(cudaEventCreate(&stop), "cudaEventCreate");
            check_cuda(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpy (warm-up)");
            check_cuda(cudaEventRecord(start), "cudaEventRecord");
            for (int32_t i = 0; i < repeats; ++i)
                check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpyAsync");
            check_cuda(cudaEventRecord(stop), "cudaEventRecord");
            check_cuda(cudaEventSynchronize(stop), "cudaEventSynchronize");
            float ms = 0.0f;
            check_cuda(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
            // Each copy reads and writes `bytes`: both count against the memory bandwidth.
            *out = 2.0 * double(bytes) * double(repeats) / (double(ms) / 1e3);
        } catch (...) {
            release();
            throw;
        }
        release();
    });
}

llmatc_status backend_device(const llmatc_kernels* backend, int32_t* out) {
    return guarded("backend_device", [&] {
        if (!backend || !backend->ctx || !out) fail(LLMATC_ERR_INVALID_ARGUMENT, "backend_device: NULL argument");
        *out = static_cast<const CudaBackend*>(backend->ctx)->device;
    });
}

}  // namespace

// Same major, and this module's minor no newer than the host's.
bool host_abi_accepted(uint32_t host_version) {
    const uint32_t own_minor = LLMATC_ABI_VERSION_MINOR;
    return LLMATC_VERSION_MAJOR(host_version) == LLMATC_ABI_VERSION_MAJOR &&
           own_minor <= LLMATC_VERSION_MINOR(host_version);
}

}  // namespace llmatc::cuda

LLMATC_CUDA_EXPORT llmatc_status llmatc_cuda_module_entry(const llmatc_host* host, llmatc_cuda_module* out) {
    using namespace llmatc::cuda;
    try {
        if (!host || !out) return LLMATC_ERR_INVALID_ARGUMENT;
        g_host = host;
        if (!host_abi_accepted(host->abi_version)) {
            host_set_error("cuda module built for ABI " + std::to_string(LLMATC_ABI_VERSION_MAJOR) + "." +
                           std::to_string(LLMATC_ABI_VERSION_MINOR) + ", the host offers " +
                           std::to_string(LLMATC_VERSION_MAJOR(host->abi_version)) + "." +
                           std::to_string(LLMATC_VERSION_MINOR(host->abi_version)));
            return LLMATC_ERR_INCOMPATIBLE;
        }
        if (out->struct_size < sizeof(llmatc_cuda_module)) {
            host_set_error("cuda module: the loader's table is smaller than this module's");
            return LLMATC_ERR_INCOMPATIBLE;
        }
        out->abi_version = LLMATC_ABI_VERSION;
        out->device_count = device_count;
        out->describe_device = describe_device;
        out->backend_create = backend_create;
        out->backend_destroy = backend_destroy;
        out->measure_copy_bandwidth = measure_copy_bandwidth;
        out->backend_device = backend_device;
#ifdef LLMATC_HAVE_NCCL
        out->nccl_group_create = nccl_group_create;
        out->nccl_group_destroy = nccl_group_destroy;
        out->nccl_all_reduce_sum = nccl_all_reduce_sum;
        out->nccl_group_abort = nccl_group_abort;
#else
        out->nccl_group_create = nullptr;
        out->nccl_group_destroy = nullptr;
        out->nccl_all_reduce_sum = nullptr;
        out->nccl_group_abort = nullptr;
#endif
        return LLMATC_OK;
    } catch (...) {
        return LLMATC_ERR_INTERNAL;
    }
}
