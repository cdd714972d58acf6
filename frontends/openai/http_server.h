// frontends/openai/http_server.h — the HTTP/1.1 server (Boost.Beast): listener, one session per connection, I/O threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "router.h"

namespace llmatc::openai {

struct HttpServerOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 8000;               // 0 = any free port
    int n_threads = 2;                  // I/O threads
    uint64_t max_body_bytes = 8 << 20;  // 413 above
    std::chrono::seconds idle_timeout{60};   // keep-alive wait for the next request, and reading one request
    std::chrono::seconds write_timeout{60};  // one write to a slow client
    size_t max_buffered_stream_bytes = 4 << 20;  // a streaming client this far behind is dropped (and its work cancelled)
};

// Thread-safe where stated. Beast stays inside http_server.cpp so only one translation unit pays for it.
class HttpServer {
public:
    // Resolves, binds and listens (so connections queue from now on). Throws std::runtime_error naming the address.
    HttpServer(const HttpServerOptions& options, std::shared_ptr<Router> router);
    ~HttpServer();

    uint16_t port() const;
    // Serves on options.n_threads threads (this one included) until stop(); then aborts what is left.
    void run();
    // Stops accepting, lets in-flight requests finish for up to grace_ms, then makes run() return. Thread-safe,
    // callable before run() and more than once.
    void stop(uint32_t grace_ms);

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace llmatc::openai
