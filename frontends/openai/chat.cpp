// frontends/openai/chat.cpp — the chat completions endpoint as OpenAI and vLLM serve it (no function calling).
#include "chat.h"

#include <limits>

#include "api_error.h"
#include "generation_reply.h"
#include "logprobs_json.h"
#include "sampling_request.h"
#include "stream_options.h"

namespace llmatc::openai {

std::string normalized_messages_json(const rapidjson::Value* messages) {
    if (!messages) throw bad_request("messages is required", "messages");
    if (!messages->IsArray() || messages->Empty()) throw bad_request("messages must be a non-empty list", "messages");
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartArray();
    size_t i = 0;
    for (const auto& m : messages->GetArray()) {
        const std::string param = "messages[" + std::to_string(i++) + "]";
        if (!m.IsObject()) throw bad_request(param + " must be an object", param);
        JsonFields fields(m);
        std::optional<std::string> role = fields.string("role");
        if (!role) throw bad_request(param + ".role is required", param + ".role");
        if (*role == "tool" || *role == "function") {
            throw unsupported("function calling is not supported (message role '" + *role + "')", param + ".role");
        }
        if (*role != "system" && *role != "user" && *role != "assistant" && *role != "developer") {
            throw bad_request(param + ".role must be one of system, user, assistant (got '" + *role + "')",
                              param + ".role");
        }
        if (fields.get("tool_calls") || fields.get("function_call")) {
            throw unsupported("function calling is not supported", param + ".tool_calls");
        }
        std::string content;
        const rapidjson::Value* c = fields.get("content");
        if (!c) {
            throw bad_request(param + ".content is required", param + ".content");
        } else if (c->IsString()) {
            content.assign(c->GetString(), c->GetStringLength());
        } else if (c->IsArray()) {
            bool first = true;
            for (const auto& part : c->GetArray()) {
                if (!part.IsObject()) throw bad_request(param + ".content parts must be objects", param + ".content");
                JsonFields pf(part);
                std::optional<std::string> type = pf.string("type");
                if (type != "text") {
                    throw unsupported("only text content parts are supported (got type '" + type.value_or("") + "')",
                                      param + ".content");
                }
                std::optional<std::string> text = pf.string("text");
                if (!text) throw bad_request(param + ".content text parts need a text", param + ".content");
                if (!first) content += "\n";
                content += *text;
                first = false;
            }
        } else {
            throw bad_request(param + ".content must be a string or a list of text parts", param + ".content");
        }
        w.StartObject();
        w.Key("role");
        // "developer" is OpenAI's newer name for the system role.
        w.String(*role == "developer" ? "system" : role->c_str());
        w.Key("content");
        write_string(w, content);
        w.EndObject();
    }
    w.EndArray();
    return std::string(buffer.GetString(), buffer.GetSize());
}

namespace {

class ChatReply final : public GenerationReply {
public:
    ChatReply(const ServerContext& ctx, const ServedModel& model, bool logprobs, std::shared_ptr<GenerationSet> set,
              bool stream, bool include_usage, int64_t prompt_tokens)
        : GenerationReply(set, stream, include_usage, prompt_tokens),
          ctx_(ctx),
          model_(model),
          logprobs_(logprobs),
          role_sent_(set->size(), false) {
        header_.id = random_id("chatcmpl-");
        header_.model_id = model.id;
    }

protected:
    const char* chunk_object() const override { return "chat.completion.chunk"; }

    void write_stream_events(const std::vector<SequenceEvent>& events, std::string& out) override {
        for (const SequenceEvent& ev : events) {
            const size_t s = ev.index;
            const SequenceDelta& d = ev.delta;
            if (append_stream_error_if_failed(out, d)) continue;
            // OpenAI's order: a first chunk with the role, content chunks, then a chunk with only the finish reason.
            if (!role_sent_[s]) {
                append_chunk(out, s, "", true, nullptr, nullptr);
                role_sent_[s] = true;
            }
            if (!d.text.empty() || !d.token_ids.empty()) {
                std::vector<LogprobEntry> entries;
                if (logprobs_) entries = generated_entries(d.token_ids, d.logprobs, d.top_logprobs, d.n_top);
                append_chunk(out, s, d.text, false, logprobs_ ? &entries : nullptr, nullptr);
            }
            if (const char* reason = finish_reason_text(d.finish_reason)) {
                append_chunk(out, s, {}, false, nullptr, reason);
            }
        }
    }

