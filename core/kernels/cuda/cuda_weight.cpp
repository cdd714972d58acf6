// core/kernels/cuda/cuda_weight.cpp — uploading checkpoint tensors to the device as CUDA backend weights: checks,
// pinned double-buffered copies, conversion to the storage dtype on the device.
#include "cuda/cuda_weight.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "checkpoint/dtype.h"
#include "cuda/cuda_error.h"
#include "cuda/cuda_kernels.h"

llmatc_weight::~llmatc_weight() {
    if (data) cudaFree(data);
}

namespace llmatc::cuda {

size_t dtype_size(llmatc_dtype dtype) {
    switch (dtype) {
        case LLMATC_DTYPE_F32: return 4;
        case LLMATC_DTYPE_F16:
        case LLMATC_DTYPE_BF16: return 2;
        default: return 0;
    }
}

PinnedUploader::~PinnedUploader() {
    for (int i = 0; i < 2; ++i) {
        if (done_[i]) {
            cudaEventSynchronize(done_[i]);
            cudaEventDestroy(done_[i]);
        }
        if (pinned_[i]) cudaFreeHost(pinned_[i]);
    }
}

void PinnedUploader::copy(cudaStream_t stream, void* dst, const void* src, size_t bytes) {
    for (int i = 0; i < 2; ++i) {
        if (!pinned_[i]) check_cuda(cudaMallocHost(&pinned_[i], kChunkBytes), "cudaMallocHost (weight staging)");
        if (!done_[i]) check_cuda(cudaEventCreateWithFlags(&done_[i], cudaEventDisableTiming), "cudaEventCreate");
    }
    size_t offset = 0;
    for (int chunk = 0; offset < bytes; ++chunk) {
        const int b = chunk & 1;
        const size_t n = std::min(kChunkBytes, bytes - offset);
        // This buffer's previous copy must be done before it is refilled; the other buffer's copy keeps running.
        check_cuda(cudaEventSynchronize(done_[b]), "cudaEventSynchronize (weight staging)");
        std::memcpy(pinned_[b], static_cast<const uint8_t*>(src) + offset, n);
        check_cuda(cudaMemcpyAsync(static_cast<uint8_t*>(dst) + offset, pinned_[b], n, cudaMemcpyHostToDevice, stream),
                   "cudaMemcpyAsync (weight upload)");
        check_cuda(cudaEventRecord(done_[b], stream), "cudaEventRecord (weight staging)");
        offset += n;
    }
    check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize (weight upload)");
}

std::unique_ptr<llmatc_weight> upload_weight(cudaStream_t stream, PinnedUploader& uploader,
                                             const llmatc_tensor_view& src, llmatc_dtype storage) {
    if (src.struct_size < LLMATC_TENSOR_VIEW_MIN_SIZE)  // every view is uploaded, so flags need not be read
        fail(LLMATC_ERR_INVALID_ARGUMENT, "weight_create: tensor view struct_size is too small");
    if (src.n_dims != 1 && src.n_dims != 2)
        fail(LLMATC_ERR_INVALID_ARGUMENT,
             "weight_create: a weight must be 1-D or 2-D, this tensor has " + std::to_string(src.n_dims) + " dims");
    const size_t src_size = dtype_size(src.dtype);
    if (src_size == 0)
        fail(LLMATC_ERR_UNSUPPORTED, std::string("weight_create: source dtype ") + dtype_name(src.dtype) +
                                         " is not supported by the CUDA backend (F32, F16, BF16 are)");
    const llmatc_dtype target = static_cast<int>(storage) < 0 ? src.dtype : storage;
    if (dtype_size(target) == 0)
        fail(LLMATC_ERR_UNSUPPORTED, std::string("weight_create: storage ") + dtype_name(target) +
                                         " is not implemented by the CUDA backend (F32, F16, BF16 are)");
    const int64_t rows = src.n_dims == 2 ? src.shape[0] : 1;
    const int64_t cols = src.n_dims == 2 ? src.shape[1] : src.shape[0];
    if (rows <= 0 || cols <= 0)
        fail(LLMATC_ERR_INVALID_ARGUMENT, "weight_create: shape [" + std::to_string(rows) + ", " +
                                              std::to_string(cols) + "] has an empty dimension");
    const uint64_t count = uint64_t(rows) * uint64_t(cols);
    if (src.nbytes != count * src_size)
        fail(LLMATC_ERR_INVALID_ARGUMENT, "weight_create: " + std::to_string(src.nbytes) + " bytes do not hold " +
                                              std::to_string(count) + " " + dtype_name(src.dtype) + " elements");
    if (!src.data) fail(LLMATC_ERR_INVALID_ARGUMENT, "weight_create: tensor data is NULL");

    auto w = std::make_unique<llmatc_weight>();
    w->dtype = target;
    w->n_dims = src.n_dims;
    w->rows = rows;
    w->cols = cols;
    w->bytes = count * dtype_size(target);
    if (cudaMalloc(&w->data, w->bytes) != cudaSuccess) {
        cudaGetLastError();
        w->data = nullptr;
        fail(LLMATC_ERR_OUT_OF_MEMORY, "weight_create: cannot allocate " + std::to_string(w->bytes) +
                                           " bytes of device memory for a [" + std::to_string(rows) + ", " +
                                           std::to_string(cols) + "] weight");
    }
    if (target == src.dtype) {
        uploader.copy(stream, w->data, src.data, src.nbytes);
        return w;
    }
    // Another storage dtype: upload the source bytes as they are, then convert on the device.
    void* staged = nullptr;
    if (cudaMalloc(&staged, src.nbytes) != cudaSuccess) {
        cudaGetLastError();
        fail(LLMATC_ERR_OUT_OF_MEMORY, "weight_create: cannot allocate " + std::to_string(src.nbytes) +
                                           " bytes of device memory to convert a weight");
    }
    try {
        uploader.copy(stream, staged, src.data, src.nbytes);
        launch_convert(stream, staged, src.dtype, w->data, target, int64_t(count));
        check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize (weight conversion)");
    } catch (...) {
        cudaFree(staged);
        throw;
    }
    check_cuda(cudaFree(staged), "cudaFree (weight conversion)");
    return w;
}

}  // namespace llmatc::cuda
