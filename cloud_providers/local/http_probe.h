// cloud_providers/local/http_probe.h — a minimal loopback HTTP GET used to health-check a cluster's server.
#pragma once

#include <string>

namespace llmatc::local_cloud {

// Sends `GET path` to host:port with an optional Bearer key and returns the status code, 0 when nothing answered
// within timeout_ms. Blocking; thread-safe.
int http_get_status(const std::string& host, int port, const std::string& path, const std::string& bearer, int timeout_ms);

// True when something accepts TCP connections on host:port (a port already taken).
bool port_in_use(const std::string& host, int port);

}  // namespace llmatc::local_cloud
