// core/runtime/tensor_parallel/rank_kernels.cpp — a rank's kernel table: the inner backend's functions, with the
// all-reduce after row-parallel matmuls.
#include "runtime/tensor_parallel/rank_kernels.h"

#include <cstring>
#include <exception>
#include <string>

#include "util/error.h"

namespace llmatc::tp {

RankKernels::RankKernels(const llmatc_kernels& inner, const ShardedTensorSource& tensors, int32_t rank)
    : inner_(inner), tensors_(tensors), rank_(rank) {
    // Everything but weights and matmul passes straight through to the inner backend, with its own ctx.
    table_ = inner;
    table_.struct_size = sizeof(llmatc_kernels);
    table_.ctx = this;
    table_.alloc = [](void* ctx, size_t bytes) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.alloc(in.ctx, bytes);
    };
    table_.free = [](void* ctx, void* p) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        in.free(in.ctx, p);
    };
    table_.to_backend = [](void* ctx, void* dst, const void* src, size_t bytes) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.to_backend(in.ctx, dst, src, bytes);
    };
    table_.to_host = [](void* ctx, void* dst, const void* src, size_t bytes) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.to_host(in.ctx, dst, src, bytes);
    };
    table_.synchronize = [](void* ctx) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.synchronize(in.ctx);
    };
    table_.weight_create = &RankKernels::weight_create;
    table_.weight_destroy = &RankKernels::weight_destroy;
    table_.weight_bytes = [](void* ctx, const llmatc_weight* w) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.weight_bytes(in.ctx, w);
    };
    table_.matmul = &RankKernels::matmul;
    table_.embedding = [](void* ctx, const llmatc_weight* t, const int32_t* ids, int64_t n, float* out) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.embedding(in.ctx, t, ids, n, out);
    };
    table_.rmsnorm = [](void* ctx, const float* x, const llmatc_weight* w, int64_t n, int64_t dim, float eps,
                        float* out) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.rmsnorm(in.ctx, x, w, n, dim, eps, out);
    };
    table_.rope = [](void* ctx, float* x, const int32_t* pos, int64_t n, int32_t heads, int32_t hd, float theta,
                     float scale) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.rope(in.ctx, x, pos, n, heads, hd, theta, scale);
    };
    table_.silu_mul = [](void* ctx, const float* g, const float* u, int64_t n, float* out) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.silu_mul(in.ctx, g, u, n, out);
    };
    table_.add = [](void* ctx, float* x, const float* y, int64_t n) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.add(in.ctx, x, y, n);
    };
    table_.softmax = [](void* ctx, float* x, int64_t n, int64_t dim) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.softmax(in.ctx, x, n, dim);
    };
    table_.kv_write = [](void* ctx, const llmatc_kv_cache* c, int32_t layer, const llmatc_batch* b, const float* k,
                         const float* v) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.kv_write(in.ctx, c, layer, b, k, v);
    };
    table_.attention = [](void* ctx, const llmatc_kv_cache* c, int32_t layer, const llmatc_batch* b, const float* q,
                          int32_t heads, float scale, float* out) {
        const auto& in = static_cast<RankKernels*>(ctx)->inner_;
        return in.attention(in.ctx, c, layer, b, q, heads, scale, out);
    };
}

size_t RankKernels::row_parallel_weights() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return row_parallel_.size();
}

llmatc_status RankKernels::weight_create(void* ctx, const llmatc_tensor_view* src, llmatc_dtype storage,
                                         llmatc_weight** out) {
    auto* self = static_cast<RankKernels*>(ctx);
    const llmatc_status st = self->inner_.weight_create(self->inner_.ctx, src, storage, out);
    if (st != LLMATC_OK) return st;
    try {
        // A view the sharded source gathered for this rank is a row-parallel slice: its matmul output is partial.
        if (src && src->n_dims == 2 && self->tensors_.is_input_column_slice(src->data)) {
            std::lock_guard<std::mutex> lock(self->mutex_);
            self->row_parallel_[*out] = src->shape[0];
        }
        return LLMATC_OK;
    } catch (...) {
        self->inner_.weight_destroy(self->inner_.ctx, *out);
        *out = nullptr;
        set_thread_error("tensor parallelism: out of memory registering a weight");
        return LLMATC_ERR_OUT_OF_MEMORY;
    }
}

void RankKernels::weight_destroy(void* ctx, llmatc_weight* w) {
    auto* self = static_cast<RankKernels*>(ctx);
    {
        std::lock_guard<std::mutex> lock(self->mutex_);
        self->row_parallel_.erase(w);
    }
    self->inner_.weight_destroy(self->inner_.ctx, w);
}

llmatc_status RankKernels::matmul(void* ctx, const llmatc_weight* w, const float* x, int64_t n, float* y) {
    auto* self = static_cast<RankKernels*>(ctx);
    const llmatc_status st = self->inner_.matmul(self->inner_.ctx, w, x, n, y);
    if (st != LLMATC_OK) return st;
    int64_t rows = -1;
    {
        std::lock_guard<std::mutex> lock(self->mutex_);
        auto it = self->row_parallel_.find(w);
        if (it != self->row_parallel_.end()) rows = it->second;
    }
    if (rows < 0) return LLMATC_OK;
    try {
        self->reduce(y, size_t(n) * size_t(rows));
        return LLMATC_OK;
    } catch (const Error& e) {
        set_thread_error(e.what());
        return e.status();
    } catch (const std::exception& e) {
        set_thread_error(std::string("tensor parallelism: all-reduce failed: ") + e.what());
        return LLMATC_ERR_INTERNAL;
    } catch (...) {
        set_thread_error("tensor parallelism: all-reduce failed");
        return LLMATC_ERR_INTERNAL;
    }
}

void RankKernels::reduce(float* y, size_t count) {
    if (!all_reduce_) throw Error(LLMATC_ERR_INTERNAL, "tensor parallelism: rank has no all-reduce");
    ++all_reduces_;
    // The CPU backend's memory is host memory; a device collective (NCCL) takes device memory as it is.
    if (std::strcmp(inner_.name, "cpu") == 0 || all_reduce_->sums_backend_memory()) {
        all_reduce_->sum(rank_, y, count);
        return;
    }
    // A device backend with a host-memory collective: stage through host memory.
    host_staging_.resize(count);
    check_status(inner_.to_host(inner_.ctx, host_staging_.data(), y, count * sizeof(float)),
                 "tensor parallelism: copying a partial output to the host");
    all_reduce_->sum(rank_, host_staging_.data(), count);
    check_status(inner_.to_backend(inner_.ctx, y, host_staging_.data(), count * sizeof(float)),
                 "tensor parallelism: copying a summed output back");
}

}  // namespace llmatc::tp
