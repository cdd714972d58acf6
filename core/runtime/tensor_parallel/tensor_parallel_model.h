// core/runtime/tensor_parallel/tensor_parallel_model.h — a model split over N tensor-parallel ranks, one thread per
// rank, each rank an unmodified model plugin instance built from its slice of the checkpoint on its own backend.
//
// Design (no ABI change): the sharding plan gives each rank a config.json with 1/N of the heads, kv heads and MLP
// width, and a tensor source that hands out the matching slices (q/k/v/gate/up by output rows, o_proj/down by input
// columns; embeddings, norms and lm_head whole). The rank's kernel table sums the outputs of the row-parallel
// matmuls (o_proj, down_proj) across ranks, so each layer makes one all-reduce after attention and one after the
// MLP, and every rank carries the full residual stream. Rank 0 alone computes the logits and hidden states.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "llmatc/model.h"
#include "runtime/tensor_parallel/all_reduce.h"
#include "runtime/tensor_parallel/rank_kernels.h"
#include "runtime/tensor_parallel/sharded_tensor_source.h"
#include "runtime/tensor_parallel/sharding_plan.h"

namespace llmatc::tp {

// Makes the ranks' communicator for a world size: at construction, and again after a failed step (a communicator
// that lost a rank is unusable). The default is InProcessAllReduce (host memory).
using AllReduceFactory = std::function<std::unique_ptr<AllReduce>(int32_t world_size)>;

class TensorParallelModel {
public:
    // One backend per rank (rank_backends.size() is the world size; each outlives this object, as do `plugin` and
    // `tensors`). Creates every rank's model. Throws llmatc::Error naming the rank and the problem (a config that
    // does not divide, a model plugin error, a plugin that does not pass slices straight to weight_create).
    TensorParallelModel(const llmatc_model_plugin& plugin, const std::string& config_json,
                        const llmatc_tensor_source& tensors, const std::vector<const llmatc_kernels*>& rank_backends,
                        llmatc_dtype weight_storage, const std::string& model_dir,
                        AllReduceFactory make_all_reduce = {});
    ~TensorParallelModel();
    TensorParallelModel(const TensorParallelModel&) = delete;
    TensorParallelModel& operator=(const TensorParallelModel&) = delete;

    int32_t world_size() const { return int32_t(ranks_.size()); }
    // Each rank's model: n_kv_heads is the rank's share (size its KV cache with it); vocab and hidden are whole.
    const llmatc_model_desc& rank_desc() const { return rank_desc_; }
    // Rank r's backend, to allocate its KV cache on.
    const llmatc_kernels& rank_backend(int32_t rank) const { return *ranks_.at(size_t(rank))->backend; }
    // All-reduces rank r has made since construction.
    uint64_t all_reduces(int32_t rank) const { return ranks_.at(size_t(rank))->kernels->all_reduces(); }

    // One engine step on every rank at once. caches[r] is rank r's KV cache (rank_desc().n_kv_heads heads).
    // batch.logits / batch.hidden are filled by rank 0. Throws llmatc::Error with the failing rank's message.
    void forward(const std::vector<llmatc_kv_cache>& caches, const llmatc_batch& batch);

private:
    struct Rank {
        const llmatc_kernels* backend = nullptr;
        std::unique_ptr<ShardedTensorSource> tensors;
        std::unique_ptr<RankKernels> kernels;
        llmatc_model* model = nullptr;
    };

    void install_all_reduce();

    const llmatc_model_plugin& plugin_;
    ShardingPlan plan_;
    std::vector<std::unique_ptr<Rank>> ranks_;
    AllReduceFactory make_all_reduce_;
    std::unique_ptr<AllReduce> all_reduce_;
    llmatc_model_desc rank_desc_{};
};

}  // namespace llmatc::tp