    HttpResponse build_response(const std::vector<SequenceDelta>& deltas) override {
        return final_response("chat.completion", [&](JsonWriter& w) {
            for (size_t s = 0; s < deltas.size(); ++s) {
                const SequenceDelta& d = deltas[s];
                w.StartObject();
                w.Key("index");
                w.Uint64(s);
                w.Key("message");
                w.StartObject();
                w.Key("role");
                w.String("assistant");
                w.Key("content");
                write_string(w, d.text);
                w.EndObject();
                w.Key("logprobs");
                if (logprobs_) {
                    write_chat_logprobs(w, ctx_.engine, model_,
                                        generated_entries(d.token_ids, d.logprobs, d.top_logprobs, d.n_top));
                } else {
                    w.Null();
                }
                w.Key("finish_reason");
                if (const char* reason = finish_reason_text(d.finish_reason)) w.String(reason); else w.Null();
                w.EndObject();
            }
        });
    }

private:
    void append_chunk(std::string& out, size_t index, std::string_view text, bool with_role,
                      const std::vector<LogprobEntry>* entries, const char* finish_reason) {
        append_chunk_event(out, [&](JsonWriter& w) {
            w.StartObject();
            w.Key("index");
            w.Uint64(index);
            w.Key("delta");
            w.StartObject();
            if (with_role) {
                w.Key("role");
                w.String("assistant");
            }
            if (!finish_reason) {
                w.Key("content");
                write_string(w, text);
            }
            w.EndObject();
            w.Key("logprobs");
            if (entries) write_chat_logprobs(w, ctx_.engine, model_, *entries); else w.Null();
            w.Key("finish_reason");
            if (finish_reason) w.String(finish_reason); else w.Null();
            w.EndObject();
        });
    }

    const ServerContext& ctx_;
    const ServedModel& model_;
    bool logprobs_;
    std::vector<bool> role_sent_;
};

}  // namespace

Reply handle_chat_completions(const ServerContext& ctx, const HttpRequest& request) {
    rapidjson::Document doc;
    parse_json_object(request.body, doc);
    JsonFields fields(doc);

    const ServedModel& model = ctx.engine.resolve_model(fields.string("model"));
    for (const char* name : {"tools", "functions", "tool_choice", "function_call"}) {
        if (fields.get(name)) throw unsupported("function calling is not supported", name);
    }
    if (const rapidjson::Value* format = fields.get("response_format")) {
        if (!format->IsObject() || JsonFields(*format).string("type").value_or("text") != "text") {
            throw unsupported("only response_format {\"type\": \"text\"} is supported", "response_format");
        }
    }

    const int n = static_cast<int>(fields.integer("n", 1, 128).value_or(1));
    const bool logprobs = fields.boolean("logprobs").value_or(false);
    const std::optional<int64_t> top_logprobs = fields.integer("top_logprobs", 0, 20);
    if (top_logprobs && !logprobs) throw bad_request("top_logprobs requires logprobs to be true", "top_logprobs");
    const StreamOptions streaming = read_stream_options(fields);
    // max_completion_tokens is the newer name; absent both, generate until the context is full (the engine clamps).
    std::optional<int64_t> max_tokens = fields.integer("max_completion_tokens", 1, std::numeric_limits<int32_t>::max());
    if (!max_tokens) max_tokens = fields.integer("max_tokens", 1, std::numeric_limits<int32_t>::max());
    const bool add_generation_prompt = fields.boolean("add_generation_prompt").value_or(true);

    const std::string messages = normalized_messages_json(fields.get("messages"));
    SamplingRequest sampling = SamplingRequest::parse(fields, ctx.engine, model);
    sampling.raw().max_tokens = static_cast<int32_t>(max_tokens.value_or(model.max_model_len > 0 ? model.max_model_len
                                                                                                 : 1 << 20));
    if (max_tokens && sampling.raw().min_tokens > *max_tokens) {
        throw bad_request("min_tokens must be less than or equal to max_tokens", "min_tokens");
    }
    if (logprobs) sampling.raw().logprobs = static_cast<int32_t>(top_logprobs.value_or(0));

    const std::string prompt = ctx.engine.apply_chat_template(model, messages, add_generation_prompt);
    if (ctx.log_prompts) ctx.log(LLMATC_LOG_INFO, "chat prompt: " + prompt);
    // The rendered template already holds the BOS text where the model wants it; the tokenizer maps it to its id.
    std::vector<int32_t> tokens = ctx.engine.tokenize(model, prompt, false);
    if (tokens.empty()) throw bad_request("the rendered chat prompt is empty", "messages");

    std::vector<GenerationSet::Submission> submissions;
    const llmatc_sampling_params& base = sampling.params();
    for (int j = 0; j < n; ++j) {
        GenerationSet::Submission s{&model, tokens, base};
        if (base.has_seed) s.sampling.seed = base.seed + static_cast<uint64_t>(j);
        submissions.push_back(std::move(s));
    }
    auto set = std::make_shared<GenerationSet>(ctx.engine);
    set->submit_all(submissions);

    Reply reply;
    reply.pending = std::make_shared<ChatReply>(ctx, model, logprobs, std::move(set), streaming.stream,
                                                streaming.include_usage, static_cast<int64_t>(tokens.size()));
    return reply;
}

}  // namespace llmatc::openai
