// core/engine/engine.cpp — the engine: startup checks, the step thread, and what each step does with its outputs.
#include "engine/engine_impl.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <random>

#include "engine/sampler.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace llmatc {

std::unique_ptr<Engine> Engine::create(std::unique_ptr<LoadedModel> model, const EngineOptions& options) {
    if (!model) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "engine: no model given");
    return std::make_unique<engine::EngineImpl>(std::move(model), options);
}

namespace engine {

namespace {
std::string served_name_for(const EngineOptions& options, const LoadedModel& model) {
    return options.served_model_name.empty() ? model.path() : options.served_model_name;
}

bool contains(const std::vector<int32_t>& ids, int32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

EngineImpl::EngineImpl(std::unique_ptr<LoadedModel> model, const EngineOptions& options)
    : model_(std::move(model)), options_(options), served_name_(served_name_for(options, *model_)),
      root_(model_->path()), metrics_(served_name_) {
    const llmatc_model_desc& desc = model_->desc();
    const int32_t trained = desc.max_position_embeddings;
    if (options.max_model_len < 0)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--max-model-len must be >= 0, got " +
                                                     std::to_string(options.max_model_len));
    if (options.max_model_len > trained && trained > 0)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--max-model-len " + std::to_string(options.max_model_len) +
                                                     " is longer than the model's max_position_embeddings " +
                                                     std::to_string(trained));
    max_model_len_ = options.max_model_len > 0 ? options.max_model_len : trained;
    if (max_model_len_ <= 0)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "the model reports no max_position_embeddings; pass --max-model-len");
    if (options.max_num_seqs < 1)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--max-num-seqs must be >= 1, got " +
                                                     std::to_string(options.max_num_seqs));
    if (options.max_num_batched_tokens < 1)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--max-num-batched-tokens must be >= 1, got " +
                                                     std::to_string(options.max_num_batched_tokens));
    if (options.block_size < 1 || options.block_size > 1024)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "block size must be in [1, 1024], got " +
                                                     std::to_string(options.block_size));
    if (options.max_queue < 1)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "max_queue must be >= 1, got " + std::to_string(options.max_queue));

    // Not told a size: a model on a GPU offers its device budget (--gpu-memory-utilization); 0 sizes from RAM.
    const uint64_t kv_cache_memory =
        options.kv_cache_memory > 0 ? options.kv_cache_memory : model_->kv_cache_budget_bytes();
    const llmatc_dtype kv_dtype = resolve_kv_cache_dtype(options.kv_cache_dtype, model_->weight_dtype());
    const int32_t n_blocks = plan_kv_blocks(desc, options.block_size, kv_dtype, max_model_len_, options.max_num_seqs,
                                            kv_cache_memory);
    kv_ = std::make_unique<KvCacheMemory>(model_->kernels(), desc, options.block_size, n_blocks, kv_dtype);
    metrics_.set_cache_config(kv_dtype_name(kv_dtype), options.block_size, n_blocks, kv_->bytes());
    blocks_ = std::make_unique<BlockManager>(n_blocks, options.block_size, options.enable_prefix_caching);
    device_sampler_ =
        std::make_unique<DeviceSampler>(model_->kernels(), model_->writes_device_logits(), desc.vocab_size);
    spdlog::info("engine: sampling {}", device_sampler_->available()
                                            ? std::string("with the ") + model_->kernels()->name +
                                                  " backend where a request allows it"
                                            : std::string("on the host"));
    scheduler_ = std::make_unique<Scheduler>(
        *blocks_, SchedulerConfig{options.max_num_seqs, options.max_num_batched_tokens});
    eos_ids_ = model_->eos_token_ids();
    chat_template_ = options.chat_template.empty() ? model_->chat_template() : options.chat_template;

    info_.struct_size = sizeof(info_);
    info_.abi_version = LLMATC_ABI_VERSION;
    info_.id = served_name_.c_str();
    info_.root = root_.c_str();
    info_.max_model_len = max_model_len_;
    info_.vocab_size = desc.vocab_size;
    info_.hidden_size = desc.hidden_size;
    info_.created = static_cast<int64_t>(std::time(nullptr));

    seed_source_.seed(std::random_device{}());
    fill_engine_api(this, &api_);
    update_gauges();
    spdlog::info("engine: serving '{}' (max_model_len {}, max_num_seqs {}, max_num_batched_tokens {}, prefix caching {}, "
                 "kv cache dtype {})",
                 served_name_, max_model_len_, options.max_num_seqs, options.max_num_batched_tokens,
                 options.enable_prefix_caching ? "on" : "off", kv_dtype_name(kv_->dtype()));
    step_thread_ = std::thread([this] { step_loop(); });
}

