// frontends/openai/logprobs_json.h — writes token logprobs in the completions shape and in the chat shape.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine_client.h"
#include "json_fields.h"
#include "llmatc/frontend.h"

namespace llmatc::openai {

// One token with its logprob (absent for the first prompt token) and its alternatives (borrowed).
struct LogprobEntry {
    int32_t token_id;
    std::optional<float> logprob;
    const llmatc_token_logprob* top = nullptr;  // [n_top], best first
    int32_t n_top = 0;
};

// {"tokens", "token_logprobs", "top_logprobs", "text_offset"} as in OpenAI's legacy completions. `text_offset` is the
// offset of the first entry's text and is advanced past every entry.
void write_completion_logprobs(JsonWriter& w, const EngineClient& engine, const ServedModel& model,
                               const std::vector<LogprobEntry>& entries, size_t& text_offset);

// {"content": [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}]} as in chat.
void write_chat_logprobs(JsonWriter& w, const EngineClient& engine, const ServedModel& model,
                         const std::vector<LogprobEntry>& entries);

// The entries for generated tokens of a sequence delta (logprobs and alternatives as the engine reported them).
std::vector<LogprobEntry> generated_entries(const std::vector<int32_t>& ids, const std::vector<float>& logprobs,
                                            const std::vector<llmatc_token_logprob>& top, int32_t n_top);

}  // namespace llmatc::openai
