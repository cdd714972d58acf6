// core/engine/scheduler.h — continuous batching: which sequences run this step, with how many tokens each.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "engine/block_manager.h"
#include "engine/sequence.h"

namespace llmatc::engine {

struct SchedulerConfig {
    int32_t max_num_seqs = 16;             // sequences in the running batch
    int32_t max_num_batched_tokens = 2048; // tokens per step
};

// One sequence's share of a step: compute tokens [seq->n_computed, seq->n_computed + n_new).
struct ScheduledSeq {
    Sequence* seq;
    int32_t n_new;
};

// The iteration-level scheduler. Every step: running sequences first (oldest first; decodes take one token,
// unfinished prefills a chunk), then waiting ones are admitted (oldest first, chunked by the token budget) while
// the batch has room. When blocks run out for a running sequence, the newest running sequences are preempted:
// their blocks are freed and they go back to the front of the queue to be recomputed — never failed.
//
// Does not own the sequences. Not thread-safe (the engine's step thread).
class Scheduler {
public:
    Scheduler(BlockManager& blocks, SchedulerConfig config);

    // Queues a new sequence at the back.
    void add(Sequence* seq);
    // Removes a sequence wherever it is and frees its blocks (finished, cancelled).
    void remove(Sequence* seq);

    // Decides the next step and allocates the blocks it needs. Empty when there is nothing to do.
    std::vector<ScheduledSeq> schedule();
    // After the step ran: the sequence's n_new tokens are in the cache; its newly full blocks enter the prefix
    // cache.
    void commit(const ScheduledSeq& scheduled);

    size_t n_running() const { return running_.size(); }
    size_t n_waiting() const { return waiting_.size(); }
    uint64_t n_preemptions() const { return n_preemptions_; }
    // Prefix-cache statistics over admissions: prompt tokens looked up, and found.
    uint64_t prefix_queries() const { return prefix_queries_; }
    uint64_t prefix_hits() const { return prefix_hits_; }
    const std::vector<Sequence*>& running() const { return running_; }
    const std::deque<Sequence*>& waiting() const { return waiting_; }

private:
    void preempt(Sequence* seq);
    void free_blocks(Sequence* seq);
    void match_prefix(Sequence* seq);
    bool grow(Sequence* seq, int32_t n_tokens);  // allocates blocks to hold n_tokens; false when not enough

    BlockManager& blocks_;
    SchedulerConfig config_;
    std::vector<Sequence*> running_;  // sorted by id (arrival)
    std::deque<Sequence*> waiting_;   // in order of service
    uint64_t n_preemptions_ = 0;
    uint64_t prefix_queries_ = 0;
    uint64_t prefix_hits_ = 0;
};

}  // namespace llmatc::engine
