// cloud_providers/gcp/compute_api.cpp — token exchange, Compute REST calls, error decoding and operation polling.
#include "compute_api.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <thread>
#include <utility>

#include "http/http_client.h"
#include "json_members.h"
#include "poll_interval.h"

namespace llmatc::gcp_cloud {

using cloud_common::string_member;

namespace {

constexpr const char* kScope = "https://www.googleapis.com/auth/cloud-platform";
constexpr long kRequestTimeoutS = 120;  // a whole Compute or token call, response included

std::string get(const std::map<std::string, std::string>& env, const char* key) {
    auto it = env.find(key);
    return it == env.end() ? "" : it->second;
}

// Sends one call to a Google endpoint with the settings every call here uses: redirects are not followed, and the
// whole call, response included, is bounded by kRequestTimeoutS. Throws what http_fetch throws on transport failure.
http::HttpResponse send(http::HttpRequest req) {
    req.follow_redirects = false;
    req.total_timeout_s = kRequestTimeoutS;
    return http::http_fetch(req);
}

std::string advice_for(const std::string& code, long http) {
    if (http == 401 || http == 403 || code == "forbidden" || code == "insufficientPermissions")
        return "check the service account's roles (Compute Admin) and GOOGLE_APPLICATION_CREDENTIALS";
    if (code == "QUOTA_EXCEEDED" || code == "quotaExceeded")
        return "request more GPU quota for this region in the Cloud console, or choose another region";
    if (code == "ZONE_RESOURCE_POOL_EXHAUSTED" || code == "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS")
        return "try another zone or region (--zone/--region), or retry later";
    if (code == "accessNotConfigured" || code == "SERVICE_DISABLED")
        return "enable the Compute Engine API for the project";
    return "see Google's message; fix the request or retry";
}

}  // namespace

ComputeApi::ComputeApi(const std::map<std::string, std::string>& env, const std::string& project,
                       std::function<void(const std::string&)> on_note)
    : on_note_(std::move(on_note)) {
    try {
        credentials_ = cloud_auth::find_gcp_credentials(env);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("gcp: no usable credentials: ") + e.what());
    }
    project_ = project;
    for (const char* key : {"CLOUDSDK_CORE_PROJECT", "GOOGLE_CLOUD_PROJECT"})
        if (project_.empty()) project_ = get(env, key);
    if (project_.empty()) project_ = credentials_.project_id;
    if (project_.empty())
        throw std::invalid_argument("gcp: no project: set CLOUDSDK_CORE_PROJECT (or use a service-account key, which "
                                    "names its project)");
    api_root_ = get(env, "LLMATC_GCP_COMPUTE_ENDPOINT");
    if (api_root_.empty()) api_root_ = "https://compute.googleapis.com/compute/v1";
    while (!api_root_.empty() && api_root_.back() == '/') api_root_.pop_back();
}

std::string ComputeApi::access_token() {
    if (!token_.empty()) return token_;
    http::HttpRequest req;
    req.method = "POST";
    req.url = credentials_.token_uri;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.body = cloud_auth::token_request_body(credentials_, kScope, static_cast<int64_t>(std::time(nullptr)));
    http::HttpResponse resp;
    try {
        resp = send(std::move(req));
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("gcp: could not reach the token endpoint: ") + e.what());
    }
    rapidjson::Document d;
    d.Parse(resp.body.c_str());
    if (resp.status != 200 || d.HasParseError() || string_member(d, "access_token").empty()) {
        const std::string why = d.IsObject() ? string_member(d, "error") + " " + string_member(d, "error_description") : "";
        throw std::runtime_error("gcp: the token endpoint refused the credentials from " + credentials_.source +
                                 " (HTTP " + std::to_string(resp.status) + (why.size() > 1 ? ": " + why : "") +
                                 "); check the key file and that the service account is enabled");
    }
    token_ = string_member(d, "access_token");
    return token_;
}

rapidjson::Document ComputeApi::request(const std::string& method, const std::string& path, const std::string& body,
                                        const std::string& call_name) {
    for (int attempt = 0;; ++attempt) {
        http::HttpRequest req;
        req.method = method;
        req.url = path.rfind("http", 0) == 0 ? path : api_root_ + "/projects/" + project_ + "/" + path;
        req.headers = {{"Authorization", "Bearer " + access_token()}};
        if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
        req.body = body;
        http::HttpResponse resp;
        try {
            resp = send(std::move(req));
        } catch (const std::exception& e) {
            throw ComputeError("transport", 0, "gcp: Compute " + call_name + " could not be sent: " + e.what() +
                                                   "; check the network or LLMATC_GCP_COMPUTE_ENDPOINT");
        }
        rapidjson::Document d;
        d.Parse(resp.body.c_str());
        if (resp.status >= 200 && resp.status < 300) {
            if (d.HasParseError()) d.SetObject();
            return d;
        }
        std::string code, message;
        if (!d.HasParseError() && d.IsObject() && d.HasMember("error") && d["error"].IsObject()) {
            const auto& e = d["error"];
            message = string_member(e, "message");
            if (e.HasMember("errors") && e["errors"].IsArray() && !e["errors"].Empty()) code = string_member(e["errors"][0], "reason");
            if (code.empty()) code = string_member(e, "status");
        }
        if (code.empty()) code = "HTTP" + std::to_string(resp.status);
        if ((resp.status == 429 || resp.status == 503 || code == "rateLimitExceeded") && attempt < 6) {
            const int wait_ms = 200 << attempt;
            if (on_note_) on_note_("Compute " + call_name + " throttled (" + code + "); retrying in " + std::to_string(wait_ms) + " ms");
            std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
            continue;
        }
        if (message.size() > 300) message = message.substr(0, 300) + "...";
        throw ComputeError(code, resp.status, "gcp: Compute " + call_name + " failed: HTTP " + std::to_string(resp.status) +
                                                  " " + code + (message.empty() ? "" : " (" + message + ")") + "; " +
                                                  advice_for(code, resp.status));
    }
}

void ComputeApi::wait_operation(const rapidjson::Value& operation, const std::string& zone, const std::string& call_name,
                                int timeout_s) {
    const std::string name = string_member(operation, "name");
    if (name.empty()) throw ComputeError("badOperation", 0, "gcp: Compute " + call_name + " returned no operation name");
    const std::string path = zone.empty() ? "global/operations/" + name : "zones/" + zone + "/operations/" + name;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    rapidjson::Document op;
    op.CopyFrom(operation, op.GetAllocator());
    for (;;) {
        if (string_member(op, "status") == "DONE") {
            if (op.HasMember("error") && op["error"].IsObject() && op["error"].HasMember("errors") &&
                op["error"]["errors"].IsArray() && !op["error"]["errors"].Empty()) {
                const auto& first = op["error"]["errors"][0];
                const std::string code = string_member(first, "code");
                throw ComputeError(code, 0, "gcp: Compute " + call_name + " failed: " + code + " (" + string_member(first, "message") +
                                                "); " + advice_for(code, 0));
            }
            return;
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw ComputeError("timeout", 0, "gcp: Compute " + call_name + " did not finish within " +
                                                 std::to_string(timeout_s) + " s (operation " + name + ")");
        std::this_thread::sleep_for(std::chrono::milliseconds(cloud_common::poll_interval_ms()));
        op = request("GET", path, "", call_name + " (operation " + name + ")");
    }
}

}  // namespace llmatc::gcp_cloud
