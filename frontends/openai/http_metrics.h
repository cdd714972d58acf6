// frontends/openai/http_metrics.h — HTTP request counters and latency sums, exposed in Prometheus text on /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace llmatc::openai {

// Thread-safe. Labels are bounded: `route` is one of the known routes or "other", `status` an HTTP status.
class HttpMetrics {
public:
    void record(const std::string& route, int status, double seconds);
    // Prometheus text exposition (version 0.0.4) of the counters.
    std::string text() const;

private:
    struct Totals {
        uint64_t count = 0;
        double seconds = 0.0;
    };
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, Totals> totals_;
};

}  // namespace llmatc::openai
