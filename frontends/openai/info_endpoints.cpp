// frontends/openai/info_endpoints.cpp — models list, health and version in OpenAI/vLLM shapes.
#include "info_endpoints.h"

#include "api_error.h"
#include "json_fields.h"

namespace llmatc::openai {

namespace {

void write_model(JsonWriter& w, const ServedModel& m) {
    w.StartObject();
    w.Key("id");
    write_string(w, m.id);
    w.Key("object");
    w.String("model");
    w.Key("created");
    w.Int64(m.created);
    w.Key("owned_by");
    w.String("llm-atc");
    w.Key("root");
    write_string(w, m.root);
    w.Key("parent");
    w.Null();
    w.Key("max_model_len");
    w.Int(m.max_model_len);
    w.Key("permission");
    w.StartArray();
    w.EndArray();
    w.EndObject();
}

HttpResponse json_response(const rapidjson::StringBuffer& buffer) {
    HttpResponse response;
    response.body.assign(buffer.GetString(), buffer.GetSize());
    return response;
}

}  // namespace

HttpResponse handle_list_models(const ServerContext& ctx) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("object");
    w.String("list");
    w.Key("data");
    w.StartArray();
    for (const auto& m : ctx.engine.models()) write_model(w, m);
    w.EndArray();
    w.EndObject();
    return json_response(buffer);
}

HttpResponse handle_get_model(const ServerContext& ctx, std::string_view id) {
    for (const auto& m : ctx.engine.models()) {
        if (m.id == id) {
            rapidjson::StringBuffer buffer;
            JsonWriter w(buffer);
            write_model(w, m);
            return json_response(buffer);
        }
    }
    throw model_not_found(std::string(id));
}

HttpResponse handle_health(const ServerContext& ctx) {
    HttpResponse response;
    response.content_type = "text/plain";
    if (!ctx.engine.healthy()) {
        response.status = 503;
        response.body = "unhealthy\n";
    }
    return response;
}

HttpResponse handle_version(const ServerContext& ctx) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("version");
    write_string(w, ctx.engine.version());
    w.EndObject();
    return json_response(buffer);
}

}  // namespace llmatc::openai
