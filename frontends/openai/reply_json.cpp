// frontends/openai/reply_json.cpp — writes a generation reply object: header, choices, usage.
#include "reply_json.h"

namespace llmatc::openai {

std::string reply_object_json(const ReplyHeader& header, const char* object, const JsonPartWriter& write_choices,
                              const JsonPartWriter& write_usage) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("id");
    w.String(header.id.c_str());
    w.Key("object");
    w.String(object);
    w.Key("created");
    w.Int64(header.created);
    w.Key("model");
    write_string(w, header.model_id);
    w.Key("choices");
    w.StartArray();
    write_choices(w);
    w.EndArray();
    if (write_usage) {
        w.Key("usage");
        write_usage(w);
    }
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace llmatc::openai
