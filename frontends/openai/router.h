// frontends/openai/router.h — the pure request→reply function of the server: authentication, routes, methods, errors.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "http_metrics.h"
#include "http_types.h"
#include "server_context.h"

namespace llmatc::openai {

// Thread-safe: route() may run on every I/O thread at once. No socket I/O happens here, so it is unit-testable.
class Router {
public:
    explicit Router(ServerContext context);

    // Never throws: every failure becomes an OpenAI-shaped error response.
    Reply route(const HttpRequest& request) const;
    // Counts a finished request for /metrics.
    void record(std::string_view target, int status, double seconds);
    // The bounded route label of a target ("/v1/completions", or "other").
    static std::string route_label(std::string_view target);

    const ServerContext& context() const { return context_; }

private:
    bool authorized(std::string_view authorization) const;
    Reply dispatch(const HttpRequest& request, std::string_view path) const;

    ServerContext context_;
    std::array<unsigned char, 32> key_digest_{};  // SHA-256 of the API key, compared in constant time
    HttpMetrics metrics_;
};

}  // namespace llmatc::openai
