// tests/frontends/openai/fake_engine.cpp — the deterministic test engine's C table and its generation threads.
#include "fake_engine.h"

#include <chrono>
#include <cstring>

#include <rapidjson/document.h>

namespace llmatc::test {

namespace {

thread_local std::string t_error;

llmatc_status set_error(llmatc_status status, std::string message) {
    t_error = std::move(message);
    return status;
}

std::string token_string(int32_t id) {
    if (id == 1) return "<s>";
    if (id == 2) return "</s>";
    if (id >= 3 && id < FakeEngine::kVocab) return std::string(1, static_cast<char>(id - 3));
    return "";
}

}  // namespace

struct FakeEngine::Job {
    uint64_t id;
    std::vector<int32_t> prompt;
    llmatc_sampling_params params;
    std::vector<std::string> stops;
    llmatc_output_callback callback;
    void* user;
    std::atomic<bool> cancel{false};
    std::atomic<bool> done{false};
};

const char* FakeEngine::last_error() { return t_error.c_str(); }

FakeEngine::FakeEngine() {
    api_.struct_size = sizeof api_;
    api_.abi_version = LLMATC_ABI_VERSION;
    api_.engine = this;
    api_.model_count = [](void*) -> int32_t { return 1; };
    api_.model_info = [](void*, int32_t index, llmatc_model_info* out) -> llmatc_status {
        if (index != 0) return set_error(LLMATC_ERR_NOT_FOUND, "no such model index");
        out->id = "test-model";
        out->root = "/models/test";
        out->max_model_len = kMaxModelLen;
        out->vocab_size = kVocab;
        out->hidden_size = kHidden;
        out->created = 1700000000;
        return LLMATC_OK;
    };
    api_.default_sampling = [](void*, llmatc_sampling_params* p) {
        *p = llmatc_sampling_params{};
        p->struct_size = sizeof *p;
        p->abi_version = LLMATC_ABI_VERSION;
        p->temperature = 1.0f;
        p->top_p = 1.0f;
        p->repetition_penalty = 1.0f;
        p->max_tokens = 16;
        p->logprobs = -1;
        p->prompt_logprobs = -1;
        p->skip_special_tokens = 1;
    };
    api_.tokenize = [](void*, const char*, size_t, const char* text, size_t len, int32_t add_special, int32_t* out,
                       size_t cap, size_t* n_out) -> llmatc_status {
        std::vector<int32_t> ids;
        if (add_special) ids.push_back(1);
        for (size_t i = 0; i < len; ++i) ids.push_back(static_cast<unsigned char>(text[i]) + 3);
        *n_out = ids.size();
        if (ids.size() > cap) return set_error(LLMATC_ERR_OUT_OF_MEMORY, "buffer too small");
        std::memcpy(out, ids.data(), ids.size() * sizeof(int32_t));
        return LLMATC_OK;
    };
    api_.detokenize = [](void*, const char*, size_t, const int32_t* ids, size_t n, int32_t skip_special,
                         llmatc_bytes_callback sink, void* user) -> llmatc_status {
        std::string text;
        for (size_t i = 0; i < n; ++i) {
            if (ids[i] < 0 || ids[i] >= kVocab) return set_error(LLMATC_ERR_INVALID_ARGUMENT, "token id out of range");
            if (ids[i] < 3 && skip_special) continue;
            text += token_string(ids[i]);
        }
        sink(text.data(), text.size(), user);
        return LLMATC_OK;
    };
    api_.token_text = [](void*, const char*, size_t, int32_t id, llmatc_bytes_callback sink,
                         void* user) -> llmatc_status {
        std::string text = token_string(id);
        sink(text.data(), text.size(), user);
        return LLMATC_OK;
    };
    api_.apply_chat_template = [](void*, const char*, size_t, const char* json, size_t len, int32_t add_generation,
                                  llmatc_bytes_callback sink, void* user) -> llmatc_status {
        rapidjson::Document doc;
        doc.Parse(json, len);
        if (doc.HasParseError() || !doc.IsArray()) return set_error(LLMATC_ERR_INVALID_ARGUMENT, "bad messages");
        std::string prompt = "<s>";
        for (const auto& m : doc.GetArray()) {
            prompt += std::string(m["role"].GetString()) + ": " + m["content"].GetString() + "\n";
        }
        if (add_generation) prompt += "assistant:";
        sink(prompt.data(), prompt.size(), user);
        return LLMATC_OK;
    };
    api_.submit = [](void* engine, const llmatc_request* request, uint64_t* request_id) -> llmatc_status {
        FakeEngine* e = self(engine);
        if (e->queue_full.load()) return set_error(LLMATC_ERR_UNAVAILABLE, "the request queue is full (4 waiting)");
        if (request->n_prompt_tokens >= kMaxModelLen) {
            return set_error(LLMATC_ERR_INVALID_ARGUMENT,
                             "This model's maximum context length is " + std::to_string(kMaxModelLen) +
                                 " tokens, but the prompt has " + std::to_string(request->n_prompt_tokens) + " tokens");
        }
        auto* job = new Job;
        job->prompt.assign(request->prompt_tokens, request->prompt_tokens + request->n_prompt_tokens);
        job->params = *request->sampling;
        for (int32_t i = 0; i < job->params.n_stop; ++i) job->stops.emplace_back(job->params.stop[i], job->params.stop_lens[i]);
        job->params.stop = nullptr;
        job->params.stop_lens = nullptr;
        job->params.logit_bias_ids = nullptr;
        job->params.logit_bias_values = nullptr;
        job->params.stop_token_ids = nullptr;
        job->callback = request->callback;
        job->user = request->user;
        std::lock_guard lock(e->mutex_);
        job->id = e->next_id_++;
        *request_id = job->id;
        e->params_.push_back(job->params);
        e->jobs_.push_back(job);
        e->running.fetch_add(1);
        e->submitted.fetch_add(1);
        e->threads_.emplace_back([e, job] { e->run_job(job); });
        return LLMATC_OK;
    };
    api_.cancel = [](void* engine, uint64_t id) {
        FakeEngine* e = self(engine);
        std::lock_guard lock(e->mutex_);
        for (Job* j : e->jobs_) {
            if (j->id == id && !j->done.load()) {
                j->cancel.store(true);
                e->cancelled.fetch_add(1);
            }
        }
    };
    api_.embed = [](void*, const char*, size_t, const int32_t* tokens, int32_t n, float* out,
                    size_t cap) -> llmatc_status {
        if (cap < static_cast<size_t>(kHidden)) return set_error(LLMATC_ERR_INVALID_ARGUMENT, "small buffer");
        // A unit vector that depends on the input: weight on the component (first token % 4).
        for (int i = 0; i < kHidden; ++i) out[i] = 0.0f;
        out[n > 0 ? tokens[0] % kHidden : 0] = 1.0f;
        return LLMATC_OK;
    };
    api_.metrics_text = [](void* engine, llmatc_bytes_callback sink, void* user) {
        std::string text = "# TYPE llmatc_num_requests_running gauge\nllmatc_num_requests_running " +
                           std::to_string(self(engine)->running.load()) + "\n";
        sink(text.data(), text.size(), user);
    };
    api_.healthy = [](void*) -> int32_t { return 1; };
    api_.version = [](void*) -> const char* { return "0.1.0-test"; };
}

FakeEngine::~FakeEngine() {
    {
        std::lock_guard lock(mutex_);
        for (Job* j : jobs_) j->cancel.store(true);
    }
    for (auto& t : threads_) t.join();
    for (Job* j : jobs_) delete j;
}

std::vector<llmatc_sampling_params> FakeEngine::submitted_params() const {
    std::lock_guard lock(mutex_);
    return params_;
}

void FakeEngine::run_job(Job* job) {
    std::string text;
    int32_t generated = 0;
    double cumulative = 0.0;
    const int32_t k = job->params.logprobs;
    std::vector<llmatc_token_logprob> top(k > 0 ? k : 0);
    std::vector<float> prompt_lp(job->prompt.size(), -1.5f);
    if (!prompt_lp.empty()) prompt_lp[0] = 0.0f;
    std::vector<llmatc_token_logprob> prompt_top(job->prompt.size() * (k > 0 ? k : 0), {'z' + 3, -3.0f});
    bool first = true;
    for (;;) {
        llmatc_output_event ev{};
        ev.struct_size = sizeof ev;
        ev.abi_version = LLMATC_ABI_VERSION;
        ev.request_id = job->id;
        ev.n_prompt_tokens = static_cast<int32_t>(job->prompt.size());
        if (first && job->params.prompt_logprobs >= 0) {
            ev.n_prompt_logprobs = static_cast<int32_t>(job->prompt.size());
            ev.prompt_logprobs = prompt_lp.data();
            ev.prompt_top_logprobs = prompt_top.data();
        }
        first = false;
        if (job->cancel.load()) {
            ev.finish_reason = LLMATC_FINISH_ABORT;
            ev.n_generated_tokens = generated;
            job->done.store(true);
            running.fetch_sub(1);
            job->callback(&ev, job->user);
            return;
        }
        if (step_delay_ms.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step_delay_ms.load()));
        // Seeded requests start at a letter chosen by the seed, so tests can tell seeds apart.
        const int start = job->params.has_seed ? static_cast<int>(job->params.seed % 26) : 0;
        const char letter = static_cast<char>('a' + (start + generated) % 26);
        int32_t token = letter + 3;
        float logprob = -0.5f;
        for (int32_t i = 0; i < k; ++i) top[i] = {static_cast<int32_t>('a' + (letter - 'a' + 1 + i) % 26 + 3), -1.0f - i};
        text += letter;
        ++generated;
        cumulative += logprob;
        llmatc_finish_reason finish = LLMATC_FINISH_NONE;
        std::string piece(1, letter);
        // Stop strings are matched at the end of the text; the letter completing one is not shown (no hold-back:
        // the tests use one-letter stop strings).
        for (const auto& s : job->stops) {
            if (text.size() >= s.size() && text.compare(text.size() - s.size(), s.size(), s) == 0) {
                finish = LLMATC_FINISH_STOP;
                piece.clear();
                break;
            }
        }
        if (finish == LLMATC_FINISH_NONE && generated >= job->params.max_tokens) finish = LLMATC_FINISH_LENGTH;
        ev.text = piece.data();
        ev.text_len = piece.size();
        ev.n_tokens = 1;
        ev.token_ids = &token;
        float lp = logprob;
        if (k >= 0) {
            ev.logprobs = &lp;
            ev.n_top = k;
            ev.top_logprobs = top.data();
        }
        ev.n_generated_tokens = generated;
        ev.cumulative_logprob = cumulative;
        ev.finish_reason = finish;
        if (finish != LLMATC_FINISH_NONE) {
            job->done.store(true);
            running.fetch_sub(1);
        }
        job->callback(&ev, job->user);
        if (finish != LLMATC_FINISH_NONE) return;
    }
}

}  // namespace llmatc::test
