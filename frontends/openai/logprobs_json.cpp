// frontends/openai/logprobs_json.cpp — token logprobs in OpenAI's two JSON shapes.
#include "logprobs_json.h"

#include <string>
#include <unordered_set>

namespace llmatc::openai {

std::vector<LogprobEntry> generated_entries(const std::vector<int32_t>& ids, const std::vector<float>& logprobs,
                                            const std::vector<llmatc_token_logprob>& top, int32_t n_top) {
    std::vector<LogprobEntry> entries;
    entries.reserve(ids.size());
    const bool have_top = n_top > 0 && top.size() >= ids.size() * static_cast<size_t>(n_top);
    for (size_t i = 0; i < ids.size(); ++i) {
        LogprobEntry e{ids[i], std::nullopt, nullptr, 0};
        if (i < logprobs.size()) e.logprob = logprobs[i];
        if (have_top) {
            e.top = top.data() + i * n_top;
            e.n_top = n_top;
        }
        entries.push_back(e);
    }
    return entries;
}

void write_completion_logprobs(JsonWriter& w, const EngineClient& engine, const ServedModel& model,
                               const std::vector<LogprobEntry>& entries, size_t& text_offset) {
    std::vector<std::string> texts;
    texts.reserve(entries.size());
    for (const auto& e : entries) texts.push_back(engine.token_text(model, e.token_id));

    w.StartObject();
    w.Key("tokens");
    w.StartArray();
    for (const auto& t : texts) write_string(w, printable_token(t));
    w.EndArray();
    w.Key("token_logprobs");
    w.StartArray();
    for (const auto& e : entries) {
        if (e.logprob) write_logprob(w, *e.logprob); else w.Null();
    }
    w.EndArray();
    w.Key("top_logprobs");
    w.StartArray();
    for (size_t i = 0; i < entries.size(); ++i) {
        const LogprobEntry& e = entries[i];
        if (!e.logprob) {
            w.Null();
            continue;
        }
        // Alternatives best first, plus the chosen token (as vLLM does); a text appears once.
        std::unordered_set<std::string> seen;
        w.StartObject();
        for (int32_t k = 0; k < e.n_top; ++k) {
            std::string text = printable_token(engine.token_text(model, e.top[k].token_id));
            if (!seen.insert(text).second) continue;
            write_string(w, text);
            write_logprob(w, e.top[k].logprob);
        }
        std::string chosen = printable_token(texts[i]);
        if (seen.insert(chosen).second) {
            write_string(w, chosen);
            write_logprob(w, *e.logprob);
        }
        w.EndObject();
    }
    w.EndArray();
    w.Key("text_offset");
    w.StartArray();
    for (const auto& t : texts) {
        w.Uint64(text_offset);
        text_offset += t.size();
    }
    w.EndArray();
    w.EndObject();
}

static void write_token_object(JsonWriter& w, const std::string& text, float logprob) {
    w.Key("token");
    write_string(w, printable_token(text));
    w.Key("logprob");
    write_logprob(w, logprob);
    w.Key("bytes");
    w.StartArray();
    for (unsigned char c : text) w.Uint(c);
    w.EndArray();
}

void write_chat_logprobs(JsonWriter& w, const EngineClient& engine, const ServedModel& model,
                         const std::vector<LogprobEntry>& entries) {
    w.StartObject();
    w.Key("content");
    w.StartArray();
    for (const auto& e : entries) {
        w.StartObject();
        write_token_object(w, engine.token_text(model, e.token_id), e.logprob.value_or(0.0f));
        w.Key("top_logprobs");
        w.StartArray();
        for (int32_t k = 0; k < e.n_top; ++k) {
            w.StartObject();
            write_token_object(w, engine.token_text(model, e.top[k].token_id), e.top[k].logprob);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
}

}  // namespace llmatc::openai
