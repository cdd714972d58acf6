// core/runtime/tensor_parallel/all_reduce.h — summing a buffer across tensor-parallel ranks. The interface is what
// the rank kernels call after each row-parallel matmul; InProcessAllReduce implements it for ranks that are threads
// of one process exchanging host memory (the CPU simulation, and GPUs without a faster path).
#pragma once

#include <atomic>
#include <barrier>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace llmatc::tp {

class AllReduce {
public:
    virtual ~AllReduce() = default;
    virtual int32_t world_size() const = 0;
    // Collective: every rank calls it with its own `data` of the same `count`; on return each rank's `data` holds
    // the element-wise sum over ranks, added in rank order (so every rank gets bit-identical results). Throws
    // llmatc::Error when the ranks disagree on `count` or another rank has abandoned the step.
    virtual void sum(int32_t rank, float* data, size_t count) = 0;
    // Called by a rank that fails (outside sum(), or with sum()'s error): the other ranks' pending and later sum()
    // calls of this step throw instead of waiting for it forever. Calling it again for the same rank is harmless.
    // The communicator is unusable afterwards (make a new one per failed step).
    virtual void abandon(int32_t rank) = 0;
    // Whether sum() takes the rank's backend memory (device pointers, e.g. NCCL) rather than host memory. A rank on
    // a device backend stages its data through host memory when this is false.
    virtual bool sums_backend_memory() const { return false; }
};

class InProcessAllReduce final : public AllReduce {
public:
    explicit InProcessAllReduce(int32_t world_size);
    int32_t world_size() const override { return world_size_; }
    void sum(int32_t rank, float* data, size_t count) override;
    void abandon(int32_t rank) override;

private:
    // Runs once per barrier phase, after every rank arrived: checks the ranks posted matching counts.
    struct PhaseCheck {
        InProcessAllReduce* self;
        void operator()() noexcept;
    };

    int32_t world_size_;
    std::vector<float*> data_;
    std::vector<size_t> counts_;
    std::vector<float> result_;
    // Leaves the collective once: counts as the rank's arrival at the current phase and removes it from later ones.
    void leave(int32_t rank);

    std::atomic<bool> abandoned_{false};
    std::mutex leave_mutex_;
    std::vector<bool> left_;  // ranks that have left the collective (guarded by leave_mutex_)
    bool counts_match_ = true;
    std::string mismatch_;
    std::barrier<PhaseCheck> barrier_;
};

}  // namespace llmatc::tp
