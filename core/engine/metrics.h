// core/engine/metrics.h — the engine's Prometheus metrics (vLLM's names, llmatc_ prefix) and their text exposition.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "llmatc/frontend.h"

namespace llmatc::engine {

// A cumulative histogram with fixed upper bounds (seconds). Thread-safe.
class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double value);
    // Appends the _bucket/_sum/_count lines for `name` with the label set `labels` ("model_name=\"x\"").
    void render(std::string& out, const std::string& name, const std::string& labels) const;

private:
    std::vector<double> bounds_;
    mutable std::mutex mutex_;
    std::vector<uint64_t> counts_;  // per bucket, not cumulative; last = +Inf
    double sum_ = 0.0;
    uint64_t count_ = 0;
};

// Written by the step thread, read by any thread (metrics_text).
class Metrics {
public:
    explicit Metrics(std::string model_name);

    // Gauges, set once per step.
    std::atomic<int64_t> running{0};
    std::atomic<int64_t> waiting{0};
    std::atomic<int64_t> blocks_total{0};
    std::atomic<int64_t> blocks_free{0};   // free or evictable
    std::atomic<int64_t> blocks_in_use{0};
    // Counters.
    std::atomic<uint64_t> prompt_tokens{0};
    std::atomic<uint64_t> generation_tokens{0};
    std::atomic<uint64_t> prefix_cache_queries{0};
    std::atomic<uint64_t> prefix_cache_hits{0};
    std::atomic<uint64_t> preemptions{0};
    std::array<std::atomic<uint64_t>, 5> finished{};  // indexed by llmatc_finish_reason

    Histogram time_to_first_token;
    Histogram time_per_output_token;
    Histogram e2e_latency;

    void finish(llmatc_finish_reason reason) { finished.at(static_cast<size_t>(reason))++; }
    // The KV cache's configuration, shown as llmatc_cache_config_info (vLLM's cache_config_info). Call once, before
    // any thread renders (the engine does so in its constructor).
    void set_cache_config(const std::string& cache_dtype, int32_t block_size, int64_t num_blocks, uint64_t bytes);
    std::string render() const;

private:
    std::string labels_;
    std::string cache_config_labels_;  // empty until set_cache_config
};

}  // namespace llmatc::engine
