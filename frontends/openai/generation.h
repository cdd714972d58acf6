// frontends/openai/generation.h — a set of engine requests (one per returned sequence) whose events are collected for a reply.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine_client.h"
#include "llmatc/frontend.h"

namespace llmatc::openai {

// What one sequence produced in one engine event (or, merged, in total).
struct SequenceDelta {
    std::string text;
    std::vector<int32_t> token_ids;
    std::vector<float> logprobs;                      // per token, when asked
    std::vector<llmatc_token_logprob> top_logprobs;   // [token_ids.size() * n_top]
    int32_t n_top = 0;
    bool has_prompt_logprobs = false;                 // set once, in the delta that carries them
    std::vector<float> prompt_logprobs;
    std::vector<llmatc_token_logprob> prompt_top_logprobs;
    llmatc_finish_reason finish_reason = LLMATC_FINISH_NONE;  // != NONE once finished
    std::string error_message;
    // Running totals (latest values, not deltas).
    int32_t n_prompt_tokens = 0;
    int32_t n_generated_tokens = 0;
    int32_t n_cached_prompt_tokens = 0;
    double cumulative_logprob = 0.0;
};

// One engine event of sequence `index`, as it arrived.
struct SequenceEvent {
    size_t index;
    SequenceDelta delta;
};

// Folds events into one delta per sequence (texts, tokens and logprobs appended; latest totals; the finish reason).
std::vector<SequenceDelta> merge_events(std::vector<SequenceEvent>& events, size_t n_sequences);

// Thread-safe: the engine's thread appends events; the session's strand takes them. Keep it in a shared_ptr: each
// engine request holds a reference until its final event, so the set outlives every callback.
class GenerationSet : public std::enable_shared_from_this<GenerationSet> {
public:
    explicit GenerationSet(const EngineClient& engine) : engine_(engine) {}

    // Queues one sequence per entry of `prompts` × its sampling params; sequence i is submissions[i]. When a submit
    // fails the sequences already queued are cancelled and the ApiError is rethrown.
    struct Submission {
        const ServedModel* model;
        std::vector<int32_t> prompt_tokens;
        llmatc_sampling_params sampling;  // pointers borrowed for the submit call
    };
    void submit_all(const std::vector<Submission>& submissions);

    // `wake` is called (from the engine's thread, outside any lock) after each event.
    void set_wake(std::function<void()> wake);
    // Moves out the events that arrived since the last call, in arrival order (one streamed chunk each).
    std::vector<SequenceEvent> take_events();
    bool all_finished() const;
    size_t size() const;
    // Cancels every unfinished sequence (their final events still arrive). Idempotent.
    void cancel_all();

private:
    struct Slot;
    static void on_event(const llmatc_output_event* event, void* user);
    void record(size_t index, const llmatc_output_event& event);

    const EngineClient& engine_;
    mutable std::mutex mutex_;
    std::vector<SequenceEvent> queue_;
    size_t n_sequences_ = 0;
    std::vector<uint64_t> request_ids_;
    std::vector<bool> finished_;
    std::vector<bool> submitted_;
    std::function<void()> wake_;
    bool cancelled_ = false;
};

}  // namespace llmatc::openai
