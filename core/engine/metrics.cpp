// core/engine/metrics.cpp — Prometheus text exposition of the engine's counters, gauges and histograms.
#include "engine/metrics.h"

#include <algorithm>
#include <cstdio>

namespace llmatc::engine {

namespace {
std::string fmt_double(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

// Label values escape backslash, quote and newline (Prometheus text format).
std::string escape_label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

template <typename T>
void sample(std::string& out, const std::string& name, const std::string& labels, T value) {
    out += name + "{" + labels + "} " + fmt_double(static_cast<double>(value)) + "\n";
}
}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    std::lock_guard lock(mutex_);
    size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
    ++counts_[i];
    sum_ += value;
    ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
    std::lock_guard lock(mutex_);
    uint64_t cum = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
        cum += counts_[i];
        std::string le = i < bounds_.size() ? fmt_double(bounds_[i]) : "+Inf";
        out += name + "_bucket{" + labels + ",le=\"" + le + "\"} " + std::to_string(cum) + "\n";
    }
    out += name + "_sum{" + labels + "} " + fmt_double(sum_) + "\n";
    out += name + "_count{" + labels + "} " + std::to_string(count_) + "\n";
}

Metrics::Metrics(std::string model_name)
    // Bucket bounds as vLLM's.
    : time_to_first_token({0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
                           10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}),
      time_per_output_token({0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
                             10.0, 20.0, 40.0, 80.0}),
      e2e_latency({0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
                   480.0, 960.0, 1920.0, 7680.0}),
      labels_("model_name=\"" + escape_label(model_name) + "\"") {}

void Metrics::set_cache_config(const std::string& cache_dtype, int32_t block_size, int64_t num_blocks,
                               uint64_t bytes) {
    cache_config_labels_ = labels_ + ",cache_dtype=\"" + escape_label(cache_dtype) + "\",block_size=\"" +
                           std::to_string(block_size) + "\",num_blocks=\"" + std::to_string(num_blocks) +
                           "\",kv_cache_bytes=\"" + std::to_string(bytes) + "\"";
}

std::string Metrics::render() const {
    std::string out;
    if (!cache_config_labels_.empty()) {
        header(out, "llmatc_cache_config_info", "gauge", "KV cache configuration (in the labels); always 1.");
        sample(out, "llmatc_cache_config_info", cache_config_labels_, int64_t(1));
    }
    header(out, "llmatc_num_requests_running", "gauge", "Number of requests in the running batch.");
    sample(out, "llmatc_num_requests_running", labels_, running.load());
    header(out, "llmatc_num_requests_waiting", "gauge", "Number of requests waiting to be scheduled.");
    sample(out, "llmatc_num_requests_waiting", labels_, waiting.load());
    const int64_t total = blocks_total.load();
    header(out, "llmatc_kv_cache_usage_perc", "gauge", "Fraction of KV-cache blocks in use (1 = full).");
    sample(out, "llmatc_kv_cache_usage_perc", labels_,
           total > 0 ? static_cast<double>(blocks_in_use.load()) / static_cast<double>(total) : 0.0);
    header(out, "llmatc_kv_cache_blocks_free", "gauge", "KV-cache blocks free or holding evictable cached prefixes.");
    sample(out, "llmatc_kv_cache_blocks_free", labels_, blocks_free.load());
    header(out, "llmatc_kv_cache_blocks_total", "gauge", "KV-cache blocks allocated at startup.");
    sample(out, "llmatc_kv_cache_blocks_total", labels_, total);
    header(out, "llmatc_prefix_cache_queries_total", "counter", "Prompt tokens looked up in the prefix cache.");
    sample(out, "llmatc_prefix_cache_queries_total", labels_, prefix_cache_queries.load());
    header(out, "llmatc_prefix_cache_hits_total", "counter", "Prompt tokens served from the prefix cache.");
    sample(out, "llmatc_prefix_cache_hits_total", labels_, prefix_cache_hits.load());
    header(out, "llmatc_num_preemptions_total", "counter", "Sequences preempted for recompute.");
    sample(out, "llmatc_num_preemptions_total", labels_, preemptions.load());
    header(out, "llmatc_prompt_tokens_total", "counter", "Prefill tokens processed.");
    sample(out, "llmatc_prompt_tokens_total", labels_, prompt_tokens.load());
    header(out, "llmatc_generation_tokens_total", "counter", "Generation tokens produced.");
    sample(out, "llmatc_generation_tokens_total", labels_, generation_tokens.load());
    header(out, "llmatc_request_success_total", "counter", "Finished requests by finish reason.");
    const char* reasons[] = {nullptr, "stop", "length", "abort", "error"};
    for (size_t r = 1; r < finished.size(); ++r)
        sample(out, "llmatc_request_success_total", labels_ + ",finished_reason=\"" + reasons[r] + "\"",
               finished[r].load());
    header(out, "llmatc_time_to_first_token_seconds", "histogram", "Time to first token in seconds.");
    time_to_first_token.render(out, "llmatc_time_to_first_token_seconds", labels_);
    header(out, "llmatc_time_per_output_token_seconds", "histogram", "Time per output token in seconds.");
    time_per_output_token.render(out, "llmatc_time_per_output_token_seconds", labels_);
    header(out, "llmatc_e2e_request_latency_seconds", "histogram", "End-to-end request latency in seconds.");
    e2e_latency.render(out, "llmatc_e2e_request_latency_seconds", labels_);
    return out;
}

}  // namespace llmatc::engine
