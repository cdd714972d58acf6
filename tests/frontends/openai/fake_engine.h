// tests/frontends/openai/fake_engine.h — a small deterministic engine behind llmatc_engine_api, for frontend tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "llmatc/frontend.h"

namespace llmatc::test {

// Bytes are tokens (id = byte + 3); 1 is BOS, 2 is EOS. A request generates the letters 'a', 'b', 'c' ... (one token
// per event, `step_delay_ms` apart) until max_tokens (finish "length") or a stop string (finish "stop"). Each chosen
// token has logprob -0.5; alternatives are the next letters with -1, -2 ... Thread-safe.
class FakeEngine {
public:
    static constexpr int32_t kVocab = 259;
    static constexpr int32_t kMaxModelLen = 64;
    static constexpr int32_t kHidden = 4;

    FakeEngine();
    ~FakeEngine();

    const llmatc_engine_api* api() const { return &api_; }
    // The host's last-error function the frontend reads failure messages from.
    static const char* last_error();

    std::atomic<bool> queue_full{false};
    std::atomic<int> step_delay_ms{0};
    std::atomic<int> cancelled{0};   // cancel() calls that found a running request
    std::atomic<int> running{0};     // requests not yet finished
    std::atomic<int> submitted{0};

    // Every submitted request's sampling params (copied), in submit order.
    std::vector<llmatc_sampling_params> submitted_params() const;

private:
    struct Job;
    static FakeEngine* self(void* engine) { return static_cast<FakeEngine*>(engine); }
    void run_job(Job* job);

    llmatc_engine_api api_{};
    mutable std::mutex mutex_;
    std::vector<Job*> jobs_;
    std::vector<std::thread> threads_;
    std::vector<llmatc_sampling_params> params_;
    uint64_t next_id_ = 1;
};

}  // namespace llmatc::test
