// core/runtime/tensor_parallel/sharded_tensor_source.cpp — slicing checkpoint tensors for one tensor-parallel rank.
#include "runtime/tensor_parallel/sharded_tensor_source.h"

#include <cstddef>
#include <cstring>
#include <exception>

#include "util/error.h"

namespace llmatc::tp {

namespace {

// Bytes per element of the dtypes that can be sliced element-wise (block-quantized tensors cannot).
size_t element_bytes(llmatc_dtype dtype) {
    switch (dtype) {
        case LLMATC_DTYPE_F32:
        case LLMATC_DTYPE_I32: return 4;
        case LLMATC_DTYPE_F16:
        case LLMATC_DTYPE_BF16: return 2;
        case LLMATC_DTYPE_I64: return 8;
        default: return 0;
    }
}

}  // namespace

ShardedTensorSource::ShardedTensorSource(const llmatc_tensor_source& whole, const ShardingPlan& plan, int32_t rank)
    : whole_(whole), plan_(plan), rank_(rank) {
    table_.struct_size = sizeof(table_);
    table_.abi_version = LLMATC_ABI_VERSION;
    table_.ctx = this;
    table_.get = &ShardedTensorSource::get;
    table_.has = &ShardedTensorSource::has;
    table_.release = &ShardedTensorSource::release;
}

int ShardedTensorSource::has(void* ctx, const char* name) {
    auto* self = static_cast<ShardedTensorSource*>(ctx);
    return self->whole_.has(self->whole_.ctx, name);
}

void ShardedTensorSource::release(void* ctx, const char* name) {
    auto* self = static_cast<ShardedTensorSource*>(ctx);
    const llmatc_tensor_source& whole = self->whole_;
    if (whole.struct_size >= offsetof(llmatc_tensor_source, release) + sizeof(whole.release) && whole.release)
        whole.release(whole.ctx, name);
}

llmatc_status ShardedTensorSource::get(void* ctx, const char* name, llmatc_tensor_view* out) {
    auto* self = static_cast<ShardedTensorSource*>(ctx);
    try {
        if (!name || !out) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "tensor source: name or out is NULL");
        const llmatc_status st = self->whole_.get(self->whole_.ctx, name, out);
        if (st != LLMATC_OK) return st;  // the underlying source set the message
        self->slice(name, *out);
        return LLMATC_OK;
    } catch (const Error& e) {
        set_thread_error(e.what());
        return e.status();
    } catch (const std::exception& e) {
        set_thread_error(std::string("tensor parallelism: ") + e.what());
        return LLMATC_ERR_INTERNAL;
    } catch (...) {
        set_thread_error("tensor parallelism: unknown exception while slicing a tensor");
        return LLMATC_ERR_INTERNAL;
    }
}

void ShardedTensorSource::slice(const std::string& name, llmatc_tensor_view& view) {
    const Split split = plan_.split_of(name);
    if (split == Split::kReplicated) return;
    const int32_t n = plan_.world_size();
    const std::string where = "tensor parallelism: tensor \"" + name + "\"";
    if (view.n_dims != 2) throw Error(LLMATC_ERR_CORRUPT, where + " is not 2-D, so it cannot be split");
    const size_t elem = element_bytes(view.dtype);
    if (elem == 0)
        throw Error(LLMATC_ERR_UNSUPPORTED, where + " has a block-quantized dtype, which cannot be split across ranks");
    const int64_t rows = view.shape[0], cols = view.shape[1];
    if (split == Split::kOutputRows) {
        if (rows % n != 0)
            throw Error(LLMATC_ERR_CORRUPT, where + " has " + std::to_string(rows) + " rows, not divisible by " +
                                                std::to_string(n) + " ranks");
        const int64_t part = rows / n;
        view.shape[0] = part;
        view.data = static_cast<const uint8_t*>(view.data) + size_t(rank_) * size_t(part) * size_t(cols) * elem;
        view.nbytes = uint64_t(part) * uint64_t(cols) * elem;
        return;
    }
    if (cols % n != 0)
        throw Error(LLMATC_ERR_CORRUPT, where + " has " + std::to_string(cols) + " columns, not divisible by " +
                                            std::to_string(n) + " ranks");
    const int64_t part = cols / n;
    const size_t row_bytes = size_t(part) * elem;
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<uint8_t>& bytes = column_slices_[name];
    if (bytes.empty()) {
        bytes.resize(size_t(rows) * row_bytes);
        const auto* src = static_cast<const uint8_t*>(view.data);
        for (int64_t r = 0; r < rows; ++r)
            std::memcpy(bytes.data() + size_t(r) * row_bytes,
                        src + (size_t(r) * size_t(cols) + size_t(rank_) * size_t(part)) * elem, row_bytes);
    }
    view.shape[1] = part;
    view.data = bytes.data();
    view.nbytes = bytes.size();
}

bool ShardedTensorSource::is_input_column_slice(const void* data) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, bytes] : column_slices_)
        if (bytes.data() == data) return true;
    return false;
}

size_t ShardedTensorSource::input_column_slices() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return column_slices_.size();
}

}  // namespace llmatc::tp
