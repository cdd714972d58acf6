// core/runtime/tensor_parallel/rank_kernels.h — one tensor-parallel rank's kernel table: the rank's own backend
// (CPU or one GPU), except that a matmul with a row-parallel weight is followed by the all-reduce of its output.
// This is what lets an unmodified model plugin run sharded: it sees a smaller model (its share of the heads and
// MLP width) whose o_proj and down_proj outputs come back already summed over the ranks.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "llmatc/kernels.h"
#include "runtime/tensor_parallel/all_reduce.h"
#include "runtime/tensor_parallel/sharded_tensor_source.h"

namespace llmatc::tp {

// Calls come from the rank's thread only (the kernels.h contract), except weight_create, which the model plugin
// calls while it is created; both are serialised by a mutex around the weight registry.
class RankKernels {
public:
    // `inner` and `tensors` must outlive this object; `all_reduce` may be replaced between steps.
    RankKernels(const llmatc_kernels& inner, const ShardedTensorSource& tensors, int32_t rank);
    RankKernels(const RankKernels&) = delete;
    RankKernels& operator=(const RankKernels&) = delete;

    const llmatc_kernels* table() const { return &table_; }
    void set_all_reduce(AllReduce* all_reduce) { all_reduce_ = all_reduce; }
    // How many weights were recognised as row-parallel slices (checked against the slices handed out).
    size_t row_parallel_weights() const;
    // Row-parallel matmuls since construction (each is one all-reduce).
    uint64_t all_reduces() const { return all_reduces_; }

private:
    static llmatc_status weight_create(void* ctx, const llmatc_tensor_view* src, llmatc_dtype storage,
                                       llmatc_weight** out);
    static void weight_destroy(void* ctx, llmatc_weight* w);
    static llmatc_status matmul(void* ctx, const llmatc_weight* w, const float* x, int64_t n, float* y);
    void reduce(float* y, size_t count);

    const llmatc_kernels& inner_;
    const ShardedTensorSource& tensors_;
    int32_t rank_;
    AllReduce* all_reduce_ = nullptr;
    llmatc_kernels table_{};
    mutable std::mutex mutex_;
    std::unordered_map<const llmatc_weight*, int64_t> row_parallel_;  // weight -> output rows
    std::vector<float> host_staging_;  // device outputs pass through host memory for the in-process all-reduce
    uint64_t all_reduces_ = 0;
};

}  // namespace llmatc::tp
