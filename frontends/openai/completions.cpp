// frontends/openai/completions.cpp — the legacy completions endpoint as OpenAI and vLLM serve it.
#include "completions.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "api_error.h"
#include "generation_reply.h"
#include "logprobs_json.h"
#include "sampling_request.h"
#include "stream_options.h"

namespace llmatc::openai {

namespace {

struct PromptInput {
    std::string text;             // as given, or decoded from the ids (for echo)
    std::vector<int32_t> tokens;
};

// prompt: a string, a list of strings, a list of token ids, or a list of lists of token ids.
std::vector<PromptInput> read_prompts(const rapidjson::Value* prompt, const EngineClient& engine,
                                      const ServedModel& model, bool need_text) {
    if (!prompt) throw bad_request("prompt is required", "prompt");
    std::vector<PromptInput> prompts;
    auto from_text = [&](const rapidjson::Value& v) {
        PromptInput p;
        p.text.assign(v.GetString(), v.GetStringLength());
        p.tokens = engine.tokenize(model, p.text, true);
        prompts.push_back(std::move(p));
    };
    auto from_ids = [&](const rapidjson::Value& v) {
        PromptInput p;
        p.tokens = token_id_list(v, model.vocab_size, "prompt");
        if (need_text) p.text = engine.detokenize(model, p.tokens, true);
        prompts.push_back(std::move(p));
    };
    if (prompt->IsString()) {
        from_text(*prompt);
    } else if (is_int_array(*prompt)) {
        from_ids(*prompt);
    } else if (prompt->IsArray() && !prompt->Empty()) {
        for (const auto& item : prompt->GetArray()) {
            if (item.IsString()) from_text(item);
            else if (item.IsArray()) from_ids(item);
            else throw bad_request("prompt must be a string, a list of strings, a list of token ids or a list of "
                                   "lists of token ids", "prompt");
        }
    } else {
        throw bad_request("prompt must be a string, a list of strings, a list of token ids or a list of lists of "
                          "token ids (and not empty)", "prompt");
    }
    return prompts;
}

struct CompletionOptions {
    int n = 1;
    int best_of = 1;
    int logprobs = -1;  // -1 = none
    bool echo = false;
};

class CompletionReply final : public GenerationReply {
public:
    CompletionReply(const ServerContext& ctx, const ServedModel& model, std::vector<PromptInput> prompts,
                    CompletionOptions options, std::shared_ptr<GenerationSet> set, bool stream, bool include_usage,
                    int64_t prompt_tokens)
        : GenerationReply(std::move(set), stream, include_usage, prompt_tokens),
          ctx_(ctx),
          model_(model),
          prompts_(std::move(prompts)),
          options_(options),
          echo_sent_(prompts_.size() * options.best_of, false),
          text_offsets_(prompts_.size() * options.best_of, 0) {
        header_.id = random_id("cmpl-");
        header_.model_id = model.id;
    }

protected:
    const char* chunk_object() const override { return "text_completion"; }

    void write_stream_events(const std::vector<SequenceEvent>& events, std::string& out) override {
        // Streaming requires best_of == n, so sequence s is choice s.
        for (const SequenceEvent& ev : events) {
            const size_t s = ev.index;
            const SequenceDelta& d = ev.delta;
            if (append_stream_error_if_failed(out, d)) continue;
            const bool first = options_.echo && !echo_sent_[s];
            if (!first && d.text.empty() && d.token_ids.empty() && d.finish_reason == LLMATC_FINISH_NONE) continue;
            append_chunk_event(out, [&](JsonWriter& w) { write_choice(w, s, s, d, first); });
        }
    }