EngineImpl::~EngineImpl() { shutdown(); }

void EngineImpl::shutdown() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (step_thread_.joinable()) step_thread_.join();
}

const LoadedModel& EngineImpl::model_named(std::string_view name) const {
    if (!name.empty() && name != served_name_)
        throw Error(LLMATC_ERR_NOT_FOUND,
                    "The model '" + std::string(name) + "' does not exist (this server serves '" + served_name_ + "')");
    return *model_;
}

void EngineImpl::validate_tokens(std::span<const int32_t> tokens, bool for_generation) const {
    const int32_t n = static_cast<int32_t>(tokens.size());
    if (n == 0) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "the prompt is empty (0 tokens)");
    if (n > max_model_len_ || (for_generation && n >= max_model_len_))
        throw Error(LLMATC_ERR_INVALID_ARGUMENT,
                    "This model's maximum context length is " + std::to_string(max_model_len_) +
                        " tokens, but the prompt has " + std::to_string(n) + " tokens" +
                        (for_generation ? " (at least one more is needed to generate)" : ""));
    const int32_t vocab = model_->desc().vocab_size;
    for (int32_t i = 0; i < n; ++i)
        if (tokens[i] < 0 || tokens[i] >= vocab)
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "prompt token " + std::to_string(i) + " has id " +
                                                         std::to_string(tokens[i]) + ", outside the vocabulary [0, " +
                                                         std::to_string(vocab) + ")");
}

std::unique_ptr<Sequence> EngineImpl::make_sequence(std::span<const int32_t> tokens, SequenceKind kind) {
    auto seq = std::make_unique<Sequence>();
    seq->id = next_id_.fetch_add(1);
    seq->kind = kind;
    seq->tokens.assign(tokens.begin(), tokens.end());
    seq->n_prompt = static_cast<int32_t>(tokens.size());
    seq->arrival = Clock::now();
    return seq;
}

uint64_t EngineImpl::submit(const llmatc_request& request) {
    if (request.struct_size < sizeof(llmatc_request))
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "request: struct_size " + std::to_string(request.struct_size) +
                                                     " is smaller than " + std::to_string(sizeof(llmatc_request)));
    if (!request.callback) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "request: no output callback");
    const LoadedModel& model = model_named(request.model ? std::string_view(request.model, request.model_len)
                                                         : std::string_view());
    if (!request.sampling) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "request: no sampling parameters");
    if (request.n_prompt_tokens < 0 || (request.n_prompt_tokens > 0 && !request.prompt_tokens))
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "request: prompt token count without tokens");
    std::span<const int32_t> prompt(request.prompt_tokens, static_cast<size_t>(request.n_prompt_tokens));
    SamplingParams params = parse_sampling_params(*request.sampling, model.desc().vocab_size);
    validate_tokens(prompt, true);

    auto seq = make_sequence(prompt, SequenceKind::Generate);
    seq->max_new_tokens = std::min(params.max_tokens, max_model_len_ - seq->n_prompt);
    seq->n_top = std::max({params.logprobs, params.prompt_logprobs, 0});
    seq->may_use_prefix_cache = params.prompt_logprobs < 0;
    if (params.prompt_logprobs >= 0) {
        seq->prompt_logprobs.assign(static_cast<size_t>(seq->n_prompt), 0.0f);
        seq->prompt_top.assign(static_cast<size_t>(seq->n_prompt) * seq->n_top, llmatc_token_logprob{-1, 0.0f});
        seq->n_prompt_logprobs_done = 1;  // entry 0 has nothing before it: logprob 0, no alternatives (vLLM)
    }
    // The detokenizer needs only the prompt's tail to place the first word's space.
    const size_t ctx = std::min<size_t>(prompt.size(), 8);
    seq->detokenizer = std::make_unique<IncrementalDetokenizer>(model.tokenizer(), prompt.last(ctx),
                                                                params.skip_special_tokens);
    seq->stop_matcher = std::make_unique<StopMatcher>(params.stop, params.include_stop_str_in_output);
    seq->callback = request.callback;
    seq->user = request.user;
    const bool has_seed = params.has_seed;
    const uint64_t seed = params.seed;
    seq->params = std::move(params);

    const uint64_t id = seq->id;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) throw Error(LLMATC_ERR_UNAVAILABLE, "the engine is shutting down");
        const int64_t queued = static_cast<int64_t>(inbox_.size()) + n_waiting_seen_.load();
        if (queued >= options_.max_queue)
            throw Error(LLMATC_ERR_UNAVAILABLE, "the request queue is full (" + std::to_string(queued) +
                                                    " requests waiting); retry later");
        seq->rng.seed(has_seed ? seed : seed_source_());
        inbox_.push_back(std::move(seq));
    }
    wake_.notify_one();
    return id;
}

