// core/http/http_client.h — the one blocking HTTP(S) client (libcurl, TLS verification always on) used by the model
// sources, the cloud-provider plugins and the node health probes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace llmatc::http {

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;  // may hold secrets (Authorization): never logged
    std::string body;  // sent for POST, PUT and PATCH, and for any other method when not empty
    bool follow_redirects = true;  // custom Authorization headers are not sent to another host on a redirect
    long connect_timeout_s = 20;
    long low_speed_timeout_s = 60;  // abort when under 1 byte/s for this long (a stalled connection)
    long total_timeout_s = 0;       // a limit on the whole transfer; 0 for none (downloads may take hours)
};

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // of the final response; names lowercase
    std::string body;                           // empty for downloads to a file
    std::string effective_url;                  // after redirects
};

// Thrown on transport failures (DNS, refused, TLS, timeout, cut connection); carries how many body bytes arrived.
// The message names the method and the URL without its query, never headers or body.
struct HttpTransportError : std::runtime_error {
    HttpTransportError(const std::string& what, uint64_t received) : std::runtime_error(what), bytes_received(received) {}
    uint64_t bytes_received;
};

// Performs the request and returns the whole body. Throws HttpTransportError naming the URL (without its query).
HttpResponse http_fetch(const HttpRequest& request);

// Performs the request, appending a 2xx body to `out` (other statuses' bodies go to response.body, capped).
// `on_bytes` (may be empty) is called with each chunk's size. Throws HttpTransportError when the transfer breaks.
HttpResponse http_download(const HttpRequest& request, std::FILE* out, const std::function<void(uint64_t)>& on_bytes);

// GET http://host:port/path with an optional bearer key, for health checks: the HTTP status, or 0 when nothing
// answered within timeout_ms. Never throws for transport failures. Thread-safe.
long http_status_probe(const std::string& host, int port, const std::string& path, const std::string& bearer,
                       long timeout_ms);

// A URL without its query string, for messages.
std::string url_for_messages(const std::string& url);

// Percent-encodes one URL path segment or query value (RFC 3986 unreserved characters kept).
std::string url_encode(const std::string& text, bool keep_slash);

}  // namespace llmatc::http
