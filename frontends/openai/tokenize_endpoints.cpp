// frontends/openai/tokenize_endpoints.cpp — tokenization endpoints in vLLM's shapes.
#include "tokenize_endpoints.h"

#include "api_error.h"
#include "chat.h"
#include "json_fields.h"

namespace llmatc::openai {

HttpResponse handle_tokenize(const ServerContext& ctx, const HttpRequest& request) {
    rapidjson::Document doc;
    parse_json_object(request.body, doc);
    JsonFields fields(doc);
    const ServedModel& model = ctx.engine.resolve_model(fields.string("model"));

    std::vector<int32_t> tokens;
    if (fields.get("messages")) {
        const std::string messages = normalized_messages_json(fields.get("messages"));
        const bool add_generation_prompt = fields.boolean("add_generation_prompt").value_or(true);
        const std::string prompt = ctx.engine.apply_chat_template(model, messages, add_generation_prompt);
        tokens = ctx.engine.tokenize(model, prompt, fields.boolean("add_special_tokens").value_or(false));
    } else {
        std::optional<std::string> prompt = fields.string("prompt");
        if (!prompt) throw bad_request("prompt (a string) or messages is required", "prompt");
        tokens = ctx.engine.tokenize(model, *prompt, fields.boolean("add_special_tokens").value_or(true));
    }

    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("count");
    w.Uint64(tokens.size());
    w.Key("max_model_len");
    w.Int(model.max_model_len);
    w.Key("tokens");
    w.StartArray();
    for (int32_t t : tokens) w.Int(t);
    w.EndArray();
    w.Key("token_strs");
    w.Null();
    w.EndObject();
    HttpResponse response;
    response.body.assign(buffer.GetString(), buffer.GetSize());
    return response;
}

HttpResponse handle_detokenize(const ServerContext& ctx, const HttpRequest& request) {
    rapidjson::Document doc;
    parse_json_object(request.body, doc);
    JsonFields fields(doc);
    const ServedModel& model = ctx.engine.resolve_model(fields.string("model"));
    const rapidjson::Value* ids = fields.get("tokens");
    if (!ids) throw bad_request("tokens is required", "tokens");
    std::vector<int32_t> tokens;
    if (!(ids->IsArray() && ids->Empty())) tokens = token_id_list(*ids, model.vocab_size, "tokens");
    const std::string text = ctx.engine.detokenize(model, tokens, true);

    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("prompt");
    write_string(w, text);
    w.EndObject();
    HttpResponse response;
    response.body.assign(buffer.GetString(), buffer.GetSize());
    return response;
}

}  // namespace llmatc::openai
