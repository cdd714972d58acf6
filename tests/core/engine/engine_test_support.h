// tests/core/engine/engine_test_support.h — drives an Engine through its C table: submit, collect events, wait.
#pragma once

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "llmatc/frontend.h"
#include "runtime/loaded_model.h"

namespace engine_test {

// ../shared, or $LLMATC_SHARED when set (the meson test sets it).
inline std::filesystem::path shared_dir() {
    const char* env = std::getenv("LLMATC_SHARED");
    return env && *env ? std::filesystem::path(env) : std::filesystem::path("../shared");
}

inline std::unique_ptr<llmatc::LoadedModel> load_stories() {
    llmatc::ModelLoadOptions o;
    o.path = (shared_dir() / "models" / "stories260k").string();
    o.name = "stories260k";
    o.device = "cpu";
    o.threads = 2;
    return llmatc::LoadedModel::load(o);
}

// Everything one request produced. Filled by the engine's step thread; read after wait().
struct Collected {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    int events = 0;
    std::vector<int32_t> tokens;
    std::vector<float> logprobs;
    std::vector<std::vector<llmatc_token_logprob>> top;
    std::vector<float> prompt_logprobs;
    std::vector<llmatc_token_logprob> prompt_top;
    std::string text;
    llmatc_finish_reason finish = LLMATC_FINISH_NONE;
    std::string error;
    int32_t n_cached_prompt_tokens = 0;
    int32_t n_generated = 0;
    double cumulative_logprob = 0.0;  // as of the last event

    static void on_event(const llmatc_output_event* ev, void* user) {
        auto* c = static_cast<Collected*>(user);
        std::lock_guard lock(c->mutex);
        ++c->events;
        c->text.append(ev->text, ev->text_len);
        for (int32_t i = 0; i < ev->n_tokens; ++i) {
            c->tokens.push_back(ev->token_ids[i]);
            if (ev->logprobs) c->logprobs.push_back(ev->logprobs[i]);
            if (ev->top_logprobs)
                c->top.emplace_back(ev->top_logprobs + static_cast<ptrdiff_t>(i) * ev->n_top,
                                    ev->top_logprobs + static_cast<ptrdiff_t>(i + 1) * ev->n_top);
        }
        if (ev->n_prompt_logprobs > 0) {
            c->prompt_logprobs.assign(ev->prompt_logprobs, ev->prompt_logprobs + ev->n_prompt_logprobs);
            if (ev->prompt_top_logprobs)
                c->prompt_top.assign(ev->prompt_top_logprobs,
                                     ev->prompt_top_logprobs + static_cast<ptrdiff_t>(ev->n_prompt_logprobs) * ev->n_top);
        }
        c->n_cached_prompt_tokens = ev->n_cached_prompt_tokens;
        c->n_generated = ev->n_generated_tokens;
        c->cumulative_logprob = ev->cumulative_logprob;
        if (ev->finish_reason != LLMATC_FINISH_NONE) {
            c->finish = ev->finish_reason;
            if (ev->error_message) c->error = ev->error_message;
            c->done = true;
        }
        c->cv.notify_all();
    }

    void wait() {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return done; });
    }

    // Until the request has produced at least n events (or finished).
    void wait_for_events(int n) {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return done || events >= n; });
    }
};

// Sampling parameters starting from the engine's defaults.
inline llmatc_sampling_params defaults(const llmatc_engine_api* api) {
    llmatc_sampling_params p{};
    api->default_sampling(api->engine, &p);
    return p;
}

// Submits; returns the status (and the id through *id).
inline llmatc_status submit(const llmatc_engine_api* api, const std::vector<int32_t>& prompt,
                            const llmatc_sampling_params& params, Collected* out, uint64_t* id = nullptr,
                            const std::string& model = {}) {
    llmatc_request r{};
    r.struct_size = sizeof(r);
    r.abi_version = LLMATC_ABI_VERSION;
    r.model = model.empty() ? nullptr : model.c_str();
    r.model_len = model.size();
    r.prompt_tokens = prompt.data();
    r.n_prompt_tokens = static_cast<int32_t>(prompt.size());
    r.sampling = &params;
    r.callback = &Collected::on_event;
    r.user = out;
    uint64_t ignored = 0;
    return api->submit(api->engine, &r, id ? id : &ignored);
}

inline std::vector<int32_t> tokenize(const llmatc_engine_api* api, const std::string& text) {
    std::vector<int32_t> ids(4096);
    size_t n = 0;
    if (api->tokenize(api->engine, nullptr, 0, text.data(), text.size(), 1, ids.data(), ids.size(), &n) != LLMATC_OK)
        throw std::runtime_error("tokenize failed");
    ids.resize(n);
    return ids;
}

inline std::string metrics(const llmatc_engine_api* api) {
    std::string out;
    api->metrics_text(api->engine, [](const char* d, size_t n, void* u) { static_cast<std::string*>(u)->append(d, n); },
                      &out);
    return out;
}

// The value of the first sample line starting with `name` (e.g. "llmatc_kv_cache_blocks_free{").
inline double metric_value(const std::string& text, const std::string& name) {
    size_t pos = 0;
    while ((pos = text.find(name, pos)) != std::string::npos) {
        if (pos == 0 || text[pos - 1] == '\n') {
            size_t space = text.find(' ', text.find('}', pos));
            return std::stod(text.substr(space + 1, text.find('\n', space) - space - 1));
        }
        pos += name.size();
    }
    throw std::runtime_error("metric not found: " + name);
}

}  // namespace engine_test
