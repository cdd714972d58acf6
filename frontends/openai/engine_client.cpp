// frontends/openai/engine_client.cpp — calls into the engine's C table and turns failures into ApiErrors.
#include "engine_client.h"

#include "api_error.h"

namespace llmatc::openai {

namespace {

void append_to_string(const char* data, size_t len, void* user) { static_cast<std::string*>(user)->append(data, len); }

}  // namespace

EngineClient::EngineClient(const llmatc_engine_api* api, LastErrorFn last_error) : api_(api), last_error_(last_error) {
    int32_t count = api_->model_count(api_->engine);
    for (int32_t i = 0; i < count; ++i) {
        llmatc_model_info info{};
        info.struct_size = sizeof info;
        info.abi_version = LLMATC_ABI_VERSION;
        llmatc_status st = api_->model_info(api_->engine, i, &info);
        if (st != LLMATC_OK) fail(st, "reading the served model's facts");
        ServedModel model;
        model.id = info.id ? info.id : "";
        model.root = info.root ? info.root : model.id;
        model.max_model_len = info.max_model_len;
        model.vocab_size = info.vocab_size;
        model.hidden_size = info.hidden_size;
        model.created = info.created;
        models_.push_back(std::move(model));
    }
}

void EngineClient::fail(llmatc_status status, const std::string& what, const std::string& param) const {
    const char* message = last_error_ ? last_error_() : nullptr;
    throw engine_error(status, message && *message ? std::string(message) : what + " failed", param);
}

const ServedModel& EngineClient::resolve_model(const std::optional<std::string>& name) const {
    if (models_.empty()) throw ApiError(503, "server_error", "no_model", "the engine serves no model");
    if (!name) return models_.front();
    for (const auto& m : models_) {
        if (m.id == *name) return m;
    }
    throw model_not_found(*name);
}

std::vector<int32_t> EngineClient::tokenize(const ServedModel& model, std::string_view text, bool add_special) const {
    // Most prompts take fewer tokens than bytes + a couple of specials; retry once with the size the engine asks.
    std::vector<int32_t> ids(text.size() + 8);
    size_t n = 0;
    llmatc_status st = api_->tokenize(api_->engine, model.id.data(), model.id.size(), text.data(), text.size(),
                                      add_special ? 1 : 0, ids.data(), ids.size(), &n);
    if (st == LLMATC_ERR_OUT_OF_MEMORY && n > ids.size()) {
        ids.resize(n);
        st = api_->tokenize(api_->engine, model.id.data(), model.id.size(), text.data(), text.size(),
                            add_special ? 1 : 0, ids.data(), ids.size(), &n);
    }
    if (st != LLMATC_OK) fail(st, "tokenizing the prompt", "prompt");
    ids.resize(n);
    return ids;
}

std::string EngineClient::detokenize(const ServedModel& model, std::span<const int32_t> ids, bool skip_special) const {
    std::string text;
    llmatc_status st = api_->detokenize(api_->engine, model.id.data(), model.id.size(), ids.data(), ids.size(),
                                        skip_special ? 1 : 0, append_to_string, &text);
    if (st != LLMATC_OK) fail(st, "decoding token ids", "tokens");
    return text;
}

std::string EngineClient::token_text(const ServedModel& model, int32_t id) const {
    std::string text;
    llmatc_status st = api_->token_text(api_->engine, model.id.data(), model.id.size(), id, append_to_string, &text);
    if (st != LLMATC_OK) fail(st, "reading a token's text");
    return text;
}

std::string EngineClient::apply_chat_template(const ServedModel& model, std::string_view messages_json,
                                              bool add_generation_prompt) const {
    std::string prompt;
    llmatc_status st = api_->apply_chat_template(api_->engine, model.id.data(), model.id.size(), messages_json.data(),
                                                 messages_json.size(), add_generation_prompt ? 1 : 0,
                                                 append_to_string, &prompt);
    if (st != LLMATC_OK) fail(st, "rendering the chat template", "messages");
    return prompt;
}

uint64_t EngineClient::submit(const llmatc_request& request) const {
    uint64_t id = 0;
    llmatc_status st = api_->submit(api_->engine, &request, &id);
    if (st != LLMATC_OK) fail(st, "queueing the request", st == LLMATC_ERR_INVALID_ARGUMENT ? "prompt" : "");
    return id;
}

void EngineClient::cancel(uint64_t request_id) const { api_->cancel(api_->engine, request_id); }

std::vector<float> EngineClient::embed(const ServedModel& model, std::span<const int32_t> tokens) const {
    std::vector<float> out(static_cast<size_t>(model.hidden_size));
    llmatc_status st = api_->embed(api_->engine, model.id.data(), model.id.size(), tokens.data(),
                                   static_cast<int32_t>(tokens.size()), out.data(), out.size());
    if (st != LLMATC_OK) fail(st, "computing the embedding", "input");
    return out;
}

std::string EngineClient::metrics_text() const {
    std::string text;
    api_->metrics_text(api_->engine, append_to_string, &text);
    return text;
}

bool EngineClient::healthy() const { return api_->healthy(api_->engine) != 0; }

std::string EngineClient::version() const {
    const char* v = api_->version(api_->engine);
    return v ? v : "";
}

}  // namespace llmatc::openai
