// tests/core/engine/test_scheduler.cpp — continuous batching: chunked prefill, admission limits, prefix hits, preemption.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <numeric>
#include <vector>

#include "engine/scheduler.h"

using namespace llmatc::engine;

namespace {

std::unique_ptr<Sequence> make_seq(uint64_t id, std::vector<int32_t> prompt) {
    auto s = std::make_unique<Sequence>();
    s->id = id;
    s->tokens = std::move(prompt);
    s->n_prompt = static_cast<int32_t>(s->tokens.size());
    return s;
}

std::vector<int32_t> iota_tokens(int n, int start) {
    std::vector<int32_t> v(static_cast<size_t>(n));
    std::iota(v.begin(), v.end(), start);
    return v;
}

// Runs one step as the engine does, without a model: commit every scheduled chunk, and append a "sampled" token
// (100 + id) to each sequence whose chunk reached its end. Returns seq id -> tokens computed this step.
std::map<uint64_t, int32_t> step(Scheduler& sched) {
    std::map<uint64_t, int32_t> done;
    for (const ScheduledSeq& s : sched.schedule()) {
        done[s.seq->id] = s.n_new;
        sched.commit(s);
        if (s.seq->n_computed == s.seq->n_total()) s.seq->tokens.push_back(100 + static_cast<int32_t>(s.seq->id));
    }
    return done;
}

}  // namespace

TEST_CASE("a long prompt is prefilled in chunks of the token budget, then decodes one token a step", "[scheduler]") {
    BlockManager bm(16, 4, false);
    Scheduler sched(bm, {4, 8});
    auto a = make_seq(1, iota_tokens(20, 1));
    sched.add(a.get());
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{1, 8}});
    CHECK(a->n_computed == 8);
    CHECK(a->block_table.size() == 2);
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{1, 8}});
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{1, 4}});
    CHECK(a->n_total() == 21);  // the last chunk produced a token
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{1, 1}});
    CHECK(a->n_computed == 21);
    CHECK(a->block_table.size() == 6);
}

TEST_CASE("running decodes go first; waiting prefills share what budget is left", "[scheduler]") {
    BlockManager bm(32, 4, false);
    Scheduler sched(bm, {4, 10});
    auto a = make_seq(1, iota_tokens(3, 1));
    sched.add(a.get());
    step(sched);  // a prefilled, now decoding
    auto b = make_seq(2, iota_tokens(30, 1));
    sched.add(b.get());
    // a decodes 1 token, b gets the other 9.
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{1, 1}, {2, 9}});
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{1, 1}, {2, 9}});
}

TEST_CASE("no more than max_num_seqs run; the rest wait in arrival order", "[scheduler]") {
    BlockManager bm(64, 4, false);
    Scheduler sched(bm, {2, 100});
    std::vector<std::unique_ptr<Sequence>> seqs;
    for (uint64_t i = 1; i <= 3; ++i) {
        seqs.push_back(make_seq(i, iota_tokens(5, 1)));
        sched.add(seqs.back().get());
    }
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{1, 5}, {2, 5}});
    CHECK(sched.n_running() == 2);
    CHECK(sched.n_waiting() == 1);
    sched.remove(seqs[0].get());
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{2, 1}, {3, 5}});
}

TEST_CASE("out of blocks, the newest running sequence is preempted and later recomputed", "[scheduler]") {
    BlockManager bm(4, 4, false);
    Scheduler sched(bm, {4, 100});
    auto a = make_seq(1, iota_tokens(7, 1));
    auto b = make_seq(2, iota_tokens(7, 50));
    sched.add(a.get());
    sched.add(b.get());
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{1, 7}, {2, 7}});  // 2 blocks each, cache full
    CHECK(bm.n_available() == 0);
    // Both hold 8 tokens after this decode step (positions 7 fit the second block).
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{1, 1}, {2, 1}});
    // a needs a third block: b (newest) is preempted, its blocks freed, and it waits at the front.
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{1, 1}});
    CHECK(sched.n_preemptions() == 1);
    CHECK(b->state == SequenceState::Waiting);
    CHECK(b->n_computed == 0);
    CHECK(b->block_table.empty());
    CHECK(b->n_total() == 9);  // its generated tokens are kept, to be recomputed
    CHECK(sched.waiting().front() == b.get());

    sched.remove(a.get());
    CHECK(bm.n_available() == 4);
    // b is recomputed as one prefill of prompt + generated tokens, then samples its next token.
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{2, 9}});
    CHECK(b->n_total() == 10);
}

TEST_CASE("a sequence preempts itself when it is the newest and nothing else can give way", "[scheduler]") {
    BlockManager bm(3, 4, false);
    Scheduler sched(bm, {4, 100});
    auto a = make_seq(1, iota_tokens(5, 1));
    auto b = make_seq(2, iota_tokens(4, 50));
    sched.add(a.get());
    sched.add(b.get());
    step(sched);  // a: 2 blocks (room for 8 tokens), b: 1 block, now full with 4 tokens + 1 sampled
    // a's decode fits its blocks; b needs a second block, and b itself is the newest: it yields.
    CHECK(step(sched) == std::map<uint64_t, int32_t>{{1, 1}});
    CHECK(b->state == SequenceState::Waiting);
    CHECK(b->block_table.empty());
    CHECK(a->state == SequenceState::Running);
    CHECK(sched.n_preemptions() == 1);
}

TEST_CASE("full prompt blocks are shared through the prefix cache; the last token is always computed",
          "[scheduler][prefix_cache]") {
    BlockManager bm(16, 4, true);
    Scheduler sched(bm, {4, 100});
    auto a = make_seq(1, iota_tokens(9, 1));
    sched.add(a.get());
    step(sched);
    CHECK(a->n_cached_prompt_tokens == 0);
    CHECK(a->block_hashes.size() == 2);  // two full blocks registered

    // Same first 8 tokens, different tail: both full blocks are hits.
    auto prompt_b = iota_tokens(8, 1);
    prompt_b.push_back(77);
    prompt_b.push_back(78);
    auto b = make_seq(2, prompt_b);
    sched.add(b.get());
    auto got = step(sched);
    CHECK(got[2] == 2);  // only the 2 uncached tokens ran
    CHECK(b->n_cached_prompt_tokens == 8);
    CHECK(b->block_table[0] == a->block_table[0]);
    CHECK(b->block_table[1] == a->block_table[1]);
    CHECK(bm.ref_count(a->block_table[0]) == 2);

    // A prompt that is exactly the cached 8 tokens reuses only the first block: its last token must run.
    auto c = make_seq(3, iota_tokens(8, 1));
    sched.add(c.get());
    got = step(sched);
    CHECK(got[3] == 4);
    CHECK(c->n_cached_prompt_tokens == 4);
    CHECK(sched.prefix_hits() == 12);
    CHECK(sched.prefix_queries() == 9 + 10 + 8);

    // Sequences that must compute every prompt row skip the cache.
    auto d = make_seq(4, iota_tokens(9, 1));
    d->may_use_prefix_cache = false;
    sched.add(d.get());
    got = step(sched);
    CHECK(got[4] == 9);
    CHECK(d->n_cached_prompt_tokens == 0);
}

TEST_CASE("removing a sequence frees its blocks at once", "[scheduler]") {
    BlockManager bm(8, 4, false);
    Scheduler sched(bm, {4, 100});
    auto a = make_seq(1, iota_tokens(10, 1));
    sched.add(a.get());
    step(sched);
    CHECK(bm.n_available() == 5);
    sched.remove(a.get());
    CHECK(bm.n_available() == 8);
    CHECK(sched.n_running() == 0);
}
