// frontends/openai/http_types.h — what the routing layer sees of HTTP: a request in, an immediate or pending reply out.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace llmatc::openai {

// One parsed HTTP request (no Beast types, so routing stays testable without a socket).
struct HttpRequest {
    std::string method;         // "GET", "POST" ...
    std::string target;         // path plus optional query, e.g. "/v1/models?x=1"
    std::string authorization;  // the Authorization header value, "" when absent
    std::string body;
};

// A complete response.
struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Allow, WWW-Authenticate ...)
};

// Token counts of a finished request, for the request log line.
struct UsageCounts {
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
};

// Work that continues after routing returned (generation in the engine, a blocking embed on a worker).
// Threading contract: start() and poll() are called from the session's strand, one at a time; cancel() may be called
// from any thread. `wake` may be called from any thread (the engine's) whenever poll() may have something new, must
// be cheap, and may still be called shortly after the reply is destroyed: it must own what it uses (capture weak or
// shared pointers, never references to a stack frame).
class PendingReply {
public:
    virtual ~PendingReply() = default;
    // True: the body is a server-sent-event stream sent with chunked encoding and status 200.
    virtual bool streaming() const = 0;
    // Begins delivering; `wake` is kept (at most) until the reply is destroyed.
    virtual void start(std::function<void()> wake) = 0;
    // Streaming: appends the body bytes available now to `out`; returns true once everything has been appended.
    // Non-streaming: returns true when the final response is ready (then response() gives it), appending nothing.
    virtual bool poll(std::string& out) = 0;
    // The complete response of a non-streaming reply, valid once poll() returned true.
    virtual HttpResponse response() = 0;
    // The client is gone or the server is stopping: cancel engine work (frees its KV blocks). Idempotent.
    virtual void cancel() = 0;
    // Tokens used so far (for the request log).
    virtual UsageCounts usage() const = 0;
};

// What routing returns: `pending` set means the response comes later through it; otherwise `immediate` is complete.
struct Reply {
    HttpResponse immediate;
    std::shared_ptr<PendingReply> pending;
};

}  // namespace llmatc::openai
