// core/tokenizer/tokenizer_config.cpp — reads tokenizer_config.json into a TokenizerConfig.
#include "tokenizer/tokenizer_config.h"

#include <fstream>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "util/error.h"

namespace llmatc {

namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
    throw Error(LLMATC_ERR_CORRUPT, path.string() + ": " + what);
}

bool read_bool(const rapidjson::Value& obj, const char* key, bool fallback, const std::filesystem::path& path) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || it->value.IsNull()) return fallback;
    if (!it->value.IsBool()) fail(path, std::string("field '") + key + "' must be true or false");
    return it->value.GetBool();
}

// A special token is written either as a plain string or as an AddedToken object {"content": ...}; null means none.
std::string read_token(const rapidjson::Value& obj, const char* key, const std::string& fallback,
                       const std::filesystem::path& path) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd()) return fallback;
    const auto& v = it->value;
    if (v.IsNull()) return "";
    if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
    if (v.IsObject()) {
        auto content = v.FindMember("content");
        if (content != v.MemberEnd() && content->value.IsString())
            return std::string(content->value.GetString(), content->value.GetStringLength());
    }
    fail(path, std::string("field '") + key + "' must be a string, null or an object with a string 'content'");
}

std::vector<AddedTokenSpec> read_added_tokens(const rapidjson::Value& obj, const std::filesystem::path& path) {
    std::vector<AddedTokenSpec> out;
    auto it = obj.FindMember("added_tokens_decoder");
    if (it == obj.MemberEnd() || it->value.IsNull()) return out;
    if (!it->value.IsObject()) fail(path, "field 'added_tokens_decoder' must be an object");
    for (const auto& m : it->value.GetObject()) {
        std::string key(m.name.GetString(), m.name.GetStringLength());
        std::string where = "added_tokens_decoder[\"" + key + "\"]";
        AddedTokenSpec spec;
        try {
            size_t used = 0;
            long id = std::stol(key, &used);
            if (used != key.size() || id < 0 || id > INT32_MAX) throw std::invalid_argument(key);
            spec.id = static_cast<int32_t>(id);
        } catch (const std::exception&) {
            fail(path, where + ": the key must be a non-negative token id");
        }
        if (!m.value.IsObject()) fail(path, where + " must be an object");
        auto content = m.value.FindMember("content");
        if (content == m.value.MemberEnd() || !content->value.IsString() || content->value.GetStringLength() == 0)
            fail(path, where + " needs a non-empty string 'content'");
        spec.content.assign(content->value.GetString(), content->value.GetStringLength());
        spec.lstrip = read_bool(m.value, "lstrip", false, path);
        spec.rstrip = read_bool(m.value, "rstrip", false, path);
        spec.special = read_bool(m.value, "special", false, path);
        out.push_back(std::move(spec));
    }
    return out;
}

// chat_template is a string, or a list of {"name", "template"} of which "default" is the one used for chat.
std::string read_chat_template(const rapidjson::Value& obj, const std::filesystem::path& path) {
    auto it = obj.FindMember("chat_template");
    if (it == obj.MemberEnd() || it->value.IsNull()) return "";
    const auto& v = it->value;
    if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
    if (!v.IsArray()) fail(path, "field 'chat_template' must be a string or a list of {name, template}");
    for (const auto& entry : v.GetArray()) {
        if (!entry.IsObject()) fail(path, "each entry of 'chat_template' must be an object {name, template}");
        auto name = entry.FindMember("name");
        auto tmpl = entry.FindMember("template");
        if (name == entry.MemberEnd() || !name->value.IsString() || tmpl == entry.MemberEnd() ||
            !tmpl->value.IsString())
            fail(path, "each entry of 'chat_template' needs string 'name' and 'template'");
        if (std::string(name->value.GetString()) == "default")
            return std::string(tmpl->value.GetString(), tmpl->value.GetStringLength());
    }
    return "";
}

}  // namespace

TokenizerConfig read_tokenizer_config(const std::filesystem::path& path) {
    TokenizerConfig config;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return config;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(LLMATC_ERR_IO, path.string() + ": cannot open for reading");
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();

    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError())
        fail(path, std::string("invalid JSON at offset ") + std::to_string(doc.GetErrorOffset()) + ": " +
                       rapidjson::GetParseError_En(doc.GetParseError()));
    if (!doc.IsObject()) fail(path, "the top level must be a JSON object");

    config.add_bos_token = read_bool(doc, "add_bos_token", config.add_bos_token, path);
    config.add_eos_token = read_bool(doc, "add_eos_token", config.add_eos_token, path);
    config.legacy = read_bool(doc, "legacy", config.legacy, path);
    config.add_prefix_space = read_bool(doc, "add_prefix_space", config.add_prefix_space, path);
    config.bos_token = read_token(doc, "bos_token", config.bos_token, path);
    config.eos_token = read_token(doc, "eos_token", config.eos_token, path);
    config.unk_token = read_token(doc, "unk_token", config.unk_token, path);
    config.added_tokens = read_added_tokens(doc, path);
    config.chat_template = read_chat_template(doc, path);
    return config;
}

}  // namespace llmatc
