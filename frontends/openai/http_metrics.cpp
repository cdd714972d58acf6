// frontends/openai/http_metrics.cpp — HTTP counters in Prometheus text.
#include "http_metrics.h"

#include <cstdio>

namespace llmatc::openai {

void HttpMetrics::record(const std::string& route, int status, double seconds) {
    std::lock_guard lock(mutex_);
    Totals& t = totals_[{route, status}];
    t.count += 1;
    t.seconds += seconds;
}

std::string HttpMetrics::text() const {
    std::lock_guard lock(mutex_);
    std::string out;
    char line[512];
    out += "# HELP llmatc_http_requests_total HTTP requests answered, by route and status.\n";
    out += "# TYPE llmatc_http_requests_total counter\n";
    for (const auto& [key, t] : totals_) {
        std::snprintf(line, sizeof line, "llmatc_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                      key.first.c_str(), key.second, static_cast<unsigned long long>(t.count));
        out += line;
    }
    out += "# HELP llmatc_http_request_duration_seconds_sum Seconds spent answering HTTP requests, by route.\n";
    out += "# TYPE llmatc_http_request_duration_seconds_sum counter\n";
    std::map<std::string, double> by_route;
    for (const auto& [key, t] : totals_) by_route[key.first] += t.seconds;
    for (const auto& [route, seconds] : by_route) {
        std::snprintf(line, sizeof line, "llmatc_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                      route.c_str(), seconds);
        out += line;
    }
    return out;
}

}  // namespace llmatc::openai
