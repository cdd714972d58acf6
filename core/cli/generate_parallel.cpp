// core/cli/generate_parallel.cpp — `llm-atc generate --parallel N`: N prompts decoded together as one engine batch.
#include "cli/generate_parallel.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "cli/continuation_text.h"
#include "engine/engine.h"
#include "engine/kv_cache.h"
#include "runtime/loaded_model.h"
#include "util/error.h"

namespace llmatc::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Every token of one sequence with the time its event arrived (the engine sends one event per token).
struct SequenceOutput {
    std::vector<int32_t> token_ids;
    std::vector<Clock::time_point> token_times;
    llmatc_finish_reason finish = LLMATC_FINISH_NONE;
    std::string error;
};

// One token event of the batch, in the order the engine's step thread delivered them.
struct TokenEvent {
    size_t sequence;
    bool first_token;  // the sequence's first: its step ran the prompt
    Clock::time_point time;
};

// What the engine reports for the whole batch; written on the engine's step thread, read after all are done.
struct BatchOutput {
    std::mutex mutex;
    std::condition_variable cv;
    bool all_submitted = false;
    size_t n_done = 0;
    std::vector<SequenceOutput> sequences;
    std::vector<TokenEvent> events;
};

struct CallbackTarget {
    BatchOutput* batch;
    size_t index;
};

void on_event(const llmatc_output_event* ev, void* user) {
    auto* target = static_cast<CallbackTarget*>(user);
    const Clock::time_point now = Clock::now();
    BatchOutput& batch = *target->batch;
    std::unique_lock<std::mutex> lock(batch.mutex);
    SequenceOutput& out = batch.sequences[target->index];
    // The step thread may start on the first request before the others are submitted (the machine may preempt the
    // submitting thread for many steps). Holding that request's first event until every submit is done puts all
    // the others into the engine's next step together: the batch then starts at most one step apart. This blocks
    // the engine for as long as the remaining submits take, which only this command's own engine can afford.
    if (target->index == 0 && out.token_ids.empty())
        batch.cv.wait(lock, [&] { return batch.all_submitted; });
    for (int32_t i = 0; i < ev->n_tokens; ++i) {
        batch.events.push_back(TokenEvent{target->index, out.token_ids.empty(), now});
        out.token_ids.push_back(ev->token_ids[i]);
        out.token_times.push_back(now);
    }
    if (ev->finish_reason != LLMATC_FINISH_NONE) {
        out.finish = ev->finish_reason;
        if (ev->error_message) out.error = ev->error_message;
        ++batch.n_done;
        batch.cv.notify_all();
    }
}

// Full-batch steps are the engine steps in which every sequence decoded (none ran a prompt). The step thread gives
// each running sequence exactly one token per step, in a fixed order, so the event stream splits into steps where
// a sequence repeats. Their time runs from the last event of the step before the first of them to the last event
// of the last of them; they are consecutive (from the step after the last prompt ran to the first finish).
void measure_full_batch(const std::vector<TokenEvent>& events, size_t n_seqs, ParallelTimings& t) {
    std::vector<size_t> step_ends;  // index one past each step's last event
    std::vector<bool> seen(n_seqs, false);
    for (size_t i = 0; i < events.size(); ++i) {
        if (seen[events[i].sequence]) {
            step_ends.push_back(i);
            std::fill(seen.begin(), seen.end(), false);
        }
        seen[events[i].sequence] = true;
    }
    step_ends.push_back(events.size());
    size_t begin = 0, first_full = 0, n_full = 0;
    for (size_t k = 0; k < step_ends.size(); begin = step_ends[k], ++k) {
        const bool all_decoding =
            step_ends[k] - begin == n_seqs &&
            std::none_of(events.begin() + ptrdiff_t(begin), events.begin() + ptrdiff_t(step_ends[k]),
                         [](const TokenEvent& e) { return e.first_token; });
        if (all_decoding && n_full == 0) first_full = k;
        if (all_decoding) ++n_full;
        else if (n_full > 0) break;
    }
    t.full_batch_steps = int(n_full);
    if (n_full == 0 || first_full == 0) return;  // the first step always runs prompts
    t.full_batch_seconds = seconds_between(events[step_ends[first_full - 1] - 1].time,
                                           events[step_ends[first_full + n_full - 1] - 1].time);
}

}  // namespace

