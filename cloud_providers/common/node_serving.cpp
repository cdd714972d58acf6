// cloud_providers/common/node_serving.cpp — runtime upload, server probe and the wait for a node's server.
#include "node_serving.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "http/http_client.h"
#include "poll_interval.h"
#include "ssh_bootstrap.h"

namespace llmatc::cloud_common {

namespace cc = llmatc::cloud_catalog;

std::string running_status(const cc::NodeSpec& spec, const std::string& ip) {
    return http::http_status_probe(ip, spec.port, "/v1/models", spec.api_key, 1500) == 200 ? "UP" : "INIT";
}

std::string wait_until_serving(const cc::NodeSpec& spec, const std::string& ip, const cc::ProgressFn& progress) {
    if (!spec.wait_ready) return running_status(spec, ip);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(spec.ready_timeout_s);
    progress("bootstrap", "waiting for the server on " + ip + ":" + std::to_string(spec.port) +
                              " (bootstrap, model download, load); `llm-atc status` shows progress");
    while (std::chrono::steady_clock::now() < deadline) {
        if (running_status(spec, ip) == "UP") {
            progress("ready", "the server answers on http://" + ip + ":" + std::to_string(spec.port) + "/v1");
            return "UP";
        }
        // Each probe may take its own 1.5 s timeout; polling faster than once a second gains nothing.
        std::this_thread::sleep_for(std::chrono::milliseconds(std::max(poll_interval_ms(), 1000)));
    }
    progress("bootstrap", "the server did not answer within " + std::to_string(spec.ready_timeout_s) +
                              " s; the node keeps running (status INIT)");
    return "INIT";
}

void bootstrap_if_needed(const cc::NodeSpec& spec, const cc::NodePlan& plan, const std::string& ip,
                         const std::string& login_user, const cc::ProgressFn& progress) {
    if (!plan.bootstrap.runtime_url.empty() || spec.server_argv.empty()) return;
    cc::bootstrap_over_ssh(cc::node_ssh_target(spec, ip, login_user), spec.server_argv.front(), plan.script,
                           cc::remote_prefix(), 600, [&](const std::string& m) { progress("bootstrap", m); });
}

}  // namespace llmatc::cloud_common
