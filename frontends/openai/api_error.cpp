// frontends/openai/api_error.cpp — builds OpenAI-shaped error bodies and maps engine statuses to HTTP errors.
#include "api_error.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace llmatc::openai {

ApiError bad_request(const std::string& message, const std::string& param) {
    return ApiError(400, "invalid_request_error", "invalid_parameter", message, param);
}

ApiError unsupported(const std::string& message, const std::string& param) {
    return ApiError(400, "invalid_request_error", "unsupported_parameter", message, param);
}

ApiError model_not_found(const std::string& model) {
    return ApiError(404, "invalid_request_error", "model_not_found", "The model '" + model + "' does not exist.",
                    "model");
}

ApiError engine_error(llmatc_status status, const std::string& message, const std::string& param) {
    switch (status) {
        case LLMATC_ERR_INVALID_ARGUMENT:
            return ApiError(400, "invalid_request_error", "invalid_parameter", message, param);
        case LLMATC_ERR_NOT_FOUND:
            return ApiError(404, "invalid_request_error", "model_not_found", message, param.empty() ? "model" : param);
        case LLMATC_ERR_UNAVAILABLE:
            return ApiError(503, "server_error", "queue_full", "the server is overloaded: " + message);
        case LLMATC_ERR_UNSUPPORTED:
            return ApiError(400, "invalid_request_error", "unsupported_parameter", message, param);
        default:
            return ApiError(500, "server_error", "internal_error", message);
    }
}

std::string error_body(const ApiError& error) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("error");
    w.StartObject();
    w.Key("message");
    w.String(error.what());
    w.Key("type");
    w.String(error.type.c_str());
    w.Key("param");
    if (error.param.empty()) w.Null(); else w.String(error.param.c_str());
    w.Key("code");
    if (error.code.empty()) w.Null(); else w.String(error.code.c_str());
    w.EndObject();
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

HttpResponse error_response(const ApiError& error) {
    HttpResponse response;
    response.status = error.http_status;
    response.body = error_body(error);
    return response;
}

}  // namespace llmatc::openai
