// core/runtime/tensor_parallel/all_reduce.cpp — the in-process all-reduce: ranks post their buffers, each sums one
// slice over all ranks in rank order, then every rank copies the whole result back.
#include "runtime/tensor_parallel/all_reduce.h"

#include <algorithm>

#include "util/error.h"

namespace llmatc::tp {

InProcessAllReduce::InProcessAllReduce(int32_t world_size)
    : world_size_(world_size),
      data_(size_t(std::max(world_size, 1)), nullptr),
      counts_(size_t(std::max(world_size, 1)), 0),
      left_(size_t(std::max(world_size, 1)), false),
      barrier_(std::max(world_size, 1), PhaseCheck{this}) {
    if (world_size < 1)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "all-reduce: world size " + std::to_string(world_size) + " < 1");
}

void InProcessAllReduce::PhaseCheck::operator()() noexcept {
    InProcessAllReduce& s = *self;
    s.counts_match_ = true;
    for (int32_t r = 1; r < s.world_size_; ++r)
        if (s.counts_[size_t(r)] != s.counts_[0]) {
            s.counts_match_ = false;
            s.mismatch_ = "all-reduce: rank 0 sums " + std::to_string(s.counts_[0]) + " values but rank " +
                          std::to_string(r) + " sums " + std::to_string(s.counts_[size_t(r)]);
        }
    if (s.counts_match_ && s.result_.size() < s.counts_[0]) {
        try {
            s.result_.resize(s.counts_[0]);
        } catch (...) {
            s.counts_match_ = false;
            s.mismatch_ = "all-reduce: out of memory for " + std::to_string(s.counts_[0]) + " values";
        }
    }
}

void InProcessAllReduce::sum(int32_t rank, float* data, size_t count) {
    if (rank < 0 || rank >= world_size_)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "all-reduce: rank " + std::to_string(rank) + " is outside [0, " +
                                                     std::to_string(world_size_) + ")");
    if (world_size_ == 1) return;
    if (abandoned_.load()) {
        // Leave before throwing: ranks already waiting in this phase count on this rank's arrival.
        leave(rank);
        throw Error(LLMATC_ERR_CANCELLED, "all-reduce: another rank failed in this step");
    }
    data_[size_t(rank)] = data;
    counts_[size_t(rank)] = count;
    barrier_.arrive_and_wait();  // every rank's buffer is posted; PhaseCheck ran
    // Everyone reads the same flags after the barrier, so either all ranks go on or all of them throw.
    if (abandoned_.load()) {
        leave(rank);
        throw Error(LLMATC_ERR_CANCELLED, "all-reduce: another rank failed in this step");
    }
    if (!counts_match_) throw Error(LLMATC_ERR_INTERNAL, mismatch_);

    const size_t begin = count * size_t(rank) / size_t(world_size_);
    const size_t end = count * size_t(rank + 1) / size_t(world_size_);
    for (size_t i = begin; i < end; ++i) {
        float total = data_[0][i];
        for (int32_t r = 1; r < world_size_; ++r) total += data_[size_t(r)][i];
        result_[i] = total;
    }
    barrier_.arrive_and_wait();  // result_ is complete; nobody reads data_ any more
    std::copy(result_.begin(), result_.begin() + std::ptrdiff_t(count), data);
    barrier_.arrive_and_wait();  // result_ may be reused by the next sum
}

void InProcessAllReduce::abandon(int32_t rank) {
    if (world_size_ == 1 || rank < 0 || rank >= world_size_) return;
    abandoned_.store(true);
    leave(rank);
}

void InProcessAllReduce::leave(int32_t rank) {
    {
        std::lock_guard<std::mutex> lock(leave_mutex_);
        if (left_[size_t(rank)]) return;
        left_[size_t(rank)] = true;
    }
    // Counts as this rank's arrival at the phase the others wait in, and removes it from every later phase.
    barrier_.arrive_and_drop();
}

}  // namespace llmatc::tp
