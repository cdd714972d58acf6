// core/engine/engine_impl.h — the engine's implementation class, shared by the step loop and the C table.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/block_manager.h"
#include "engine/device_sampler.h"
#include "engine/engine.h"
#include "engine/kv_cache.h"
#include "engine/metrics.h"
#include "engine/sampler.h"
#include "engine/scheduler.h"
#include "engine/sequence.h"
#include "engine/step_batch.h"
#include "runtime/loaded_model.h"

namespace llmatc::engine {

// Threads: any thread calls submit/cancel/embed and the read-only services; one step thread owns the scheduler,
// the block manager, the KV cache and every Sequence, and invokes the output callbacks. The mutex guards only
// the hand-over (inbox, cancellations, the stop flag).
class EngineImpl final : public Engine {
public:
    EngineImpl(std::unique_ptr<LoadedModel> model, const EngineOptions& options);
    ~EngineImpl() override;

    const llmatc_engine_api* api() const override { return &api_; }
    void shutdown() override;

    // The services behind the C table. They throw llmatc::Error; engine_api.cpp turns that into a status.
    const LoadedModel& model_named(std::string_view name) const;  // "" = the default; else NOT_FOUND
    const llmatc_model_info& model_info() const { return info_; }
    const std::string& chat_template() const { return chat_template_; }
    int32_t max_model_len() const { return max_model_len_; }
    // Renders an OpenAI messages array (JSON text) with the chat template (chat_rendering.cpp). Errors are
    // Error(INVALID_ARGUMENT) carrying the template's message.
    std::string render_chat(std::string_view model, std::string_view messages_json, bool add_generation_prompt) const;
    uint64_t submit(const llmatc_request& request);
    void cancel(uint64_t request_id);
    std::vector<float> embed(std::span<const int32_t> tokens);
    std::string metrics_text() const { return metrics_.render(); }
    bool healthy() const { return healthy_.load() && !stopping_.load(); }

private:
    void step_loop();
    void run_step(const std::vector<ScheduledSeq>& scheduled);
    void after_row_outputs(const ScheduledSeq& s, const StepBatch::SeqRows& rows);
    void sample_next(Sequence& seq, const float* logits);
    // Takes `r` as seq's next token: metrics, stop checks, detokenised text, the event.
    void accept_token(Sequence& seq, const SampleResult& r);
    // When every logit row of this step is a sampling row of a sequence that samples_on_device(): points the
    // batch's logits at the device sampler's buffer and returns true.
    bool prepare_device_sampling(const std::vector<ScheduledSeq>& scheduled);
    // After the forward of a prepared step: one draw per sequence from its RNG, the backend's choices into
    // device_results_ (by logit index).
    void sample_on_device(const std::vector<ScheduledSeq>& scheduled);
    void record_prompt_logprobs(Sequence& seq, int32_t position, const float* logits);
    void finish_embedding(Sequence& seq);
    std::string flush_text(Sequence& seq, bool may_stop);
    // Sends an event (new token `token` or none when < 0) and, with a finish reason, retires the sequence.
    void emit(Sequence& seq, int32_t token, float logprob, const std::vector<llmatc_token_logprob>& top,
              const std::string& text, llmatc_finish_reason finish, const char* error = nullptr);
    // Ends a sequence: release() frees its blocks and counts it; retire() also destroys it.
    void release(Sequence& seq, llmatc_finish_reason finish);
    void retire(Sequence& seq, llmatc_finish_reason finish);
    void fail_all(const std::vector<ScheduledSeq>& scheduled, const std::string& message);
    void abort_everything();
    void update_gauges();
    void validate_tokens(std::span<const int32_t> tokens, bool for_generation) const;
    std::unique_ptr<Sequence> make_sequence(std::span<const int32_t> tokens, SequenceKind kind);

    std::unique_ptr<LoadedModel> model_;
    EngineOptions options_;
    std::string served_name_;
    std::string root_;
    int32_t max_model_len_ = 0;
    std::string chat_template_;
    llmatc_model_info info_{};
    llmatc_engine_api api_{};

    std::unique_ptr<KvCacheMemory> kv_;
    std::unique_ptr<BlockManager> blocks_;
    std::unique_ptr<Scheduler> scheduler_;
    StepBatch step_batch_;
    std::unique_ptr<DeviceSampler> device_sampler_;
    bool step_samples_on_device_ = false;       // this step's tokens are in device_results_
    std::vector<SampleResult> device_results_;  // by logit index
    Metrics metrics_;
    std::vector<int32_t> eos_ids_;

    // Step-thread state.
    std::unordered_map<uint64_t, std::unique_ptr<Sequence>> sequences_;

    // Hand-over state.
    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<std::unique_ptr<Sequence>> inbox_;
    std::vector<uint64_t> cancels_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> healthy_{true};
    std::atomic<uint64_t> next_id_{1};
    std::atomic<int64_t> n_waiting_seen_{0};  // the scheduler's queue length after the last step (queue limit)
    std::mt19937_64 seed_source_;       // seeds requests that name no seed; guarded by mutex_
    std::thread step_thread_;
};

// Fills the C table whose functions forward to `engine` (engine_api.cpp).
void fill_engine_api(EngineImpl* engine, llmatc_engine_api* api);

}  // namespace llmatc::engine
