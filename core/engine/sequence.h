// core/engine/sequence.h — one request's state inside the engine: tokens, KV blocks, sampling and output state.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "engine/sampling_params.h"
#include "engine/stop_matcher.h"
#include "llmatc/frontend.h"

namespace llmatc {
class IncrementalDetokenizer;
}

namespace llmatc::engine {

enum class SequenceKind { Generate, Embed };
enum class SequenceState { Waiting, Running, Finished };

using Clock = std::chrono::steady_clock;

// A request as the scheduler and the step loop see it. Owned by the engine; touched only by its step thread.
//
// The one idea: `tokens` is prompt + generated, and `n_computed` of them have keys/values in the cache. A step
// computes tokens [n_computed, n_computed + n_new); when that reaches tokens.size(), the last row's logits give
// the next token. A prefill, a chunk of one, a decode and a recompute after preemption are all this.
struct Sequence {
    uint64_t id = 0;  // also arrival order: lower ids arrived earlier
    SequenceKind kind = SequenceKind::Generate;
    SequenceState state = SequenceState::Waiting;

    std::vector<int32_t> tokens;
    int32_t n_prompt = 0;
    int32_t n_computed = 0;
    int32_t max_new_tokens = 0;  // max_tokens clamped to the context left

    std::vector<int32_t> block_table;   // KV blocks in token order
    std::vector<uint64_t> block_hashes; // content hashes of the first block_hashes.size() (full) blocks
    bool may_use_prefix_cache = true;   // false when every prompt row must be computed (prompt logprobs, embed)
    int32_t n_cached_prompt_tokens = -1; // prompt tokens served from the prefix cache at first admission (-1: not yet)
    int32_t n_preemptions = 0;

    SamplingParams params;
    std::mt19937_64 rng;
    std::unique_ptr<IncrementalDetokenizer> detokenizer;
    std::unique_ptr<StopMatcher> stop_matcher;

    // Prompt logprobs (entry i for prompt token i), filled as prompt rows are computed.
    std::vector<float> prompt_logprobs;
    std::vector<llmatc_token_logprob> prompt_top;  // [n_prompt * n_top]
    int32_t n_prompt_logprobs_done = 0;            // entries 0 .. this-1 are filled
    bool prompt_logprobs_sent = false;
    int32_t n_top = 0;                             // alternatives per token in events
    double cumulative_logprob = 0.0;

    // Embedding: the running sum of final hidden states over the rows computed so far.
    std::vector<double> hidden_sum;
    // Embed kind: receives the L2-normalised mean, or an exception when the request is aborted or fails.
    std::shared_ptr<std::promise<std::vector<float>>> embedding;

    llmatc_output_callback callback = nullptr;
    void* user = nullptr;

    Clock::time_point arrival{};
    std::optional<Clock::time_point> first_token_time;
    Clock::time_point last_token_time{};

    int32_t n_total() const { return static_cast<int32_t>(tokens.size()); }
    int32_t n_generated() const { return n_total() - n_prompt; }
    int32_t n_uncomputed() const { return n_total() - n_computed; }
    std::span<const int32_t> prompt() const { return {tokens.data(), static_cast<size_t>(n_prompt)}; }
    std::span<const int32_t> output() const {
        return {tokens.data() + n_prompt, static_cast<size_t>(n_generated())};
    }
    bool wants_prompt_logprobs() const { return params.prompt_logprobs >= 0; }

    Sequence();
    ~Sequence();
    Sequence(Sequence&&) noexcept;
    Sequence& operator=(Sequence&&) noexcept;
};

}  // namespace llmatc::engine
