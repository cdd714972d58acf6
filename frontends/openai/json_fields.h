// frontends/openai/json_fields.h — reads and validates request JSON fields, naming the field in every error; JSON output helpers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace llmatc::openai {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Parses `body` as a JSON object (iteratively, so deep nesting cannot exhaust the stack; invalid UTF-8 refused).
// Throws bad_request("... malformed JSON ...") otherwise.
void parse_json_object(const std::string& body, rapidjson::Document& doc);

// Typed access to the members of one JSON object. A member that is absent or null reads as std::nullopt; a member of
// the wrong type or out of range throws bad_request naming it (e.g. "temperature must be a number in [0, 2]").
class JsonFields {
public:
    explicit JsonFields(const rapidjson::Value& object) : object_(object) {}

    const rapidjson::Value* get(const char* name) const;  // present and not null, else nullptr
    std::optional<double> number(const char* name, double min, double max) const;
    std::optional<int64_t> integer(const char* name, int64_t min, int64_t max) const;
    std::optional<bool> boolean(const char* name) const;
    std::optional<std::string> string(const char* name) const;

private:
    const rapidjson::Value& object_;
};

// A list of token ids in [0, vocab_size); throws bad_request naming `param` otherwise (empty lists too).
std::vector<int32_t> token_id_list(const rapidjson::Value& value, int32_t vocab_size, const std::string& param);
// True when `value` is a non-empty array of integers.
bool is_int_array(const rapidjson::Value& value);

// True when `text` is valid UTF-8.
bool valid_utf8(std::string_view text);
// A token's text made safe for JSON: itself when valid UTF-8, else "bytes:\xNN..." as OpenAI writes byte tokens.
std::string printable_token(std::string_view text);

// Writes a string (pointer, length), replacing invalid UTF-8 so the output stays valid JSON.
void write_string(JsonWriter& w, std::string_view text);
// Writes a float; -inf/NaN become -9999.0 as vLLM does, since JSON has no infinities.
void write_logprob(JsonWriter& w, double value);

// A short random hex id with a prefix ("cmpl-3f2a..."), for response ids.
std::string random_id(const char* prefix);

}  // namespace llmatc::openai
