// frontends/openai/reply_json.h — the JSON object every generation reply is built from (a stream chunk, the final
// response, the closing usage chunk): "id", "object", "created", "model", "choices", then "usage" when present.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "json_fields.h"

namespace llmatc::openai {

// What every object of one reply repeats.
struct ReplyHeader {
    std::string id;        // "cmpl-...", "chatcmpl-..."
    int64_t created = 0;   // Unix seconds when the request arrived
    std::string model_id;  // the served model's id as the client named it
};

// Writes one part of a reply object into an open array or at a key (the choices, the usage value).
using JsonPartWriter = std::function<void(JsonWriter& w)>;

// {"id", "object": object, "created", "model", "choices": [what write_choices writes]} and, when write_usage is
// set, "usage": what write_usage writes (one value: the counts object, or null in a stream chunk).
std::string reply_object_json(const ReplyHeader& header, const char* object, const JsonPartWriter& write_choices,
                              const JsonPartWriter& write_usage = nullptr);

}  // namespace llmatc::openai
