// core/runtime/tensor_parallel/rank_kv_caches.cpp — allocating and reusing the mirrored KV caches of ranks 1..N-1.
#include "runtime/tensor_parallel/rank_kv_caches.h"

#include <string>
#include <utility>

#include "util/error.h"

namespace llmatc::tp {

namespace {

size_t element_bytes(llmatc_dtype dtype) {
    switch (dtype) {
        case LLMATC_DTYPE_F32: return 4;
        case LLMATC_DTYPE_F16: return 2;
        default:
            throw Error(LLMATC_ERR_UNSUPPORTED, "tensor parallelism: KV cache dtype " +
                                                    std::to_string(int(dtype)) + " (expected F32 or F16)");
    }
}

}  // namespace

RankKvCaches::RankKvCaches(std::vector<const llmatc_kernels*> rank_backends)
    : backends_(std::move(rank_backends)), mirrors_(backends_.size()), caches_(backends_.size()) {}

RankKvCaches::~RankKvCaches() { release(); }

bool RankKvCaches::matches(const llmatc_kv_cache& rank0) const {
    if (caches_.empty() || !mirrored_k0_ || rank0.n_layers <= 0 || !rank0.k || rank0.k[0] != mirrored_k0_)
        return false;
    const llmatc_kv_cache& seen = caches_[0];
    return seen.dtype == rank0.dtype && seen.n_layers == rank0.n_layers && seen.n_kv_heads == rank0.n_kv_heads &&
           seen.head_dim == rank0.head_dim && seen.block_size == rank0.block_size && seen.n_blocks == rank0.n_blocks;
}

void RankKvCaches::release() {
    for (size_t r = 1; r < mirrors_.size(); ++r) {
        const llmatc_kernels& b = *backends_[r];
        for (void* p : mirrors_[r].k) b.free(b.ctx, p);
        for (void* p : mirrors_[r].v) b.free(b.ctx, p);
        mirrors_[r].k.clear();
        mirrors_[r].v.clear();
    }
    mirrored_k0_ = nullptr;
    mirror_bytes_ = 0;
}

void RankKvCaches::allocate(const llmatc_kv_cache& rank0) {
    release();
    if (rank0.n_layers <= 0 || rank0.n_kv_heads <= 0 || rank0.head_dim <= 0 || rank0.block_size <= 0 ||
        rank0.n_blocks <= 0 || !rank0.k || !rank0.v)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "tensor parallelism: the KV cache given to forward() is empty");
    const size_t bytes = size_t(rank0.n_blocks) * size_t(rank0.block_size) * size_t(rank0.n_kv_heads) *
                         size_t(rank0.head_dim) * element_bytes(rank0.dtype);
    try {
        for (size_t r = 1; r < backends_.size(); ++r) {
            const llmatc_kernels& b = *backends_[r];
            for (int32_t layer = 0; layer < rank0.n_layers; ++layer)
                for (auto* list : {&mirrors_[r].k, &mirrors_[r].v}) {
                    void* p = b.alloc(b.ctx, bytes);
                    if (!p)
                        throw Error(LLMATC_ERR_OUT_OF_MEMORY,
                                    "tensor-parallel rank " + std::to_string(r) + ": the " + b.name +
                                        " backend cannot allocate " + std::to_string(bytes) +
                                        " bytes of KV cache for layer " + std::to_string(layer));
                    list->push_back(p);
                    mirror_bytes_ += bytes;
                }
        }
    } catch (...) {
        release();
        throw;
    }
    for (size_t r = 0; r < backends_.size(); ++r) {
        caches_[r] = rank0;
        if (r == 0) continue;
        caches_[r].k = mirrors_[r].k.data();
        caches_[r].v = mirrors_[r].v.data();
    }
    mirrored_k0_ = rank0.k[0];
}

const std::vector<llmatc_kv_cache>& RankKvCaches::for_step(const llmatc_kv_cache& rank0) {
    if (!matches(rank0)) allocate(rank0);
    caches_[0] = rank0;
    return caches_;
}

}  // namespace llmatc::tp
