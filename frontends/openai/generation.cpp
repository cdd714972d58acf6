// frontends/openai/generation.cpp — submits engine requests and gathers their output events per sequence.
#include "generation.h"

namespace llmatc::openai {

// The callback's `user`: keeps the set alive until the request's final event.
struct GenerationSet::Slot {
    std::shared_ptr<GenerationSet> set;
    size_t index;
};

void GenerationSet::submit_all(const std::vector<Submission>& submissions) {
    {
        std::lock_guard lock(mutex_);
        queue_.clear();
        n_sequences_ = submissions.size();
        request_ids_.assign(submissions.size(), 0);
        finished_.assign(submissions.size(), false);
        submitted_.assign(submissions.size(), false);
    }
    for (size_t i = 0; i < submissions.size(); ++i) {
        const Submission& s = submissions[i];
        llmatc_request request{};
        request.struct_size = sizeof request;
        request.abi_version = LLMATC_ABI_VERSION;
        request.model = s.model->id.data();
        request.model_len = s.model->id.size();
        request.prompt_tokens = s.prompt_tokens.data();
        request.n_prompt_tokens = static_cast<int32_t>(s.prompt_tokens.size());
        request.sampling = &s.sampling;
        request.callback = &GenerationSet::on_event;
        auto* slot = new Slot{shared_from_this(), i};
        request.user = slot;
        try {
            // No lock held across submit: an engine may deliver events before submit returns.
            uint64_t id = engine_.submit(request);
            std::lock_guard lock(mutex_);
            request_ids_[i] = id;
            submitted_[i] = true;
        } catch (...) {
            delete slot;  // a refused submit never calls back
            {
                std::lock_guard lock(mutex_);
                for (size_t k = i; k < finished_.size(); ++k) finished_[k] = true;
            }
            cancel_all();
            throw;
        }
    }
}

void GenerationSet::on_event(const llmatc_output_event* event, void* user) {
    auto* slot = static_cast<Slot*>(user);
    // The engine calls from its thread and cannot take an exception: swallow everything here.
    try {
        slot->set->record(slot->index, *event);
    } catch (...) {
    }
    if (event->finish_reason != LLMATC_FINISH_NONE) delete slot;
}

void GenerationSet::record(size_t index, const llmatc_output_event& e) {
    if (index >= n_sequences_) return;
    SequenceEvent ev{index, {}};
    SequenceDelta& d = ev.delta;
    if (e.text && e.text_len) d.text.assign(e.text, e.text_len);
    if (e.n_tokens > 0 && e.token_ids) {
        d.token_ids.assign(e.token_ids, e.token_ids + e.n_tokens);
        if (e.logprobs) d.logprobs.assign(e.logprobs, e.logprobs + e.n_tokens);
        if (e.n_top > 0 && e.top_logprobs) {
            d.top_logprobs.assign(e.top_logprobs, e.top_logprobs + static_cast<size_t>(e.n_tokens) * e.n_top);
        }
    }
    d.n_top = e.n_top > 0 ? e.n_top : 0;
    if (e.n_prompt_logprobs > 0 && e.prompt_logprobs) {
        d.has_prompt_logprobs = true;
        d.prompt_logprobs.assign(e.prompt_logprobs, e.prompt_logprobs + e.n_prompt_logprobs);
        if (e.n_top > 0 && e.prompt_top_logprobs) {
            d.prompt_top_logprobs.assign(e.prompt_top_logprobs,
                                         e.prompt_top_logprobs + static_cast<size_t>(e.n_prompt_logprobs) * e.n_top);
        }
    }
    d.n_prompt_tokens = e.n_prompt_tokens;
    d.n_generated_tokens = e.n_generated_tokens;
    d.n_cached_prompt_tokens = e.n_cached_prompt_tokens;
    d.cumulative_logprob = e.cumulative_logprob;
    d.finish_reason = e.finish_reason;
    if (e.finish_reason == LLMATC_FINISH_ERROR && e.error_message) d.error_message = e.error_message;

    std::function<void()> wake;
    {
        std::lock_guard lock(mutex_);
        if (e.finish_reason != LLMATC_FINISH_NONE) finished_[index] = true;
        queue_.push_back(std::move(ev));
        wake = wake_;
    }
    if (wake) wake();
}

void GenerationSet::set_wake(std::function<void()> wake) {
    std::lock_guard lock(mutex_);
    wake_ = std::move(wake);
}

std::vector<SequenceEvent> GenerationSet::take_events() {
    std::lock_guard lock(mutex_);
    std::vector<SequenceEvent> out;
    out.swap(queue_);
    return out;
}

std::vector<SequenceDelta> merge_events(std::vector<SequenceEvent>& events, size_t n_sequences) {
    std::vector<SequenceDelta> merged(n_sequences);
    for (auto& [index, d] : events) {
        if (index >= n_sequences) continue;
        SequenceDelta& m = merged[index];
        m.text += d.text;
        m.token_ids.insert(m.token_ids.end(), d.token_ids.begin(), d.token_ids.end());
        m.logprobs.insert(m.logprobs.end(), d.logprobs.begin(), d.logprobs.end());
        m.top_logprobs.insert(m.top_logprobs.end(), d.top_logprobs.begin(), d.top_logprobs.end());
        if (d.n_top > 0) m.n_top = d.n_top;
        if (d.has_prompt_logprobs) {
            m.has_prompt_logprobs = true;
            m.prompt_logprobs = std::move(d.prompt_logprobs);
            m.prompt_top_logprobs = std::move(d.prompt_top_logprobs);
        }
        m.n_prompt_tokens = d.n_prompt_tokens;
        m.n_generated_tokens = d.n_generated_tokens;
        m.n_cached_prompt_tokens = d.n_cached_prompt_tokens;
        m.cumulative_logprob = d.cumulative_logprob;
        if (d.finish_reason != LLMATC_FINISH_NONE) {
            m.finish_reason = d.finish_reason;
            m.error_message = d.error_message;
        }
    }
    return merged;
}

bool GenerationSet::all_finished() const {
    std::lock_guard lock(mutex_);
    for (bool f : finished_) {
        if (!f) return false;
    }
    return true;
}

size_t GenerationSet::size() const {
    std::lock_guard lock(mutex_);
    return n_sequences_;
}

void GenerationSet::cancel_all() {
    std::vector<uint64_t> to_cancel;
    {
        std::lock_guard lock(mutex_);
        if (cancelled_) return;
        cancelled_ = true;
        for (size_t i = 0; i < request_ids_.size(); ++i) {
            if (!finished_[i] && submitted_[i]) to_cancel.push_back(request_ids_[i]);
        }
    }
    // Outside the lock: cancel may deliver the final event synchronously on this thread.
    for (uint64_t id : to_cancel) engine_.cancel(id);
}

}  // namespace llmatc::openai
