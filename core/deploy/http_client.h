// core/deploy/http_client.h — a small blocking HTTP(S) client on libcurl (TLS verification always on) for the
// model sources and health checks.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmatc::deploy {

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;  // may hold secrets (Authorization): never logged
    std::string body;
    bool follow_redirects = true;  // custom Authorization headers are not sent to another host on a redirect
    long connect_timeout_s = 20;
    long low_speed_timeout_s = 60;  // abort when under 1 byte/s for this long (a stalled connection)
};

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // of the final response; names lowercase
    std::string body;                           // empty for downloads to a file
    std::string effective_url;                  // after redirects
};

// Thrown on transport failures (DNS, refused, TLS, cut connection); carries how many body bytes arrived.
struct HttpTransportError : std::runtime_error {
    HttpTransportError(const std::string& what, uint64_t received) : std::runtime_error(what), bytes_received(received) {}
    uint64_t bytes_received;
};

// Performs the request and returns the whole body. Throws HttpTransportError naming the URL (without its query).
HttpResponse http_fetch(const HttpRequest& request);

// Performs the request, appending a 2xx body to `out` (other statuses' bodies go to response.body, capped).
// `on_bytes` (may be empty) is called with each chunk's size. Throws HttpTransportError when the transfer breaks.
HttpResponse http_download(const HttpRequest& request, std::FILE* out, const std::function<void(uint64_t)>& on_bytes);

// A URL without its query string, for messages.
std::string url_for_messages(const std::string& url);

// Percent-encodes one URL path segment or query value (RFC 3986 unreserved characters kept).
std::string url_encode(const std::string& text, bool keep_slash);

}  // namespace llmatc::deploy
