// cloud_providers/gcp/compute_api.h — Google Compute Engine's REST API (JSON over HTTPS) with an OAuth2 access
// token from a service-account key (JWT RS256) or application-default credentials, and operation polling.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include <rapidjson/document.h>

#include "cloud_auth/gcp_credentials.h"

namespace llmatc::gcp_cloud {

// An error from the API or from a finished operation: `code` is Google's reason or operation error code
// ("ZONE_RESOURCE_POOL_EXHAUSTED", "QUOTA_EXCEEDED", "notFound", "alreadyExists"...), `http_status` 0 for
// operation errors; the message is one line naming the cloud, the call and what to do.
struct ComputeError : std::runtime_error {
    ComputeError(std::string code_, long http, const std::string& message)
        : std::runtime_error(message), code(std::move(code_)), http_status(http) {}
    std::string code;
    long http_status;
};

class ComputeApi {
public:
    // Finds credentials (GOOGLE_APPLICATION_CREDENTIALS or ADC) and the project: `project` when non-empty, else
    // CLOUDSDK_CORE_PROJECT, GOOGLE_CLOUD_PROJECT, the key's project_id. The API root is
    // LLMATC_GCP_COMPUTE_ENDPOINT or https://compute.googleapis.com/compute/v1. Throws naming what is missing.
    ComputeApi(const std::map<std::string, std::string>& env, const std::string& project,
               std::function<void(const std::string&)> on_note);

    // `path` is relative to projects/<project>/ ("zones/us-central1-a/instances"). Returns the parsed body.
    rapidjson::Document request(const std::string& method, const std::string& path, const std::string& body,
                                const std::string& call_name);

    // Polls the operation (zonal when `zone` is non-empty, else global) until DONE; throws ComputeError with the
    // operation's first error code when it failed.
    void wait_operation(const rapidjson::Value& operation, const std::string& zone, const std::string& call_name,
                        int timeout_s);

    const std::string& project() const { return project_; }

private:
    std::string access_token();
    cloud_auth::GcpCredentials credentials_;
    std::string project_, api_root_, token_;
    std::function<void(const std::string&)> on_note_;
};

}  // namespace llmatc::gcp_cloud
