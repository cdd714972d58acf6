// frontends/openai/embeddings.cpp — the embeddings endpoint: mean-pooled, L2-normalised final hidden states.
#include "embeddings.h"

#include <atomic>
#include <bit>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>

#include "api_error.h"
#include "json_fields.h"

namespace llmatc::openai {

std::string base64_float32(const std::vector<float>& values) {
    static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes(values.size() * 4, '\0');
    for (size_t i = 0; i < values.size(); ++i) {
        uint32_t bits = std::bit_cast<uint32_t>(values[i]);
        for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xFF);  // little-endian
    }
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < bytes.size()) {
        uint32_t v = uint8_t(bytes[i]) << 16;
        if (i + 1 < bytes.size()) v |= uint8_t(bytes[i + 1]) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

namespace {

// Runs the blocking embed calls on its own thread and hands the finished response to the session.
class EmbeddingReply final : public PendingReply {
public:
    EmbeddingReply(const ServerContext& ctx, const ServedModel& model, std::vector<std::vector<int32_t>> inputs,
                   bool base64)
        : ctx_(ctx), model_(model), inputs_(std::move(inputs)), base64_(base64) {
        for (const auto& in : inputs_) prompt_tokens_ += static_cast<int64_t>(in.size());
    }
    ~EmbeddingReply() override {
        if (worker_.joinable()) worker_.join();
    }

    bool streaming() const override { return false; }
    void start(std::function<void()> wake) override {
        worker_ = std::thread([this, wake = std::move(wake)] {
            HttpResponse response = compute();
            {
                std::lock_guard lock(mutex_);
                response_ = std::move(response);
                done_ = true;
            }
            wake();
        });
    }
    bool poll(std::string&) override {
        std::lock_guard lock(mutex_);
        return done_;
    }
    HttpResponse response() override {
        std::lock_guard lock(mutex_);
        return response_;
    }
    // An embed cannot be interrupted; stop after the current input.
    void cancel() override { cancelled_ = true; }
    UsageCounts usage() const override { return {prompt_tokens_, 0}; }

private:
    HttpResponse compute() {
        try {
            rapidjson::StringBuffer buffer;
            JsonWriter w(buffer);
            w.StartObject();
            w.Key("object");
            w.String("list");
            w.Key("data");
            w.StartArray();
            for (size_t i = 0; i < inputs_.size(); ++i) {
                if (cancelled_) throw ApiError(499, "invalid_request_error", "cancelled", "the client went away");
                std::vector<float> embedding = ctx_.engine.embed(model_, inputs_[i]);
                w.StartObject();
                w.Key("object");
                w.String("embedding");
                w.Key("index");
                w.Uint64(i);
                w.Key("embedding");
                if (base64_) {
                    std::string encoded = base64_float32(embedding);
                    w.String(encoded.data(), static_cast<rapidjson::SizeType>(encoded.size()));
                } else {
                    w.StartArray();
                    for (float v : embedding) w.Double(v);
                    w.EndArray();
                }
                w.EndObject();
            }
            w.EndArray();
            w.Key("model");
            write_string(w, model_.id);
            w.Key("usage");
            w.StartObject();
            w.Key("prompt_tokens");
            w.Int64(prompt_tokens_);
            w.Key("total_tokens");
            w.Int64(prompt_tokens_);
            w.EndObject();
            w.EndObject();
            HttpResponse response;
            response.body.assign(buffer.GetString(), buffer.GetSize());
            return response;
        } catch (const ApiError& e) {
            return error_response(e);
        } catch (const std::exception& e) {
            return error_response(ApiError(500, "server_error", "internal_error", e.what()));
        }
    }

    const ServerContext& ctx_;
    const ServedModel& model_;
    std::vector<std::vector<int32_t>> inputs_;
    bool base64_;
    int64_t prompt_tokens_ = 0;
    std::atomic<bool> cancelled_{false};
    std::mutex mutex_;
    bool done_ = false;
    HttpResponse response_;
    std::thread worker_;
};

}  // namespace

Reply handle_embeddings(const ServerContext& ctx, const HttpRequest& request) {
    rapidjson::Document doc;
    parse_json_object(request.body, doc);
    JsonFields fields(doc);
    const ServedModel& model = ctx.engine.resolve_model(fields.string("model"));

    const std::string format = fields.string("encoding_format").value_or("float");
    if (format != "float" && format != "base64") {
        throw bad_request("encoding_format must be 'float' or 'base64'", "encoding_format");
    }
    if (auto dims = fields.integer("dimensions", 1, std::numeric_limits<int32_t>::max())) {
        if (*dims != model.hidden_size) {
            throw unsupported("dimensions must equal the model's embedding width " + std::to_string(model.hidden_size),
                              "dimensions");
        }
    }

    const rapidjson::Value* input = fields.get("input");
    if (!input) throw bad_request("input is required", "input");
    std::vector<std::vector<int32_t>> inputs;
    auto from_text = [&](const rapidjson::Value& v) {
        std::vector<int32_t> ids =
            ctx.engine.tokenize(model, std::string_view(v.GetString(), v.GetStringLength()), true);
        if (ids.empty()) throw bad_request("input strings must not be empty", "input");
        inputs.push_back(std::move(ids));
    };
    if (input->IsString()) {
        from_text(*input);
    } else if (is_int_array(*input)) {
        inputs.push_back(token_id_list(*input, model.vocab_size, "input"));
    } else if (input->IsArray() && !input->Empty()) {
        for (const auto& item : input->GetArray()) {
            if (item.IsString()) from_text(item);
            else if (item.IsArray()) inputs.push_back(token_id_list(item, model.vocab_size, "input"));
            else throw bad_request("input must be a string, a list of strings, token ids or lists of token ids",
                                   "input");
        }
    } else {
        throw bad_request("input must be a string, a list of strings, token ids or lists of token ids (not empty)",
                          "input");
    }
    for (const auto& ids : inputs) {
        if (model.max_model_len > 0 && static_cast<int64_t>(ids.size()) > model.max_model_len) {
            throw bad_request("This model's maximum context length is " + std::to_string(model.max_model_len) +
                                  " tokens, but an input has " + std::to_string(ids.size()) + " tokens",
                              "input");
        }
    }

    Reply reply;
    reply.pending = std::make_shared<EmbeddingReply>(ctx, model, std::move(inputs), format == "base64");
    return reply;
}

}  // namespace llmatc::openai
