// frontends/openai/json_fields.cpp — request field validation and JSON writing helpers.
#include "json_fields.h"

#include <cmath>
#include <cstdio>
#include <random>

#include <rapidjson/error/en.h>

#include "api_error.h"

namespace llmatc::openai {

void parse_json_object(const std::string& body, rapidjson::Document& doc) {
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
    if (doc.HasParseError()) {
        throw bad_request(std::string("malformed JSON in the request body: ") +
                          rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                          std::to_string(doc.GetErrorOffset()));
    }
    if (!doc.IsObject()) throw bad_request("the request body must be a JSON object");
}

const rapidjson::Value* JsonFields::get(const char* name) const {
    auto it = object_.FindMember(name);
    if (it == object_.MemberEnd() || it->value.IsNull()) return nullptr;
    return &it->value;
}

static std::string format_bound(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", v);
    return buffer;
}

std::optional<double> JsonFields::number(const char* name, double min, double max) const {
    const rapidjson::Value* v = get(name);
    if (!v) return std::nullopt;
    if (!v->IsNumber() || v->GetDouble() < min || v->GetDouble() > max || !std::isfinite(v->GetDouble())) {
        throw bad_request(std::string(name) + " must be a number in [" + format_bound(min) + ", " + format_bound(max) +
                              "]",
                          name);
    }
    return v->GetDouble();
}

std::optional<int64_t> JsonFields::integer(const char* name, int64_t min, int64_t max) const {
    const rapidjson::Value* v = get(name);
    if (!v) return std::nullopt;
    if (!v->IsInt64() || v->GetInt64() < min || v->GetInt64() > max) {
        throw bad_request(std::string(name) + " must be an integer in [" + std::to_string(min) + ", " +
                              std::to_string(max) + "]",
                          name);
    }
    return v->GetInt64();
}

std::optional<bool> JsonFields::boolean(const char* name) const {
    const rapidjson::Value* v = get(name);
    if (!v) return std::nullopt;
    if (!v->IsBool()) throw bad_request(std::string(name) + " must be a boolean", name);
    return v->GetBool();
}

std::optional<std::string> JsonFields::string(const char* name) const {
    const rapidjson::Value* v = get(name);
    if (!v) return std::nullopt;
    if (!v->IsString()) throw bad_request(std::string(name) + " must be a string", name);
    return std::string(v->GetString(), v->GetStringLength());
}

bool is_int_array(const rapidjson::Value& value) {
    if (!value.IsArray() || value.Empty()) return false;
    for (const auto& item : value.GetArray()) {
        if (!item.IsInt64()) return false;
    }
    return true;
}

std::vector<int32_t> token_id_list(const rapidjson::Value& value, int32_t vocab_size, const std::string& param) {
    if (!value.IsArray() || value.Empty()) throw bad_request(param + " must be a non-empty list of token ids", param);
    std::vector<int32_t> ids;
    ids.reserve(value.Size());
    for (const auto& item : value.GetArray()) {
        if (!item.IsInt64()) throw bad_request(param + " must be a list of integer token ids", param);
        int64_t id = item.GetInt64();
        if (id < 0 || id >= vocab_size) {
            throw bad_request(param + " holds token id " + std::to_string(id) + ", outside the vocabulary [0, " +
                                  std::to_string(vocab_size) + ")",
                              param);
        }
        ids.push_back(static_cast<int32_t>(id));
    }
    return ids;
}

bool valid_utf8(std::string_view text) {
    size_t i = 0;
    const size_t n = text.size();
    while (i < n) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        size_t len;
        uint32_t cp;
        if (c < 0x80) { ++i; continue; }
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
        else return false;
        if (i + len > n) return false;
        for (size_t k = 1; k < len; ++k) {
            unsigned char cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are invalid.
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += len;
    }
    return true;
}

std::string printable_token(std::string_view text) {
    if (valid_utf8(text)) return std::string(text);
    std::string out = "bytes:";
    char hex[8];
    for (unsigned char c : text) {
        std::snprintf(hex, sizeof hex, "\\x%02x", c);
        out += hex;
    }
    return out;
}

void write_string(JsonWriter& w, std::string_view text) {
    if (valid_utf8(text)) {
        w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
        return;
    }
    // Replace every byte that does not start a valid sequence with U+FFFD.
    std::string clean;
    size_t i = 0;
    while (i < text.size()) {
        size_t len = 1;
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0xC0) len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (c < 0x80 || (i + len <= text.size() && valid_utf8(text.substr(i, len)))) {
            clean.append(text.substr(i, c < 0x80 ? 1 : len));
            i += c < 0x80 ? 1 : len;
        } else {
            clean += "\xEF\xBF\xBD";
            ++i;
        }
    }
    w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

void write_logprob(JsonWriter& w, double value) {
    if (!std::isfinite(value)) value = -9999.0;
    w.Double(value);
}

std::string random_id(const char* prefix) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng()));
    return std::string(prefix) + hex;
}

}  // namespace llmatc::openai