    HttpResponse build_response(const std::vector<SequenceDelta>& deltas) override {
        // best_of: return the n candidates with the highest cumulative logprob, best first. The losers are excluded
        // from usage before the usage is written (after the choices).
        return final_response("text_completion", [&](JsonWriter& w) {
            const size_t per_prompt = static_cast<size_t>(options_.best_of);
            for (size_t p = 0; p < prompts_.size(); ++p) {
                std::vector<size_t> order(per_prompt);
                std::iota(order.begin(), order.end(), p * per_prompt);
                if (options_.best_of > options_.n) {
                    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
                        return deltas[a].cumulative_logprob > deltas[b].cumulative_logprob;
                    });
                    for (size_t k = options_.n; k < order.size(); ++k) exclude_from_usage(order[k]);
                }
                for (int j = 0; j < options_.n; ++j) {
                    write_choice(w, order[j], p * options_.n + j, deltas[order[j]], options_.echo);
                }
            }
        });
    }

private:
    // One choice; `with_echo` puts the prompt (and its logprobs) in front of the generated text.
    void write_choice(JsonWriter& w, size_t sequence, size_t index, const SequenceDelta& d, bool with_echo) {
        const PromptInput& prompt = prompts_[sequence / options_.best_of];
        w.StartObject();
        w.Key("index");
        w.Uint64(index);
        w.Key("text");
        write_string(w, with_echo ? prompt.text + d.text : d.text);
        w.Key("logprobs");
        if (options_.logprobs >= 0) {
            std::vector<LogprobEntry> entries;
            if (with_echo) {
                for (size_t i = 0; i < prompt.tokens.size(); ++i) {
                    LogprobEntry e{prompt.tokens[i], std::nullopt, nullptr, 0};
                    if (d.has_prompt_logprobs && i > 0 && i < d.prompt_logprobs.size()) {
                        e.logprob = d.prompt_logprobs[i];
                        if (d.n_top > 0 && d.prompt_top_logprobs.size() >= (i + 1) * d.n_top) {
                            e.top = d.prompt_top_logprobs.data() + i * d.n_top;
                            e.n_top = d.n_top;
                        }
                    }
                    entries.push_back(e);
                }
            }
            std::vector<LogprobEntry> generated = generated_entries(d.token_ids, d.logprobs, d.top_logprobs, d.n_top);
            entries.insert(entries.end(), generated.begin(), generated.end());
            write_completion_logprobs(w, ctx_.engine, model_, entries, text_offsets_[sequence]);
        } else {
            w.Null();
        }
        w.Key("finish_reason");
        if (const char* reason = finish_reason_text(d.finish_reason)) w.String(reason); else w.Null();
        w.EndObject();
        if (with_echo) echo_sent_[sequence] = true;
    }

    const ServerContext& ctx_;
    const ServedModel& model_;
    std::vector<PromptInput> prompts_;
    CompletionOptions options_;
    std::vector<bool> echo_sent_;
    std::vector<size_t> text_offsets_;
};

}  // namespace

Reply handle_completions(const ServerContext& ctx, const HttpRequest& request) {
    rapidjson::Document doc;
    parse_json_object(request.body, doc);
    JsonFields fields(doc);

    const ServedModel& model = ctx.engine.resolve_model(fields.string("model"));
    if (fields.get("suffix")) throw unsupported("suffix is not supported", "suffix");

    CompletionOptions options;
    options.n = static_cast<int>(fields.integer("n", 1, 128).value_or(1));
    options.best_of = static_cast<int>(fields.integer("best_of", 1, 128).value_or(options.n));
    if (options.best_of < options.n) throw bad_request("best_of must be greater than or equal to n", "best_of");
    options.logprobs = static_cast<int>(fields.integer("logprobs", 0, 20).value_or(-1));
    options.echo = fields.boolean("echo").value_or(false);
    const StreamOptions streaming = read_stream_options(fields);
    if (streaming.stream && options.best_of != options.n) {
        throw bad_request("best_of must equal n when streaming", "best_of");
    }
    const int64_t max_tokens =
        fields.integer("max_tokens", 1, std::numeric_limits<int32_t>::max()).value_or(16);

    SamplingRequest sampling = SamplingRequest::parse(fields, ctx.engine, model);
    sampling.raw().max_tokens = static_cast<int32_t>(max_tokens);
    if (sampling.raw().min_tokens > max_tokens) {
        throw bad_request("min_tokens must be less than or equal to max_tokens", "min_tokens");
    }
    sampling.raw().logprobs = options.logprobs;
    if (options.echo && options.logprobs >= 0) sampling.raw().prompt_logprobs = options.logprobs;

    std::vector<PromptInput> prompts = read_prompts(fields.get("prompt"), ctx.engine, model, options.echo);
    if (ctx.log_prompts) {
        for (const auto& p : prompts) ctx.log(LLMATC_LOG_INFO, "completion prompt: " + p.text);
    }

    std::vector<GenerationSet::Submission> submissions;
    int64_t prompt_tokens = 0;
    const llmatc_sampling_params& base = sampling.params();
    for (const auto& p : prompts) {
        prompt_tokens += static_cast<int64_t>(p.tokens.size());
        for (int j = 0; j < options.best_of; ++j) {
            GenerationSet::Submission s{&model, p.tokens, base};
            // Candidates of one request must differ: each gets its own stream of the seed.
            if (base.has_seed) s.sampling.seed = base.seed + static_cast<uint64_t>(j);
            submissions.push_back(std::move(s));
        }
    }
    auto set = std::make_shared<GenerationSet>(ctx.engine);
    set->submit_all(submissions);

    Reply reply;
    reply.pending = std::make_shared<CompletionReply>(ctx, model, std::move(prompts), options, std::move(set),
                                                      streaming.stream, streaming.include_usage, prompt_tokens);
    return reply;
}

}  // namespace llmatc::openai