ParallelGeneration generate_parallel(std::unique_ptr<LoadedModel> model, const ParallelGenerateOptions& o) {
    const size_t n_seqs = o.prompts.size();
    if (n_seqs == 0) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--parallel: no prompts given");
    const llmatc_model_desc desc = model->desc();
    const std::vector<int32_t> eos = model->eos_token_ids();
    int64_t total_prompt = 0;
    int32_t longest_prompt = 0;
    for (size_t i = 0; i < n_seqs; ++i) {
        const int32_t n = int32_t(o.prompts[i].size());
        if (n == 0) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "prompt " + std::to_string(i) + " encodes to no tokens");
        total_prompt += n;
        longest_prompt = std::max(longest_prompt, n);
    }
    if (longest_prompt >= desc.max_position_embeddings)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "a prompt has " + std::to_string(longest_prompt) +
                                                     " tokens; the model's context is " +
                                                     std::to_string(desc.max_position_embeddings));

    // An engine sized for this batch alone: every sequence runs at once, every prompt fits one step, and the KV
    // cache holds N sequences of prompt + max_tokens (not N full contexts, which could exceed RAM).
    EngineOptions eo;
    eo.served_model_name = "generate";
    eo.max_num_seqs = int(n_seqs);
    eo.max_num_batched_tokens = int(std::max<int64_t>(2048, total_prompt));
    eo.max_model_len = int(std::min<int64_t>(desc.max_position_embeddings, int64_t(longest_prompt) + o.max_tokens));
    const uint64_t blocks_per_seq = uint64_t((eo.max_model_len + eo.block_size - 1) / eo.block_size);
    const llmatc_dtype kv_dtype = engine::resolve_kv_cache_dtype(o.kv_cache_dtype, model->weight_dtype());
    eo.kv_cache_dtype = o.kv_cache_dtype;
    const uint64_t block_bytes = engine::kv_block_bytes(desc, eo.block_size, kv_dtype);
    eo.kv_cache_memory = block_bytes * blocks_per_seq * n_seqs;
    eo.enable_prefix_caching = false;
    ParallelGeneration result;
    result.timings.kv_cache_bytes =
        uint64_t(engine::plan_kv_blocks(desc, eo.block_size, kv_dtype, eo.max_model_len, eo.max_num_seqs,
                                        eo.kv_cache_memory)) *
        block_bytes;
    std::unique_ptr<Engine> engine = Engine::create(std::move(model), eo);
    const llmatc_engine_api* api = engine->api();

    std::vector<llmatc_sampling_params> sampling(n_seqs);
    BatchOutput out;
    out.sequences.resize(n_seqs);
    std::vector<CallbackTarget> targets(n_seqs);
    for (size_t i = 0; i < n_seqs; ++i) {
        llmatc_sampling_params& sp = sampling[i];
        api->default_sampling(api->engine, &sp);
        sp.temperature = float(o.temperature);
        sp.top_p = float(o.top_p);
        sp.top_k = o.top_k;
        sp.has_seed = o.seed ? 1 : 0;
        sp.seed = o.seed.value_or(0) + i;
        sp.max_tokens = o.max_tokens;
        sp.ignore_eos = o.ignore_eos ? 1 : 0;
        targets[i] = CallbackTarget{&out, i};
    }
    const Clock::time_point t0 = Clock::now();
    for (size_t i = 0; i < n_seqs; ++i) {
        llmatc_request req{};
        req.struct_size = sizeof(req);
        req.abi_version = LLMATC_ABI_VERSION;
        req.prompt_tokens = o.prompts[i].data();
        req.n_prompt_tokens = int32_t(o.prompts[i].size());
        req.sampling = &sampling[i];
        req.callback = &on_event;
        req.user = &targets[i];
        uint64_t id = 0;
        try {
            check_status(api->submit(api->engine, &req, &id), "generate: prompt " + std::to_string(i));
        } catch (...) {
            {
                std::lock_guard<std::mutex> lock(out.mutex);
                out.all_submitted = true;  // releases the first request's event, if it waits
            }
            out.cv.notify_all();
            engine->shutdown();  // the requests already in flight end with ABORT events before `out` goes away
            throw;
        }
    }
    {
        std::unique_lock<std::mutex> lock(out.mutex);
        out.all_submitted = true;
        out.cv.notify_all();
        out.cv.wait(lock, [&] { return out.n_done == n_seqs; });
    }
    engine->shutdown();  // every sequence has finished; detokenize below still works on a stopped engine

    for (size_t i = 0; i < n_seqs; ++i) {
        const SequenceOutput& s = out.sequences[i];
        if (s.finish == LLMATC_FINISH_ERROR || s.finish == LLMATC_FINISH_ABORT || s.token_ids.empty())
            throw Error(LLMATC_ERR_INTERNAL, "generation of prompt " + std::to_string(i) + " failed: " +
                                                 (s.error.empty() ? std::string("no tokens") : s.error));
    }
    ParallelTimings& t = result.timings;
    t.n_sequences = int(n_seqs);
    t.prompt_tokens = total_prompt;
    Clock::time_point all_admitted = t0, last_token = t0;
    for (const SequenceOutput& s : out.sequences) {
        all_admitted = std::max(all_admitted, s.token_times.front());
        last_token = std::max(last_token, s.token_times.back());
        t.generated_tokens += int64_t(s.token_ids.size());
    }
    t.prompt_seconds = seconds_between(t0, all_admitted);
    t.total_seconds = seconds_between(t0, last_token);
    measure_full_batch(out.events, n_seqs, t);

    for (size_t i = 0; i < n_seqs; ++i) {
        const SequenceOutput& s = out.sequences[i];
        ParallelSequenceResult r;
        r.prompt_ids = o.prompts[i];
        r.token_ids = s.token_ids;
        r.finish_reason = s.finish == LLMATC_FINISH_STOP ? "stop" : "length";
        if (s.finish == LLMATC_FINISH_STOP && std::find(eos.begin(), eos.end(), r.token_ids.back()) != eos.end())
            r.token_ids.pop_back();  // the EOS id that ended it is not part of the continuation
        r.text = continuation_text(*api, r.prompt_ids, r.token_ids);
        result.sequences.push_back(std::move(r));
    }
    return result;
}

