// core/runtime/tensor_parallel/tensor_parallel_model.cpp — building the ranks' models and running a step on all of
// them, one thread per rank (see tensor_parallel_model.h for the design).
#include "runtime/tensor_parallel/tensor_parallel_model.h"

#include <exception>
#include <thread>
#include <utility>

#include "util/error.h"

namespace llmatc::tp {

TensorParallelModel::TensorParallelModel(const llmatc_model_plugin& plugin, const std::string& config_json,
                                         const llmatc_tensor_source& tensors,
                                         const std::vector<const llmatc_kernels*>& rank_backends,
                                         llmatc_dtype weight_storage, const std::string& model_dir,
                                         AllReduceFactory make_all_reduce)
    : plugin_(plugin), plan_(config_json, int32_t(rank_backends.size())), make_all_reduce_(std::move(make_all_reduce)) {
    const std::string& rank_config = plan_.rank_config_json();
    try {
        for (size_t r = 0; r < rank_backends.size(); ++r) {
            const std::string who = "tensor-parallel rank " + std::to_string(r) + " of " +
                                    std::to_string(rank_backends.size());
            if (!rank_backends[r]) throw Error(LLMATC_ERR_INVALID_ARGUMENT, who + ": no backend");
            auto rank = std::make_unique<Rank>();
            rank->backend = rank_backends[r];
            rank->tensors = std::make_unique<ShardedTensorSource>(tensors, plan_, int32_t(r));
            rank->kernels = std::make_unique<RankKernels>(*rank->backend, *rank->tensors, int32_t(r));

            llmatc_model_load_params params{};
            params.struct_size = sizeof(params);
            params.abi_version = LLMATC_ABI_VERSION;
            params.model_dir = model_dir.c_str();
            params.config_json = rank_config.data();
            params.config_json_len = rank_config.size();
            params.tensors = rank->tensors->source();
            params.kernels = rank->kernels->table();
            params.weight_storage = weight_storage;
            Rank& created = *rank;
            ranks_.push_back(std::move(rank));
            check_status(plugin_.create(&params, &created.model), who + ": creating the model");
            // Every row-parallel slice must have become a weight the rank kernels recognise, or some partial sums
            // would silently never be reduced.
            const size_t slices = created.tensors->input_column_slices();
            const size_t recognised = created.kernels->row_parallel_weights();
            if (slices != recognised)
                throw Error(LLMATC_ERR_UNSUPPORTED,
                            who + ": the model plugin made " + std::to_string(recognised) + " weights of the " +
                                std::to_string(slices) + " row-parallel slices it read; it must pass the views it "
                                "gets from the tensor source straight to weight_create for tensor parallelism");
        }
        rank_desc_.struct_size = sizeof(rank_desc_);
        rank_desc_.abi_version = LLMATC_ABI_VERSION;
        check_status(plugin_.describe(ranks_[0]->model, &rank_desc_), "tensor-parallel rank 0: describing the model");
        install_all_reduce();
    } catch (...) {
        for (auto& rank : ranks_)
            if (rank->model) plugin_.destroy(rank->model);
        throw;
    }
}

TensorParallelModel::~TensorParallelModel() {
    for (auto& rank : ranks_)
        if (rank->model) plugin_.destroy(rank->model);
}

void TensorParallelModel::install_all_reduce() {
    all_reduce_ = make_all_reduce_ ? make_all_reduce_(world_size()) : std::make_unique<InProcessAllReduce>(world_size());
    if (!all_reduce_ || all_reduce_->world_size() != world_size())
        throw Error(LLMATC_ERR_INTERNAL, "tensor parallelism: the all-reduce factory made no communicator for " +
                                             std::to_string(world_size()) + " ranks");
    for (auto& rank : ranks_) rank->kernels->set_all_reduce(all_reduce_.get());
}

void TensorParallelModel::forward(const std::vector<llmatc_kv_cache>& caches, const llmatc_batch& batch) {
    const int32_t n = world_size();
    if (int32_t(caches.size()) != n)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "tensor parallelism: " + std::to_string(caches.size()) +
                                                     " KV caches for " + std::to_string(n) + " ranks");
    // Ranks other than 0 compute no logits and no hidden states: those follow the last all-reduce.
    llmatc_batch quiet = batch;
    quiet.n_logit_rows = 0;
    quiet.logit_rows = nullptr;
    quiet.logits = nullptr;
    quiet.hidden = nullptr;

    struct Outcome {
        llmatc_status status = LLMATC_OK;
        std::string message;
    };
    std::vector<Outcome> outcomes(static_cast<size_t>(n));
    auto run_rank = [&](int32_t r) {
        Rank& rank = *ranks_[size_t(r)];
        Outcome& outcome = outcomes[size_t(r)];
        try {
            set_thread_error("");
            outcome.status = plugin_.forward(rank.model, &caches[size_t(r)], r == 0 ? &batch : &quiet);
            if (outcome.status != LLMATC_OK) outcome.message = thread_error();
        } catch (const std::exception& e) {
            outcome.status = LLMATC_ERR_INTERNAL;
            outcome.message = e.what();
        } catch (...) {
            outcome.status = LLMATC_ERR_INTERNAL;
            outcome.message = "unknown exception";
        }
        // A failed rank leaves the collective so the others stop at their next all-reduce instead of waiting.
        if (outcome.status != LLMATC_OK) all_reduce_->abandon(r);
    };
    std::vector<std::thread> threads;
    threads.reserve(size_t(n - 1));
    try {
        for (int32_t r = 1; r < n; ++r) threads.emplace_back(run_rank, r);
    } catch (...) {
        // Could not start every rank: release the started ones from the collective on behalf of rank 0 and of
        // every rank that never started.
        all_reduce_->abandon(0);
        for (int32_t r = int32_t(threads.size()) + 1; r < n; ++r) all_reduce_->abandon(r);
        for (auto& t : threads) t.join();
        install_all_reduce();
        throw Error(LLMATC_ERR_OUT_OF_MEMORY, "tensor parallelism: cannot start the rank threads");
    }
    run_rank(0);
    for (auto& t : threads) t.join();

    // Report the first rank that failed for a reason of its own (the others were cancelled by it).
    const Outcome* first = nullptr;
    int32_t first_rank = -1;
    for (int32_t r = 0; r < n; ++r) {
        const Outcome& o = outcomes[size_t(r)];
        if (o.status == LLMATC_OK) continue;
        if (!first || (first->status == LLMATC_ERR_CANCELLED && o.status != LLMATC_ERR_CANCELLED)) {
            first = &o;
            first_rank = r;
        }
    }
    if (!first) return;
    install_all_reduce();  // the failed step's communicator has ranks dropped out of it
    throw Error(first->status, "tensor-parallel rank " + std::to_string(first_rank) + ": " + first->message);
}

}  // namespace llmatc::tp
