// frontends/openai/stream_options.cpp — reads and checks "stream" and "stream_options".
#include "stream_options.h"

#include "api_error.h"

namespace llmatc::openai {

StreamOptions read_stream_options(const JsonFields& fields) {
    StreamOptions options;
    options.stream = fields.boolean("stream").value_or(false);
    if (const rapidjson::Value* so = fields.get("stream_options")) {
        if (!options.stream) throw bad_request("stream_options is only allowed when stream is true", "stream_options");
        if (!so->IsObject()) throw bad_request("stream_options must be an object", "stream_options");
        options.include_usage = JsonFields(*so).boolean("include_usage").value_or(false);
    }
    return options;
}

}  // namespace llmatc::openai
