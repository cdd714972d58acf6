// core/http/http_client.cpp — libcurl easy-handle wrapper: headers, redirects, timeouts, streaming bodies, probes.
#include "http/http_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "cloud_auth/sigv4.h"

namespace llmatc::http {

namespace {

void init_curl_once() {
    // curl_global_init is not thread-safe; a function-local static runs it exactly once.
    static const bool initialised = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
    (void)initialised;
}

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

struct Transfer {
    HttpResponse* response;
    std::FILE* out = nullptr;
    const std::function<void(uint64_t)>* on_bytes = nullptr;
    uint64_t received = 0;
    bool write_failed = false;
    bool restart_on_full_body = false;  // a ranged request: a 200 means the server sent the whole file again
    bool body_started = false;
};

// Records the status line and the headers of each response; the status must be known before on_body decides
// where the bytes go, and curl only reports it after the transfer.
size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::string line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
        t->response->headers.clear();  // a new response (after a redirect or a 100-continue)
        const auto space = line.find(' ');
        if (space != std::string::npos) t->response->status = std::strtol(line.c_str() + space + 1, nullptr, 10);
        return size * count;
    }
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
        t->response->headers[name] = value;
    }
    return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    // Only a 2xx body goes to the file; an error body is kept (capped) for the message.
    if (t->out) {
        const long status = t->response->status;
        if (status >= 200 && status < 300) {
            if (!t->body_started && status == 200 && t->restart_on_full_body) {
                std::fflush(t->out);
                if (::ftruncate(::fileno(t->out), 0) != 0 || std::fseek(t->out, 0, SEEK_SET) != 0) {
                    t->write_failed = true;
                    return 0;
                }
            }
            t->body_started = true;
            if (std::fwrite(data, 1, n, t->out) != n) {
                t->write_failed = true;
                return 0;
            }
            t->received += n;
            if (t->on_bytes && *t->on_bytes) (*t->on_bytes)(n);
            return n;
        }
        if (t->response->body.size() < 65536) t->response->body.append(data, n);
        return n;
    }
    t->response->body.append(data, n);
    t->received += n;
    return n;
}

size_t discard_body(char*, size_t size, size_t count, void*) { return size * count; }

bool sends_body(const HttpRequest& req) {
    return req.method == "POST" || req.method == "PUT" || req.method == "PATCH" || !req.body.empty();
}

HttpResponse perform(const HttpRequest& req, std::FILE* out, const std::function<void(uint64_t)>* on_bytes) {
    init_curl_once();
    CurlHandle curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw HttpTransportError("libcurl could not start a transfer", 0);
    HttpResponse response;
    Transfer t{&response, out, on_bytes};
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : req.headers) {
        if (k == "Range" || k == "range") t.restart_on_full_body = true;
        headers = curl_slist_append(headers, (k + ": " + v).c_str());
    }
    // Sending a body without Expect: 100-continue keeps cloud endpoints, moto and small loopback servers fast.
    headers = curl_slist_append(headers, "Expect:");
    HeaderList header_guard(headers, curl_slist_free_all);
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, req.connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, req.low_speed_timeout_s);
    if (req.total_timeout_s > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT, req.total_timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "llm-atc/" LLMATC_VERSION);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    if (req.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        const bool with_body = sends_body(req);
        if (req.method != "GET" || with_body) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
        if (with_body) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        }
    }
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        if (t.write_failed) throw std::runtime_error("cannot write the download of " + url_for_messages(req.url) + " to disk");
        throw HttpTransportError(std::string(curl_easy_strerror(rc)) + " (" + req.method + " " + url_for_messages(req.url) + ")",
                                 t.received);
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    char* effective = nullptr;
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
    if (effective) response.effective_url = effective;
    return response;
}

}  // namespace

std::string url_for_messages(const std::string& url) { return url.substr(0, url.find('?')); }

std::string url_encode(const std::string& text, bool keep_slash) { return cloud_auth::aws_uri_encode(text, !keep_slash); }

HttpResponse http_fetch(const HttpRequest& request) { return perform(request, nullptr, nullptr); }

HttpResponse http_download(const HttpRequest& request, std::FILE* out, const std::function<void(uint64_t)>& on_bytes) {
    return perform(request, out, &on_bytes);
}

long http_status_probe(const std::string& host, int port, const std::string& path, const std::string& bearer,
                       long timeout_ms) {
    if (host.empty()) return 0;
    init_curl_once();
    CurlHandle curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return 0;
    curl_slist* headers = nullptr;
    if (!bearer.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + bearer).c_str());
    HeaderList header_guard(headers, curl_slist_free_all);
    const std::string url = "http://" + host + ":" + std::to_string(port) + path;
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) != CURLE_OK) return 0;
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

}  // namespace llmatc::http
