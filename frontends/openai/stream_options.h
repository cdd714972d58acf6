// frontends/openai/stream_options.h — the request's "stream" and "stream_options" fields, shared by chat and
// completions.
#pragma once

#include "json_fields.h"

namespace llmatc::openai {

struct StreamOptions {
    bool stream = false;         // reply as server-sent events
    bool include_usage = false;  // stream_options.include_usage: a closing usage chunk, "usage": null before it
};

// Reads "stream" and "stream_options" ({"include_usage": bool}); throws bad_request naming stream_options when it is
// given without stream or is not an object.
StreamOptions read_stream_options(const JsonFields& fields);

}  // namespace llmatc::openai
