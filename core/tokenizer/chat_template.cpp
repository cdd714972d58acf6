// core/tokenizer/chat_template.cpp — chat-template variables from OpenAI messages, then the Jinja renderer.
#include "tokenizer/chat_template.h"

#include <unordered_map>

#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/parser.h"
#include "util/error.h"

namespace llmatc {

namespace {

[[noreturn]] void bad_message(size_t index, const std::string& what) {
    throw Error(LLMATC_ERR_INVALID_ARGUMENT, "messages[" + std::to_string(index) + "]: " + what);
}

// The text parts of a content list, joined in order.
std::string join_text_parts(const rapidjson::Value& parts, size_t index) {
    std::string text;
    for (rapidjson::SizeType i = 0; i < parts.Size(); ++i) {
        const auto& part = parts[i];
        const std::string where = "content[" + std::to_string(i) + "]";
        if (!part.IsObject()) bad_message(index, where + " must be an object");
        auto type = part.FindMember("type");
        if (type == part.MemberEnd() || !type->value.IsString()) bad_message(index, where + " needs a string 'type'");
        if (std::string(type->value.GetString()) != "text")
            bad_message(index, where + " has type '" + std::string(type->value.GetString()) +
                                   "'; only text parts are supported");
        auto t = part.FindMember("text");
        if (t == part.MemberEnd() || !t->value.IsString()) bad_message(index, where + " needs a string 'text'");
        text.append(t->value.GetString(), t->value.GetStringLength());
    }
    return text;
}

jinja::Value message_value(const rapidjson::Value& message, size_t index) {
    if (!message.IsObject()) bad_message(index, "must be an object");
    auto role = message.FindMember("role");
    if (role == message.MemberEnd() || !role->value.IsString()) bad_message(index, "needs a string 'role'");
    jinja::Value value = jinja::Value::from_json(message);
    auto content = message.FindMember("content");
    if (content != message.MemberEnd() && content->value.IsArray())
        value.set("content", jinja::Value(join_text_parts(content->value, index)));
    else if (content != message.MemberEnd() && !content->value.IsString() && !content->value.IsNull())
        bad_message(index, "'content' must be a string, a list of text parts, or null");
    return value;
}

}  // namespace

std::string render_chat_template(const std::string& tmpl, const rapidjson::Value& messages,
                                 bool add_generation_prompt, const std::string& bos_token,
                                 const std::string& eos_token) {
    if (!messages.IsArray()) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "messages must be an array");
    jinja::List list;
    for (rapidjson::SizeType i = 0; i < messages.Size(); ++i) list.push_back(message_value(messages[i], i));

    const jinja::Body body = jinja::parse_template(tmpl);
    const std::unordered_map<std::string, jinja::Value> variables{
        {"messages", jinja::Value(std::move(list))},
        {"add_generation_prompt", jinja::Value(add_generation_prompt)},
        {"bos_token", jinja::Value(bos_token)},
        {"eos_token", jinja::Value(eos_token)},
    };
    return jinja::render(body, variables);
}

}  // namespace llmatc
