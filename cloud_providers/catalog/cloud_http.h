// cloud_providers/catalog/cloud_http.h — the blocking HTTP(S) calls the cloud provider plugins make (libcurl, TLS
// verification on), and a short health probe of a node's server.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace llmatc::cloud_catalog {

struct CloudHttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;  // may hold secrets (Authorization): never logged
    std::string body;
    long timeout_s = 120;
};

struct CloudHttpResponse {
    long status = 0;
    std::string body;
};

// A transport failure (refused, DNS, TLS, timeout); the message names the host and path, never headers or body.
struct CloudTransportError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

CloudHttpResponse cloud_http(const CloudHttpRequest& request);

// GET http://host:port/path with an optional bearer key; the HTTP status, or 0 when nothing answered in time.
long probe_http(const std::string& host, int port, const std::string& path, const std::string& bearer, long timeout_ms);

// Percent-encodes a URL path segment or query value (RFC 3986 unreserved kept).
std::string url_escape(const std::string& text);

}  // namespace llmatc::cloud_catalog
