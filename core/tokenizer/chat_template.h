// core/tokenizer/chat_template.h — renders a Hugging Face chat template (Jinja) for an OpenAI messages array.
#pragma once

#include <string>

#include <rapidjson/document.h>

namespace llmatc {

// Renders `tmpl` as transformers' apply_chat_template does (trim_blocks, lstrip_blocks; variables messages,
// add_generation_prompt, bos_token, eos_token; raise_exception()). `messages` is the OpenAI array of objects with
// "role" and "content"; a content given as a list of {"type": "text", "text": ...} parts is joined into one string
// first (other part types are refused). Throws llmatc::Error(LLMATC_ERR_INVALID_ARGUMENT): the template's own
// message for raise_exception(msg), "chat template syntax error at line L, column C: ..." for a template outside
// the supported subset, or a message naming the bad message field. Thread-safe (no shared state).
std::string render_chat_template(const std::string& tmpl, const rapidjson::Value& messages,
                                 bool add_generation_prompt, const std::string& bos_token,
                                 const std::string& eos_token);

}  // namespace llmatc
