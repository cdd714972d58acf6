// frontends/openai/generation_reply.cpp — streaming/non-streaming delivery common to the generation endpoints.
#include "generation_reply.h"

#include <ctime>

#include "api_error.h"
#include "sse.h"

namespace llmatc::openai {

const char* finish_reason_text(llmatc_finish_reason reason) {
    switch (reason) {
        case LLMATC_FINISH_STOP: return "stop";
        case LLMATC_FINISH_LENGTH: return "length";
        case LLMATC_FINISH_ABORT: return "abort";
        case LLMATC_FINISH_ERROR: return "error";
        default: return nullptr;
    }
}

GenerationReply::GenerationReply(std::shared_ptr<GenerationSet> set, bool stream, bool include_usage,
                                 int64_t prompt_tokens)
    : set_(std::move(set)),
      stream_(stream),
      include_usage_(include_usage),
      prompt_tokens_(prompt_tokens),
      generated_(set_->size(), 0),
      counted_(set_->size(), true) {
    header_.created = static_cast<int64_t>(std::time(nullptr));
}

GenerationReply::~GenerationReply() { set_->set_wake(nullptr); }

void GenerationReply::start(std::function<void()> wake) { set_->set_wake(std::move(wake)); }

void GenerationReply::cancel() { set_->cancel_all(); }

void GenerationReply::note_totals(const std::vector<SequenceEvent>& events) {
    for (const auto& ev : events) {
        if (ev.index < generated_.size()) generated_[ev.index] = ev.delta.n_generated_tokens;
    }
}

UsageCounts GenerationReply::usage() const {
    UsageCounts u;
    u.prompt_tokens = prompt_tokens_;
    for (size_t i = 0; i < generated_.size(); ++i) {
        if (counted_[i]) u.completion_tokens += generated_[i];
    }
    return u;
}

void GenerationReply::write_usage(JsonWriter& w) const {
    UsageCounts u = usage();
    w.StartObject();
    w.Key("prompt_tokens");
    w.Int64(u.prompt_tokens);
    w.Key("completion_tokens");
    w.Int64(u.completion_tokens);
    w.Key("total_tokens");
    w.Int64(u.prompt_tokens + u.completion_tokens);
    w.EndObject();
}

void GenerationReply::append_chunk_event(std::string& out, const JsonPartWriter& write_choices) const {
    JsonPartWriter null_usage;
    if (include_usage_) null_usage = [](JsonWriter& w) { w.Null(); };
    append_sse_event(out, reply_object_json(header_, chunk_object(), write_choices, null_usage));
}

HttpResponse GenerationReply::final_response(const char* object, const JsonPartWriter& write_choices) const {
    HttpResponse response;
    response.body = reply_object_json(header_, object, write_choices, [this](JsonWriter& w) { write_usage(w); });
    return response;
}

bool GenerationReply::append_stream_error_if_failed(std::string& out, const SequenceDelta& delta) {
    if (delta.finish_reason != LLMATC_FINISH_ERROR) return false;
    const std::string message = delta.error_message.empty() ? "generation failed" : delta.error_message;
    append_sse_event(out, error_body(ApiError(500, "server_error", "internal_error", message)));
    return true;
}

bool GenerationReply::poll(std::string& out) {
    if (done_) return true;
    if (!stream_) {
        if (!set_->all_finished()) return false;
        std::vector<SequenceEvent> events = set_->take_events();
        note_totals(events);
        std::vector<SequenceDelta> deltas = merge_events(events, set_->size());
        for (const auto& d : deltas) {
            if (d.finish_reason == LLMATC_FINISH_ERROR) {
                response_ = error_response(ApiError(500, "server_error", "internal_error",
                                                    d.error_message.empty() ? "generation failed" : d.error_message));
                done_ = true;
                return true;
            }
        }
        response_ = build_response(deltas);
        done_ = true;
        return true;
    }
    // Read the finished flag before taking: an event arriving in between is then picked up by the next poll.
    const bool finished = set_->all_finished();
    std::vector<SequenceEvent> events = set_->take_events();
    note_totals(events);
    write_stream_events(events, out);
    if (finished) {
        if (include_usage_) {
            // OpenAI closes a stream with usage in a chunk of its own, with no choices.
            append_sse_event(out, reply_object_json(header_, chunk_object(), [](JsonWriter&) {},
                                                    [this](JsonWriter& w) { write_usage(w); }));
        }
        append_sse_done(out);
        done_ = true;
    }
    return done_;
}

}  // namespace llmatc::openai
