// frontends/openai/engine_client.h — a C++ face over the engine's C table (llmatc_engine_api): statuses become ApiErrors.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llmatc/frontend.h"

namespace llmatc::openai {

// Facts about one served model, copied from the engine at construction (the set of models is fixed while serving).
struct ServedModel {
    std::string id;
    std::string root;
    int32_t max_model_len = 0;
    int32_t vocab_size = 0;
    int32_t hidden_size = 0;
    int64_t created = 0;
};

// Thread-safe (the engine table is). Every failing call throws ApiError carrying the engine's message, which is read
// through `last_error` (the host's thread-local error) right after the failing call.
class EngineClient {
public:
    using LastErrorFn = const char* (*)();

    EngineClient(const llmatc_engine_api* api, LastErrorFn last_error);

    const llmatc_engine_api* api() const { return api_; }
    const std::vector<ServedModel>& models() const { return models_; }
    // The model a request names (absent = the first/only one); throws model_not_found otherwise.
    const ServedModel& resolve_model(const std::optional<std::string>& name) const;

    std::vector<int32_t> tokenize(const ServedModel& model, std::string_view text, bool add_special) const;
    std::string detokenize(const ServedModel& model, std::span<const int32_t> ids, bool skip_special) const;
    std::string token_text(const ServedModel& model, int32_t id) const;
    // Renders an OpenAI messages array (JSON text) with the model's chat template.
    std::string apply_chat_template(const ServedModel& model, std::string_view messages_json,
                                    bool add_generation_prompt) const;

    // Queues a request; throws ApiError (400 context too long, 404 model, 503 queue full).
    uint64_t submit(const llmatc_request& request) const;
    void cancel(uint64_t request_id) const;
    std::vector<float> embed(const ServedModel& model, std::span<const int32_t> tokens) const;

    std::string metrics_text() const;
    bool healthy() const;
    std::string version() const;

    // Throws the ApiError for a failed call (uses the host's last error message, or `what` when it is empty).
    [[noreturn]] void fail(llmatc_status status, const std::string& what, const std::string& param = {}) const;

private:
    const llmatc_engine_api* api_;
    LastErrorFn last_error_;
    std::vector<ServedModel> models_;
};

}  // namespace llmatc::openai
