// frontends/openai/generation_reply.h — the pending reply shared by completions and chat: drains a GenerationSet into a
// streamed SSE body or one final JSON response; the endpoint subclasses supply the JSON shapes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "generation.h"
#include "http_types.h"
#include "json_fields.h"
#include "reply_json.h"

namespace llmatc::openai {

class GenerationReply : public PendingReply {
public:
    GenerationReply(std::shared_ptr<GenerationSet> set, bool stream, bool include_usage, int64_t prompt_tokens);
    // Drops the wake function: the set outlives the reply until the engine's final events.
    ~GenerationReply() override;

    bool streaming() const override { return stream_; }
    void start(std::function<void()> wake) override;
    bool poll(std::string& out) override;
    HttpResponse response() override { return response_; }
    void cancel() override;
    UsageCounts usage() const override;

protected:
    // Appends one SSE event per engine event (in arrival order), as OpenAI streams one chunk per token.
    virtual void write_stream_events(const std::vector<SequenceEvent>& events, std::string& out) = 0;
    // The complete response once every sequence finished (`deltas` hold everything each produced).
    virtual HttpResponse build_response(const std::vector<SequenceDelta>& deltas) = 0;
    // The "object" of a stream chunk ("text_completion", "chat.completion.chunk").
    virtual const char* chunk_object() const = 0;

    // Writes {"prompt_tokens", "completion_tokens", "total_tokens"} for the sequences counted so far.
    void write_usage(JsonWriter& w) const;
    // Appends one stream chunk (object chunk_object(), the choices `write_choices` writes) as an SSE event. It
    // carries "usage": null when the client asked for stream usage, as OpenAI's chunks do.
    void append_chunk_event(std::string& out, const JsonPartWriter& write_choices) const;
    // The complete non-streamed response: object `object`, the choices, and the usage counts.
    HttpResponse final_response(const char* object, const JsonPartWriter& write_choices) const;
    // Excludes a sequence from completion_tokens (best_of candidates not returned).
    void exclude_from_usage(size_t sequence) { counted_.at(sequence) = false; }
    // When `delta` says its sequence failed inside the engine, writes an SSE error event for it and returns true.
    static bool append_stream_error_if_failed(std::string& out, const SequenceDelta& delta);

    ReplyHeader header_;  // id and model_id set by the subclass's constructor; created set here

private:
    void note_totals(const std::vector<SequenceEvent>& events);

    std::shared_ptr<GenerationSet> set_;
    bool stream_;
    bool include_usage_;
    int64_t prompt_tokens_;
    std::vector<int64_t> generated_;
    std::vector<bool> counted_;
    bool done_ = false;
    HttpResponse response_;
};

// Finish reason text in OpenAI's vocabulary ("stop", "length", "abort"), or nullptr while unfinished.
const char* finish_reason_text(llmatc_finish_reason reason);

}  // namespace llmatc::openai