void EngineImpl::cancel(uint64_t request_id) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        cancels_.push_back(request_id);
    }
    wake_.notify_one();
}

std::vector<float> EngineImpl::embed(std::span<const int32_t> tokens) {
    validate_tokens(tokens, false);
    auto seq = make_sequence(tokens, SequenceKind::Embed);
    seq->may_use_prefix_cache = false;  // every row's hidden state is needed
    seq->embedding = std::make_shared<std::promise<std::vector<float>>>();
    auto result = seq->embedding->get_future();
    {
        std::lock_guard lock(mutex_);
        if (stopping_) throw Error(LLMATC_ERR_UNAVAILABLE, "the engine is shutting down");
        const int64_t queued = static_cast<int64_t>(inbox_.size()) + n_waiting_seen_.load();
        if (queued >= options_.max_queue)
            throw Error(LLMATC_ERR_UNAVAILABLE, "the request queue is full (" + std::to_string(queued) +
                                                    " requests waiting); retry later");
        inbox_.push_back(std::move(seq));
    }
    wake_.notify_one();
    return result.get();
}

void EngineImpl::step_loop() {
    for (;;) {
        std::vector<std::unique_ptr<Sequence>> incoming;
        std::vector<uint64_t> cancels;
        {
            std::unique_lock lock(mutex_);
            const bool busy = scheduler_->n_running() + scheduler_->n_waiting() > 0;
            wake_.wait(lock, [&] { return stopping_ || busy || !inbox_.empty() || !cancels_.empty(); });
            if (stopping_) break;
            // Counted as waiting from now on, so submit's queue limit sees them while they move over.
            n_waiting_seen_ = static_cast<int64_t>(scheduler_->n_waiting() + inbox_.size());
            incoming.swap(inbox_);
            cancels.swap(cancels_);
        }
        for (auto& seq : incoming) {
            Sequence* p = seq.get();
            sequences_.emplace(p->id, std::move(seq));
            scheduler_->add(p);
        }
        for (uint64_t id : cancels) {
            auto it = sequences_.find(id);
            if (it != sequences_.end()) emit(*it->second, -1, 0.0f, {}, std::string(), LLMATC_FINISH_ABORT);
        }
        std::vector<ScheduledSeq> scheduled = scheduler_->schedule();
        update_gauges();
        if (scheduled.empty()) {
            // Only possible when the queue cannot be served now; wait briefly instead of spinning.
            if (scheduler_->n_waiting() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
        }
        run_step(scheduled);
        update_gauges();
    }
    abort_everything();
}

void EngineImpl::run_step(const std::vector<ScheduledSeq>& scheduled) {
    const llmatc_model_desc& desc = model_->desc();
    step_batch_.build(scheduled, desc.vocab_size, desc.hidden_size);
    try {
        step_samples_on_device_ = prepare_device_sampling(scheduled);
        model_->forward(kv_->view(), step_batch_.batch());
        if (step_samples_on_device_) sample_on_device(scheduled);
        healthy_ = true;
    } catch (const std::exception& e) {
        healthy_ = false;
        spdlog::error("engine: model step failed ({} sequences, {} tokens): {}", scheduled.size(),
                      step_batch_.batch().n_tokens, e.what());
        fail_all(scheduled, std::string("model step failed: ") + e.what());
        return;
    }
    const auto& rows = step_batch_.seq_rows();
    for (size_t i = 0; i < scheduled.size(); ++i) {
        scheduler_->commit(scheduled[i]);
        after_row_outputs(scheduled[i], rows[i]);  // may retire the sequence
    }
}

void EngineImpl::after_row_outputs(const ScheduledSeq& s, const StepBatch::SeqRows& rows) {
    Sequence& seq = *s.seq;
    if (seq.kind == SequenceKind::Embed) {
        const int32_t hidden = model_->desc().hidden_size;
        if (rows.n_computed_before == 0) seq.hidden_sum.assign(static_cast<size_t>(hidden), 0.0);  // (re)start
        for (int32_t j = 0; j < s.n_new; ++j) {
            const float* h = step_batch_.hidden_of_row(rows.first_row + j);
            for (int32_t d = 0; d < hidden; ++d) seq.hidden_sum[d] += h[d];
        }
        if (seq.n_computed == seq.n_total()) finish_embedding(seq);
        return;
    }
    if (seq.wants_prompt_logprobs()) {
        for (int32_t j = 0; j < s.n_new; ++j) {
            const int32_t pos = rows.n_computed_before + j;
            if (pos + 1 < seq.n_prompt && pos + 1 >= seq.n_prompt_logprobs_done)
                record_prompt_logprobs(seq, pos, step_batch_.logits_of_row(rows.first_row + j));
        }
    }
    if (!rows.samples) return;
    const int32_t last_row = rows.first_row + s.n_new - 1;
    if (step_samples_on_device_)
        accept_token(seq, device_results_.at(static_cast<size_t>(step_batch_.logit_index_of_row(last_row))));
    else
        sample_next(seq, step_batch_.logits_of_row(last_row));
}

bool EngineImpl::prepare_device_sampling(const std::vector<ScheduledSeq>& scheduled) {
    const llmatc_batch& batch = step_batch_.batch();
    if (!device_sampler_->available() || batch.n_logit_rows == 0 || batch.hidden) return false;
    const auto& rows = step_batch_.seq_rows();
    int32_t n_sampling = 0;
    for (size_t i = 0; i < scheduled.size(); ++i) {
        const Sequence& seq = *scheduled[i].seq;
        if (seq.wants_prompt_logprobs() || (rows[i].samples && !samples_on_device(seq))) return false;
        n_sampling += rows[i].samples ? 1 : 0;
    }
    if (n_sampling != batch.n_logit_rows) return false;  // some logit row is not a sampling row
    step_batch_.use_device_logits(device_sampler_->logits_buffer(batch.n_logit_rows));
    return true;
}

void EngineImpl::sample_on_device(const std::vector<ScheduledSeq>& scheduled) {
    const int32_t n_rows = step_batch_.batch().n_logit_rows;
    std::vector<llmatc_sample_params> params(static_cast<size_t>(n_rows));
    const auto& rows = step_batch_.seq_rows();
    for (size_t i = 0; i < scheduled.size(); ++i) {
        if (!rows[i].samples) continue;
        Sequence& seq = *scheduled[i].seq;
        const SamplingParams& p = seq.params;
        const int32_t last_row = rows[i].first_row + scheduled[i].n_new - 1;
        const auto row = static_cast<size_t>(step_batch_.logit_index_of_row(last_row));
        // The host sampler draws once per non-greedy token; drawing the same way keeps seeded output the same.
        params.at(row) = sample_slot_params(p, p.greedy() ? 0.0 : uniform01(seq.rng));
    }
    std::vector<int32_t> tokens(static_cast<size_t>(n_rows));
    std::vector<float> logprobs(static_cast<size_t>(n_rows));
    device_sampler_->sample(params, tokens, logprobs);
    device_results_.assign(static_cast<size_t>(n_rows), SampleResult{});
    for (int32_t r = 0; r < n_rows; ++r) {
        device_results_[size_t(r)].token = tokens[size_t(r)];
        device_results_[size_t(r)].logprob = logprobs[size_t(r)];
    }
}

void EngineImpl::record_prompt_logprobs(Sequence& seq, int32_t position, const float* logits) {
    std::vector<float> lp;
    log_softmax({logits, static_cast<size_t>(model_->desc().vocab_size)}, lp);
    const size_t entry = static_cast<size_t>(position) + 1;
    seq.prompt_logprobs[entry] = lp[static_cast<size_t>(seq.tokens[entry])];
    auto top = top_logprobs(lp, seq.n_top);
    std::copy(top.begin(), top.end(), seq.prompt_top.begin() + static_cast<ptrdiff_t>(entry * seq.n_top));
    seq.n_prompt_logprobs_done = static_cast<int32_t>(entry) + 1;
}

std::string EngineImpl::flush_text(Sequence& seq, bool may_stop) {
    StopMatcher::Result r = seq.stop_matcher->push(seq.detokenizer->flush(), may_stop);
    return r.stopped ? r.text : r.text + seq.stop_matcher->flush();
}

void EngineImpl::sample_next(Sequence& seq, const float* logits) {
    const SamplingParams& p = seq.params;
    std::vector<int32_t> masked;
    if (seq.n_generated() < p.min_tokens) {
        if (!p.ignore_eos) masked = eos_ids_;
        masked.insert(masked.end(), p.stop_token_ids.begin(), p.stop_token_ids.end());
    }
    // Events carry one count of alternatives (n_top) for generated and prompt tokens alike.
    SampleResult r = sample_token({logits, static_cast<size_t>(model_->desc().vocab_size)}, p, seq.prompt(),
                                  seq.output(), masked, seq.n_top, seq.rng);
    accept_token(seq, r);
}

void EngineImpl::accept_token(Sequence& seq, const SampleResult& r) {
    const SamplingParams& p = seq.params;
    const Clock::time_point now = Clock::now();
    seq.tokens.push_back(r.token);
    metrics_.generation_tokens++;
    if (!seq.first_token_time) {
        seq.first_token_time = now;
        metrics_.time_to_first_token.observe(seconds(now - seq.arrival));
        metrics_.prompt_tokens += static_cast<uint64_t>(seq.n_prompt);
    } else {
        metrics_.time_per_output_token.observe(seconds(now - seq.last_token_time));
    }
    seq.last_token_time = now;
    seq.cumulative_logprob += r.logprob;

    const int32_t n_gen = seq.n_generated();
    const bool may_stop = n_gen >= p.min_tokens;
    const bool stop_token = (!p.ignore_eos && contains(eos_ids_, r.token)) || contains(p.stop_token_ids, r.token);
    std::string text;
    llmatc_finish_reason finish = LLMATC_FINISH_NONE;
    if (stop_token && may_stop) {
        // The stop token itself adds no text (vLLM); what was held back is final now.
        finish = LLMATC_FINISH_STOP;
        text = flush_text(seq, may_stop);
    } else {
        StopMatcher::Result m = seq.stop_matcher->push(seq.detokenizer->push(r.token), may_stop);
        text = std::move(m.text);
        if (m.stopped) {
            finish = LLMATC_FINISH_STOP;
        } else if (n_gen >= seq.max_new_tokens) {
            finish = LLMATC_FINISH_LENGTH;
            text += flush_text(seq, may_stop);
        }
    }
    emit(seq, r.token, r.logprob, r.top, text, finish);
}

void EngineImpl::finish_embedding(Sequence& seq) {
    std::vector<float> out(seq.hidden_sum.size());
    double norm = 0.0;
    for (size_t d = 0; d < out.size(); ++d) {
        const double mean = seq.hidden_sum[d] / seq.n_prompt;
        norm += mean * mean;
        out[d] = static_cast<float>(mean);
    }
    norm = std::sqrt(norm);
    if (norm > 0.0)
        for (float& v : out) v = static_cast<float>(v / norm);
    metrics_.prompt_tokens += static_cast<uint64_t>(seq.n_prompt);
    seq.embedding->set_value(std::move(out));
    seq.embedding.reset();
    retire(seq, LLMATC_FINISH_STOP);
}

void EngineImpl::emit(Sequence& seq, int32_t token, float logprob, const std::vector<llmatc_token_logprob>& top,
                      const std::string& text, llmatc_finish_reason finish, const char* error) {
    if (seq.callback) {
        llmatc_output_event ev{};
        ev.struct_size = sizeof(ev);
        ev.abi_version = LLMATC_ABI_VERSION;
        ev.request_id = seq.id;
        ev.text = text.data();
        ev.text_len = text.size();
        ev.n_tokens = token >= 0 ? 1 : 0;
        ev.token_ids = token >= 0 ? &token : nullptr;
        ev.logprobs = token >= 0 && seq.params.logprobs >= 0 ? &logprob : nullptr;
        ev.n_top = seq.n_top;
        ev.top_logprobs = token >= 0 && !top.empty() ? top.data() : nullptr;
        // Prompt logprobs go out once, with the first event, when they are all known.
        if (seq.wants_prompt_logprobs() && !seq.prompt_logprobs_sent && seq.n_prompt_logprobs_done >= seq.n_prompt) {
            ev.n_prompt_logprobs = seq.n_prompt;
            ev.prompt_logprobs = seq.prompt_logprobs.data();
            ev.prompt_top_logprobs = seq.n_top > 0 ? seq.prompt_top.data() : nullptr;
            seq.prompt_logprobs_sent = true;
        }
        ev.finish_reason = finish;
        ev.n_prompt_tokens = seq.n_prompt;
        ev.n_generated_tokens = seq.n_generated();
        ev.n_cached_prompt_tokens = std::max(seq.n_cached_prompt_tokens, 0);
        ev.cumulative_logprob = seq.cumulative_logprob;
        ev.error_message = finish == LLMATC_FINISH_ERROR ? (error ? error : "request failed") : nullptr;
        // A finished sequence's blocks are free (and the gauges say so) before its final event is delivered.
        if (finish != LLMATC_FINISH_NONE) release(seq, finish);
        seq.callback(&ev, seq.user);
    } else if (finish != LLMATC_FINISH_NONE) {
        release(seq, finish);
    }
    if (finish != LLMATC_FINISH_NONE) sequences_.erase(seq.id);  // destroys seq
}

void EngineImpl::retire(Sequence& seq, llmatc_finish_reason finish) {
    release(seq, finish);
    sequences_.erase(seq.id);  // destroys seq
}

void EngineImpl::release(Sequence& seq, llmatc_finish_reason finish) {
    metrics_.finish(finish);
    if (seq.kind == SequenceKind::Generate) metrics_.e2e_latency.observe(seconds(Clock::now() - seq.arrival));
    if (seq.embedding) {
        const bool aborted = finish == LLMATC_FINISH_ABORT;
        seq.embedding->set_exception(std::make_exception_ptr(
            Error(aborted ? LLMATC_ERR_CANCELLED : LLMATC_ERR_INTERNAL,
                  aborted ? "embedding cancelled: the engine is shutting down" : "embedding failed")));
        seq.embedding.reset();
    }
    scheduler_->remove(&seq);
    update_gauges();
}

void EngineImpl::fail_all(const std::vector<ScheduledSeq>& scheduled, const std::string& message) {
    for (const ScheduledSeq& s : scheduled) {
        if (s.seq->embedding) {
            s.seq->embedding->set_exception(std::make_exception_ptr(Error(LLMATC_ERR_INTERNAL, message)));
            s.seq->embedding.reset();
        }
        emit(*s.seq, -1, 0.0f, {}, std::string(), LLMATC_FINISH_ERROR, message.c_str());
    }
}

void EngineImpl::abort_everything() {
    {
        std::lock_guard lock(mutex_);
        for (auto& seq : inbox_) {
            Sequence* p = seq.get();
            sequences_.emplace(p->id, std::move(seq));
            scheduler_->add(p);
        }
        inbox_.clear();
    }
    std::vector<uint64_t> ids;
    for (const auto& [id, seq] : sequences_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (uint64_t id : ids) emit(*sequences_.at(id), -1, 0.0f, {}, std::string(), LLMATC_FINISH_ABORT);
    update_gauges();
}

void EngineImpl::update_gauges() {
    metrics_.running = static_cast<int64_t>(scheduler_->n_running());
    metrics_.waiting = static_cast<int64_t>(scheduler_->n_waiting());
    n_waiting_seen_ = static_cast<int64_t>(scheduler_->n_waiting());
    metrics_.blocks_total = blocks_->n_blocks();
    metrics_.blocks_free = blocks_->n_available();
    metrics_.blocks_in_use = blocks_->n_in_use();
    metrics_.prefix_cache_queries = scheduler_->prefix_queries();
    metrics_.prefix_cache_hits = scheduler_->prefix_hits();
    metrics_.preemptions = scheduler_->n_preemptions();
}

}  // namespace engine
}  // namespace llmatc
