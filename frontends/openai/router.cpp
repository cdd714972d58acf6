// frontends/openai/router.cpp — maps (method, path) to endpoint handlers and every failure to an OpenAI error.
#include "router.h"

#include <cctype>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "api_error.h"
#include "chat.h"
#include "completions.h"
#include "embeddings.h"
#include "info_endpoints.h"
#include "tokenize_endpoints.h"

namespace llmatc::openai {

namespace {

struct Route {
    const char* path;
    const char* method;
};

// Every route the server answers; anything else is 404.
constexpr Route kRoutes[] = {
    {"/v1/models", "GET"},           {"/v1/completions", "POST"}, {"/v1/chat/completions", "POST"},
    {"/v1/embeddings", "POST"},      {"/tokenize", "POST"},       {"/detokenize", "POST"},
    {"/health", "GET"},              {"/version", "GET"},         {"/metrics", "GET"},
};
constexpr std::string_view kModelPrefix = "/v1/models/";

std::string_view path_of(std::string_view target) {
    size_t q = target.find('?');
    return q == std::string_view::npos ? target : target.substr(0, q);
}

// /health and /metrics answer without a key: load balancers and Prometheus scrape them.
bool open_path(std::string_view path) { return path == "/health" || path == "/metrics"; }

// "%2Fwork%2Fm" → "/work/m" (clients percent-encode model ids that hold slashes). A malformed escape is kept as is.
std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 &&
            hex(text[i + 2]) >= 0) {
            out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

Reply immediate(HttpResponse response) {
    Reply reply;
    reply.immediate = std::move(response);
    return reply;
}

}  // namespace

Router::Router(ServerContext context) : context_(std::move(context)) {
    if (!context_.api_key.empty()) {
        SHA256(reinterpret_cast<const unsigned char*>(context_.api_key.data()), context_.api_key.size(),
               key_digest_.data());
    }
}

std::string Router::route_label(std::string_view target) {
    std::string_view path = path_of(target);
    for (const auto& r : kRoutes) {
        if (path == r.path) return r.path;
    }
    if (path.starts_with(kModelPrefix)) return "/v1/models/{id}";
    return "other";
}

void Router::record(std::string_view target, int status, double seconds) {
    metrics_.record(route_label(target), status, seconds);
}

bool Router::authorized(std::string_view authorization) const {
    if (context_.api_key.empty()) return true;
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.size() < kBearer.size()) return false;
    std::string_view scheme = authorization.substr(0, kBearer.size());
    // The scheme name is case-insensitive (RFC 7235).
    for (size_t i = 0; i < kBearer.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(scheme[i])) != std::tolower(static_cast<unsigned char>(kBearer[i])))
            return false;
    }
    std::string_view token = authorization.substr(kBearer.size());
    // Comparing digests keeps the time independent of where (and whether in length) the token differs.
    std::array<unsigned char, 32> digest{};
    SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
    return CRYPTO_memcmp(digest.data(), key_digest_.data(), digest.size()) == 0;
}

Reply Router::route(const HttpRequest& request) const {
    try {
        std::string_view path = path_of(request.target);
        if (!open_path(path) && !authorized(request.authorization)) {
            HttpResponse response = error_response(
                ApiError(401, "invalid_request_error", "invalid_api_key",
                         request.authorization.empty() ? "Missing API key: send it as 'Authorization: Bearer <key>'."
                                                       : "Incorrect API key provided."));
            response.headers.emplace_back("WWW-Authenticate", "Bearer");
            return immediate(std::move(response));
        }
        return dispatch(request, path);
    } catch (const ApiError& e) {
        return immediate(error_response(e));
    } catch (const std::exception& e) {
        return immediate(error_response(ApiError(500, "server_error", "internal_error",
                                                 std::string("internal error: ") + e.what())));
    } catch (...) {
        return immediate(error_response(ApiError(500, "server_error", "internal_error", "internal error")));
    }
}

Reply Router::dispatch(const HttpRequest& request, std::string_view path) const {
    const Route* found = nullptr;
    for (const auto& r : kRoutes) {
        if (path == r.path) found = &r;
    }
    const bool model_path = !found && path.starts_with(kModelPrefix) && path.size() > kModelPrefix.size();
    if (!found && !model_path) {
        throw ApiError(404, "invalid_request_error", "not_found", "Not found: " + std::string(path));
    }
    const char* allowed = found ? found->method : "GET";
    if (request.method != allowed) {
        ApiError error(405, "invalid_request_error", "method_not_allowed",
                       "Method " + request.method + " is not allowed for " + std::string(path) + "; use " + allowed);
        HttpResponse response = error_response(error);
        response.headers.emplace_back("Allow", allowed);
        return immediate(std::move(response));
    }
    if (model_path) return immediate(handle_get_model(context_, percent_decode(path.substr(kModelPrefix.size()))));

    if (path == "/v1/completions") return handle_completions(context_, request);
    if (path == "/v1/chat/completions") return handle_chat_completions(context_, request);
    if (path == "/v1/embeddings") return handle_embeddings(context_, request);
    if (path == "/v1/models") return immediate(handle_list_models(context_));
    if (path == "/tokenize") return immediate(handle_tokenize(context_, request));
    if (path == "/detokenize") return immediate(handle_detokenize(context_, request));
    if (path == "/health") return immediate(handle_health(context_));
    if (path == "/version") return immediate(handle_version(context_));
    // /metrics: the engine's exposition followed by the server's own counters.
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = context_.engine.metrics_text();
    if (!response.body.empty() && response.body.back() != '\n') response.body += '\n';
    response.body += metrics_.text();
    return immediate(std::move(response));
}

}  // namespace llmatc::openai
