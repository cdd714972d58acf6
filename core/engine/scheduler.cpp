// core/engine/scheduler.cpp — continuous batching with chunked prefill, prefix-cache admission and preemption.
#include "engine/scheduler.h"

#include <algorithm>

#include "util/error.h"

namespace llmatc::engine {

Scheduler::Scheduler(BlockManager& blocks, SchedulerConfig config) : blocks_(blocks), config_(config) {
    if (config_.max_num_seqs < 1 || config_.max_num_batched_tokens < 1)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "scheduler: max_num_seqs and max_num_batched_tokens must be >= 1");
}

void Scheduler::add(Sequence* seq) {
    seq->state = SequenceState::Waiting;
    waiting_.push_back(seq);
}

void Scheduler::remove(Sequence* seq) {
    running_.erase(std::remove(running_.begin(), running_.end(), seq), running_.end());
    waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), seq), waiting_.end());
    free_blocks(seq);
    seq->state = SequenceState::Finished;
}

void Scheduler::free_blocks(Sequence* seq) {
    blocks_.release_all(seq->block_table);
    seq->block_table.clear();
    seq->block_hashes.clear();
    seq->n_computed = 0;
}

void Scheduler::preempt(Sequence* seq) {
    running_.erase(std::remove(running_.begin(), running_.end(), seq), running_.end());
    free_blocks(seq);
    seq->state = SequenceState::Waiting;
    ++seq->n_preemptions;
    ++n_preemptions_;
    waiting_.push_front(seq);
}

bool Scheduler::grow(Sequence* seq, int32_t n_tokens) {
    const int32_t need = blocks_.blocks_for(n_tokens) - static_cast<int32_t>(seq->block_table.size());
    if (need <= 0) return true;
    if (need > blocks_.n_available()) return false;
    for (int32_t i = 0; i < need; ++i) seq->block_table.push_back(*blocks_.allocate());
    return true;
}

void Scheduler::match_prefix(Sequence* seq) {
    // Full blocks only, and never the last token: its row must run to produce the next token's logits.
    const int32_t bs = blocks_.block_size();
    const int32_t n_lookup = (seq->n_total() - 1) / bs;
    const bool first_admission = seq->n_cached_prompt_tokens < 0;
    if (first_admission) prefix_queries_ += static_cast<uint64_t>(seq->n_prompt);
    uint64_t parent = 0;
    for (int32_t b = 0; b < n_lookup; ++b) {
        std::span<const int32_t> toks(seq->tokens.data() + static_cast<size_t>(b) * bs, static_cast<size_t>(bs));
        const uint64_t h = PrefixCache::block_hash(parent, toks);
        auto block = blocks_.lookup_cached(h, parent, toks);
        if (!block) break;
        seq->block_table.push_back(*block);
        seq->block_hashes.push_back(h);
        parent = h;
    }
    seq->n_computed = static_cast<int32_t>(seq->block_table.size()) * bs;
    if (first_admission) {
        seq->n_cached_prompt_tokens = std::min(seq->n_computed, seq->n_prompt);
        prefix_hits_ += static_cast<uint64_t>(seq->n_cached_prompt_tokens);
    }
}

std::vector<ScheduledSeq> Scheduler::schedule() {
    std::vector<ScheduledSeq> out;
    int32_t budget = config_.max_num_batched_tokens;
    bool preempted = false;

    for (size_t i = 0; i < running_.size() && budget > 0;) {
        Sequence* seq = running_[i];
        const int32_t n_new = std::min(seq->n_uncomputed(), budget);
        bool self_preempted = false;
        while (!grow(seq, seq->n_computed + n_new)) {
            Sequence* victim = running_.back();
            preempt(victim);
            preempted = true;
            if (victim == seq) {
                self_preempted = true;
                break;
            }
        }
        if (self_preempted) break;  // it was the newest left: nothing after it runs
        out.push_back({seq, n_new});
        budget -= n_new;
        ++i;
    }

    // Admitting new work right after preempting would only thrash the cache.
    while (!preempted && budget > 0 && !waiting_.empty() &&
           running_.size() < static_cast<size_t>(config_.max_num_seqs)) {
        Sequence* seq = waiting_.front();
        if (seq->block_table.empty() && seq->may_use_prefix_cache && blocks_.prefix_caching()) match_prefix(seq);
        if (seq->n_cached_prompt_tokens < 0) seq->n_cached_prompt_tokens = 0;
        const int32_t n_new = std::min(seq->n_uncomputed(), budget);
        if (!grow(seq, seq->n_computed + n_new)) {
            free_blocks(seq);  // give back the prefix hits while it waits; it looks them up again next time
            break;
        }
        waiting_.pop_front();
        seq->state = SequenceState::Running;
        running_.insert(std::upper_bound(running_.begin(), running_.end(), seq,
                                         [](const Sequence* a, const Sequence* b) { return a->id < b->id; }),
                        seq);
        out.push_back({seq, n_new});
        budget -= n_new;
    }
    return out;
}

void Scheduler::commit(const ScheduledSeq& scheduled) {
    Sequence* seq = scheduled.seq;
    seq->n_computed += scheduled.n_new;
    const int32_t bs = blocks_.block_size();
    // Register each block that just became full (all its tokens computed) under its content hash.
    while (static_cast<int32_t>(seq->block_hashes.size() + 1) * bs <= seq->n_computed) {
        const size_t b = seq->block_hashes.size();
        const uint64_t parent = b == 0 ? 0 : seq->block_hashes[b - 1];
        std::span<const int32_t> toks(seq->tokens.data() + b * bs, static_cast<size_t>(bs));
        const uint64_t h = PrefixCache::block_hash(parent, toks);
        blocks_.register_full(seq->block_table[b], h, parent, toks);
        seq->block_hashes.push_back(h);
    }
}

}  // namespace llmatc::engine