std::string parallel_result_json(const ParallelGeneration& result, bool with_timings) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    auto ids = [&](const char* key, const std::vector<int32_t>& list) {
        w.Key(key);
        w.StartArray();
        for (int32_t id : list) w.Int(id);
        w.EndArray();
    };
    auto per_second = [](double count, double seconds) { return seconds > 0 ? count / seconds : 0.0; };
    w.StartObject();
    w.Key("parallel");
    w.Int(int(result.sequences.size()));
    w.Key("sequences");
    w.StartArray();
    for (const ParallelSequenceResult& s : result.sequences) {
        w.StartObject();
        ids("prompt_token_ids", s.prompt_ids);
        ids("token_ids", s.token_ids);
        w.Key("text");
        w.String(s.text.c_str(), rapidjson::SizeType(s.text.size()));
        w.Key("finish_reason");
        w.String(s.finish_reason.c_str());
        w.EndObject();
    }
    w.EndArray();
    if (with_timings) {
        const ParallelTimings& t = result.timings;
        w.Key("timings");
        w.StartObject();
        w.Key("sequences");
        w.Int(t.n_sequences);
        w.Key("prompt_tokens");
        w.Int64(t.prompt_tokens);
        w.Key("prompt_seconds");
        w.Double(t.prompt_seconds);
        w.Key("prompt_tokens_per_s");
        w.Double(per_second(double(t.prompt_tokens), t.prompt_seconds));
        // generation_*: the full-batch steps only (every sequence decoding), the batched decode throughput.
        w.Key("generation_steps");
        w.Int(t.full_batch_steps);
        w.Key("generation_seconds");
        w.Double(t.full_batch_seconds);
        w.Key("generation_tokens_per_s");
        w.Double(per_second(double(t.full_batch_steps) * t.n_sequences, t.full_batch_seconds));
        w.Key("generated_tokens");
        w.Int64(t.generated_tokens);
        w.Key("total_seconds");
        w.Double(t.total_seconds);
        w.Key("kv_cache_bytes");
        w.Uint64(t.kv_cache_bytes);
        w.EndObject();
    }
    w.EndObject();
    return buffer.GetString();
}

}  // namespace llmatc::cli
