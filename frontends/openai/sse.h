// frontends/openai/sse.h — server-sent-event framing as OpenAI streams it ("data: {json}\n\n", then "data: [DONE]").
#pragma once

#include <string>
#include <string_view>

namespace llmatc::openai {

// Appends one event carrying `json` (a single line of JSON) to `out`.
inline void append_sse_event(std::string& out, std::string_view json) {
    out += "data: ";
    out += json;
    out += "\n\n";
}

// Appends the terminating event.
inline void append_sse_done(std::string& out) { out += "data: [DONE]\n\n"; }

}  // namespace llmatc::openai
