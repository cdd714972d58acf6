// frontends/openai/api_error.h — errors in OpenAI's shape {"error": {"message", "type", "param", "code"}} with their HTTP status.
#pragma once

#include <stdexcept>
#include <string>

#include "http_types.h"
#include "llmatc/plugin.h"

namespace llmatc::openai {

// Thrown by endpoint code; the router turns it into a response. `param` names the offending request field ("" = none).
class ApiError : public std::runtime_error {
public:
    ApiError(int http_status, std::string type, std::string code, const std::string& message, std::string param = {})
        : std::runtime_error(message),
          http_status(http_status),
          type(std::move(type)),
          code(std::move(code)),
          param(std::move(param)) {}

    int http_status;
    std::string type;
    std::string code;
    std::string param;
};

// 400 invalid_request_error: a malformed body or a bad parameter (named in `param`).
ApiError bad_request(const std::string& message, const std::string& param = {});
// 400 for a feature this server understands but does not offer (function calling, suffix ...).
ApiError unsupported(const std::string& message, const std::string& param);
// 404 for an unknown model id.
ApiError model_not_found(const std::string& model);

// Maps an engine status and its message to the HTTP error OpenAI clients expect
// (INVALID_ARGUMENT → 400, NOT_FOUND → 404, UNAVAILABLE → 503, anything else → 500).
ApiError engine_error(llmatc_status status, const std::string& message, const std::string& param = {});

// The JSON body for an error.
std::string error_body(const ApiError& error);
// A complete error response.
HttpResponse error_response(const ApiError& error);

}  // namespace llmatc::openai
