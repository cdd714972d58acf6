// core/cli/cmd_generate.cpp — `llm-atc generate`: one prompt in, its continuation out (one request through the engine).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/continuation_text.h"
#include "cli/generate_parallel.h"
#include "engine/engine.h"
#include "engine/kv_cache.h"
#include "runtime/loaded_model.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace llmatc::cli {

namespace {

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

struct GenerateOptions {
    ModelLoadOptions load;
    std::string prompt;
    std::string prompt_ids;    // comma-separated token ids, instead of `prompt`
    int max_tokens = 64;
    double temperature = 1.0;  // 0 = greedy
    double top_p = 1.0;
    int top_k = 0;             // 0 (or -1) = no top-k cut
    std::optional<uint64_t> seed;
    bool json = false;
    bool timings = false;
    bool ignore_eos = false;   // benchmarks: generate exactly max_tokens
    std::string kv_cache_dtype = "auto";  // auto | f32 | f16 (see EngineOptions)
    std::string dump_logits;   // file for every prompt position's logits (JSON)
    int parallel = 0;          // sequences decoded together; 0 = as many as prompts given (1 without ';')
};

std::vector<int32_t> parse_id_list(const std::string& text) {
    std::vector<int32_t> ids;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        try {
            size_t used = 0;
            const long value = std::stol(item, &used);
            if (used != item.size() || value < 0 || value > INT32_MAX) throw std::invalid_argument(item);
            ids.push_back(int32_t(value));
        } catch (const std::exception&) {
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--prompt-ids: \"" + item + "\" is not a token id");
        }
    }
    return ids;
}

struct GenerationResult {
    std::vector<int32_t> prompt_ids;
    std::vector<int32_t> token_ids;
    std::string text;
    std::string finish_reason;
    double prompt_seconds = 0.0;
    double decode_seconds = 0.0;
    int decode_steps = 0;
    uint64_t kv_cache_bytes = 0;
};

// Writes logits[n_rows, vocab] (row i: the logits after prompt position i) as {"prompt_token_ids", "logits"}.
void dump_logits(const std::string& path, const std::vector<int32_t>& prompt_ids, const std::vector<float>& logits,
                 int32_t vocab) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw Error(LLMATC_ERR_IO, "--dump-logits: cannot write " + path);
    std::fputs("{\"prompt_token_ids\": [", f);
    for (size_t i = 0; i < prompt_ids.size(); ++i) std::fprintf(f, "%s%d", i ? ", " : "", prompt_ids[i]);
    std::fputs("],\n\"logits\": [", f);
    for (size_t row = 0; row < prompt_ids.size(); ++row) {
        std::fputs(row ? ",\n[" : "\n[", f);
        for (int32_t j = 0; j < vocab; ++j) std::fprintf(f, "%s%.9g", j ? ", " : "", double(logits[row * vocab + j]));
        std::fputs("]", f);
    }
    std::fputs("]}\n", f);
    if (std::fclose(f) != 0) throw Error(LLMATC_ERR_IO, "--dump-logits: cannot write " + path);
}

// Runs the prompt once through the model and writes every prompt position's raw logits (--dump-logits). A debugging
// aid outside the engine, which by design reports log-probabilities, not raw logits.
// The KV cache holds the prompt only, in `kv_dtype` elements, with the identity block table.
void dump_prompt_logits(LoadedModel& model, const std::vector<int32_t>& prompt_ids, const std::string& path,
                        llmatc_dtype kv_dtype) {
    const llmatc_model_desc& desc = model.desc();
    const int32_t n_prompt = int32_t(prompt_ids.size());
    constexpr int32_t kBlockSize = 16;
    const int32_t n_blocks = (n_prompt + kBlockSize - 1) / kBlockSize;
    engine::KvCacheMemory kv(model.kernels(), desc, kBlockSize, n_blocks, kv_dtype);
    std::vector<int32_t> block_table(static_cast<size_t>(n_blocks));
    std::iota(block_table.begin(), block_table.end(), 0);
    std::vector<int32_t> positions(n_prompt), logit_rows(n_prompt);
    std::iota(positions.begin(), positions.end(), 0);
    std::iota(logit_rows.begin(), logit_rows.end(), 0);
    std::vector<float> logits(size_t(n_prompt) * desc.vocab_size);
    llmatc_batch_seq seq{block_table.data(), n_blocks, 0, n_prompt, 0};
    llmatc_batch batch{};
    batch.struct_size = sizeof(batch);
    batch.abi_version = LLMATC_ABI_VERSION;
    batch.n_tokens = n_prompt;
    batch.token_ids = prompt_ids.data();
    batch.positions = positions.data();
    batch.n_seqs = 1;
    batch.seqs = &seq;
    batch.n_logit_rows = n_prompt;
    batch.logit_rows = logit_rows.data();
    batch.logits = logits.data();
    model.forward(kv.view(), batch);
    dump_logits(path, prompt_ids, logits, desc.vocab_size);
}

// What the engine reports for the one request, gathered on its step thread; streams text to stdout unless --json.
struct EngineOutput {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    bool stream = false;
    std::vector<int32_t> token_ids;
    llmatc_finish_reason finish = LLMATC_FINISH_NONE;
    std::string error;
    Clock::time_point first_token{}, last_token{};

    static void on_event(const llmatc_output_event* ev, void* user) {
        auto* out = static_cast<EngineOutput*>(user);
        const Clock::time_point now = Clock::now();
        std::lock_guard<std::mutex> lock(out->mutex);
        if (ev->n_tokens > 0) {
            if (out->token_ids.empty()) out->first_token = now;
            out->last_token = now;
            out->token_ids.insert(out->token_ids.end(), ev->token_ids, ev->token_ids + ev->n_tokens);
        }
        if (out->stream && ev->text_len > 0) {
            std::fwrite(ev->text, 1, ev->text_len, stdout);
            std::fflush(stdout);
        }
        if (ev->finish_reason != LLMATC_FINISH_NONE) {
            out->finish = ev->finish_reason;
            if (ev->error_message) out->error = ev->error_message;
            out->done = true;
            out->cv.notify_all();
        }
    }
};

// Generates through the serving engine (one request: the same scheduler, KV cache, sampler and stop handling that
// `serve` uses), until an EOS id, the token budget or the model's context length.
GenerationResult generate(std::unique_ptr<LoadedModel> model, const GenerateOptions& o) {
    const llmatc_model_desc& desc = model->desc();
    GenerationResult r;
    r.prompt_ids = o.prompt_ids.empty() ? model->tokenizer().encode(o.prompt, true) : parse_id_list(o.prompt_ids);
    const int32_t n_prompt = int32_t(r.prompt_ids.size());
    if (n_prompt == 0) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "the prompt encodes to no tokens");
    if (n_prompt >= desc.max_position_embeddings)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "the prompt has " + std::to_string(n_prompt) +
                                                     " tokens; the model's context is " +
                                                     std::to_string(desc.max_position_embeddings));
    for (int32_t id : r.prompt_ids)
        if (id >= desc.vocab_size)
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "prompt token id " + std::to_string(id) +
                                                         " is outside the vocabulary of " +
                                                         std::to_string(desc.vocab_size));
    const llmatc_dtype kv_dtype = engine::resolve_kv_cache_dtype(o.kv_cache_dtype, model->weight_dtype());
    if (!o.dump_logits.empty()) dump_prompt_logits(*model, r.prompt_ids, o.dump_logits, kv_dtype);
    const std::vector<int32_t> eos = model->eos_token_ids();

    // One sequence: a KV cache of exactly one full-context sequence, and the whole prompt in one step.
    EngineOptions eo;
    eo.served_model_name = o.load.path;
    eo.max_num_seqs = 1;
    eo.max_num_batched_tokens = std::max(2048, n_prompt);
    eo.max_model_len = desc.max_position_embeddings;
    eo.kv_cache_dtype = o.kv_cache_dtype;
    eo.kv_cache_memory = engine::kv_block_bytes(desc, eo.block_size, kv_dtype) *
                         uint64_t((eo.max_model_len + eo.block_size - 1) / eo.block_size);
    eo.enable_prefix_caching = false;
    r.kv_cache_bytes = uint64_t(engine::plan_kv_blocks(desc, eo.block_size, kv_dtype, eo.max_model_len,
                                                       eo.max_num_seqs, eo.kv_cache_memory)) *
                       engine::kv_block_bytes(desc, eo.block_size, kv_dtype);
    std::unique_ptr<Engine> engine = Engine::create(std::move(model), eo);
    const llmatc_engine_api* api = engine->api();

    llmatc_sampling_params sp{};
    api->default_sampling(api->engine, &sp);
    sp.temperature = float(o.temperature);
    sp.top_p = float(o.top_p);
    sp.top_k = o.top_k;
    sp.has_seed = o.seed ? 1 : 0;
    sp.seed = o.seed.value_or(0);
    sp.max_tokens = o.max_tokens;
    sp.ignore_eos = o.ignore_eos ? 1 : 0;

    EngineOutput out;
    out.stream = !o.json;
    llmatc_request req{};
    req.struct_size = sizeof(req);
    req.abi_version = LLMATC_ABI_VERSION;
    req.prompt_tokens = r.prompt_ids.data();
    req.n_prompt_tokens = n_prompt;
    req.sampling = &sp;
    req.callback = &EngineOutput::on_event;
    req.user = &out;
    uint64_t id = 0;
    const auto t0 = Clock::now();
    check_status(api->submit(api->engine, &req, &id), "generate");
    {
        std::unique_lock<std::mutex> lock(out.mutex);
        out.cv.wait(lock, [&] { return out.done; });
    }
    engine->shutdown();
    if (out.finish == LLMATC_FINISH_ERROR) throw Error(LLMATC_ERR_INTERNAL, "generation failed: " + out.error);
    if (out.stream) std::fputs("\n", stdout);

    r.token_ids = out.token_ids;
    r.finish_reason = out.finish == LLMATC_FINISH_STOP ? "stop" : "length";
    // The EOS id that ended generation is not part of the continuation.
    if (out.finish == LLMATC_FINISH_STOP && !r.token_ids.empty() &&
        std::find(eos.begin(), eos.end(), r.token_ids.back()) != eos.end())
        r.token_ids.pop_back();
    if (!out.token_ids.empty()) {
        r.prompt_seconds = std::chrono::duration<double>(out.first_token - t0).count();
        r.decode_seconds = std::chrono::duration<double>(out.last_token - out.first_token).count();
        r.decode_steps = int(out.token_ids.size()) - 1;
    }

    r.text = continuation_text(*api, r.prompt_ids, r.token_ids);
    return r;
}

std::string result_json(const GenerationResult& r, bool with_timings) {
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    auto ids = [&](const char* key, const std::vector<int32_t>& list) {
        w.Key(key);
        w.StartArray();
        for (int32_t id : list) w.Int(id);
        w.EndArray();
    };
    w.StartObject();
    ids("prompt_token_ids", r.prompt_ids);
    ids("token_ids", r.token_ids);
    w.Key("text");
    w.String(r.text.c_str(), rapidjson::SizeType(r.text.size()));
    w.Key("finish_reason");
    w.String(r.finish_reason.c_str());
    if (with_timings) {
        w.Key("timings");
        w.StartObject();
        w.Key("prompt_tokens");
        w.Int(int(r.prompt_ids.size()));
        w.Key("prompt_seconds");
        w.Double(r.prompt_seconds);
        w.Key("prompt_tokens_per_s");
        w.Double(r.prompt_seconds > 0 ? double(r.prompt_ids.size()) / r.prompt_seconds : 0.0);
        w.Key("generation_steps");
        w.Int(r.decode_steps);
        w.Key("generation_seconds");
        w.Double(r.decode_seconds);
        w.Key("generation_tokens_per_s");
        w.Double(r.decode_seconds > 0 ? double(r.decode_steps) / r.decode_seconds : 0.0);
        w.Key("kv_cache_bytes");
        w.Uint64(r.kv_cache_bytes);
        w.EndObject();
    }
    w.EndObject();
    return out.GetString();
}

void check_options(const GenerateOptions& o) {
    auto bad = [](const std::string& what) { throw po::error(what); };
    if (o.max_tokens < 1) bad("--max-tokens must be at least 1");
    if (!(o.temperature >= 0.0) || !std::isfinite(o.temperature)) bad("--temperature must be 0 or more");
    if (!(o.top_p > 0.0 && o.top_p <= 1.0)) bad("--top-p must be in (0, 1]");
    if (o.top_k < -1) bad("--top-k must be -1, 0 (no cut) or positive");
    if (o.load.threads < 0) bad("--threads must be 0 (all cores) or positive");
    if (o.kv_cache_dtype != "auto" && o.kv_cache_dtype != "f32" && o.kv_cache_dtype != "f16")
        bad("--kv-cache-dtype must be auto, f32 or f16 (got '" + o.kv_cache_dtype + "')");
    if (o.load.tensor_parallel_size < 1 || o.load.tensor_parallel_size > 64)
        bad("--tensor-parallel-size must be in [1, 64]");
    if (o.parallel < 0 || o.parallel > 1024) bad("--parallel must be in [1, 1024]");
    if (o.parallel > 1 && !o.dump_logits.empty()) bad("--dump-logits works with one sequence, not --parallel");
}

// The prompts of a --parallel run: --prompt-ids may hold several prompts separated by ';'. One prompt is decoded
// N times over; otherwise there must be exactly N prompts.
std::vector<std::vector<int32_t>> parallel_prompts(const GenerateOptions& o, const Tokenizer& tokenizer) {
    std::vector<std::vector<int32_t>> prompts;
    if (o.prompt_ids.empty()) {
        prompts.push_back(tokenizer.encode(o.prompt, true));
    } else {
        std::stringstream in(o.prompt_ids);
        std::string one;
        while (std::getline(in, one, ';')) prompts.push_back(parse_id_list(one));
    }
    const size_t n = o.parallel > 0 ? size_t(o.parallel) : prompts.size();
    if (prompts.size() == 1) prompts.resize(n, prompts.front());
    if (prompts.size() != n)
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--parallel " + std::to_string(n) + " needs 1 or " +
                                                     std::to_string(n) + " prompts in --prompt-ids, got " +
                                                     std::to_string(prompts.size()));
    return prompts;
}

int run_parallel(const GenerateOptions& o) {
    std::unique_ptr<LoadedModel> model = LoadedModel::load(o.load);
    ParallelGenerateOptions po;
    po.prompts = parallel_prompts(o, model->tokenizer());
    po.max_tokens = o.max_tokens;
    po.temperature = o.temperature;
    po.top_p = o.top_p;
    po.top_k = o.top_k;
    po.seed = o.seed;
    po.ignore_eos = o.ignore_eos;
    po.kv_cache_dtype = o.kv_cache_dtype;
    const ParallelGeneration result = generate_parallel(std::move(model), po);
    if (o.json) {
        std::printf("%s\n", parallel_result_json(result, o.timings).c_str());
    } else {
        for (size_t i = 0; i < result.sequences.size(); ++i)
            std::printf("[%zu] %s\n", i, result.sequences[i].text.c_str());
    }
    return 0;
}

}  // namespace

int cmd_generate(int argc, char** argv) {
    GenerateOptions o;
    std::string seed_text;
    po::options_description flags(
        "Usage: llm-atc generate --model DIR --prompt TEXT [options]\n\n"
        "Generates a continuation of one prompt with a local checkpoint and prints it (streamed), or with --json\n"
        "one object {\"prompt_token_ids\", \"token_ids\", \"text\", \"finish_reason\"}. Generation stops at any\n"
        "eos_token_id of generation_config.json (finish_reason \"stop\") or after --max-tokens (\"length\").\n\n"
        "Options");
    // clang-format off
    flags.add_options()
        ("help,h", "show this help")
        ("model,m", po::value(&o.load.path)->required(), "checkpoint directory (config.json, weights, tokenizer.model)")
        ("prompt,p", po::value(&o.prompt), "the prompt text (BOS is added as tokenizer_config.json says)")
        ("prompt-ids", po::value(&o.prompt_ids), "the prompt as comma-separated token ids, used as given "
                                                  "(instead of --prompt)")
        ("max-tokens,n", po::value(&o.max_tokens)->default_value(64), "most tokens to generate")
        ("temperature,t", po::value(&o.temperature)->default_value(1.0, "1.0"), "sampling temperature; 0 = greedy")
        ("top-p", po::value(&o.top_p)->default_value(1.0, "1.0"), "nucleus sampling: keep the most likely tokens "
                                                                  "up to this total probability")
        ("top-k", po::value(&o.top_k)->default_value(0), "keep only the K most likely tokens (0 or -1: all)")
        ("seed", po::value(&seed_text), "random seed for sampling (default: random)")
        ("threads", po::value(&o.load.threads)->default_value(0), "kernel threads (0 = all cores)")
        ("model-plugin", po::value(&o.load.force_plugin), "force a model plugin by name (llama, vicuna); "
                                                          "default: matched by config.json")
        ("quantization", po::value(&o.load.quantization), "weight storage: f32, f16, bf16, q8_0, q4_0, q4_k "
                                                          "(default: the checkpoint's dtypes; a GGUF file's "
                                                          "F32/F16/BF16/Q8_0/Q4_0/Q4_K/Q5_K/Q6_K tensors as "
                                                          "they are)")
        ("device", po::value(&o.load.device)->default_value("auto"), "cpu | cuda | auto")
        ("kv-cache-dtype", po::value(&o.kv_cache_dtype)->default_value("auto"), "KV cache element type: auto "
                                                                                 "(F32 for F32 weights, else F16), "
                                                                                 "f32 or f16")
        ("tensor-parallel-size", po::value(&o.load.tensor_parallel_size)->default_value(1),
         "split the model over N ranks (one per GPU, or N CPU ranks sharing the cores)")
        ("json", po::bool_switch(&o.json), "print one JSON object instead of the streamed text")
        ("timings", po::bool_switch(&o.timings), "with --json: add \"timings\" (prompt and generation tokens/s)")
        ("ignore-eos", po::bool_switch(&o.ignore_eos), "do not stop at EOS ids: generate exactly --max-tokens "
                                                      "(for benchmarks)")
        ("parallel", po::value(&o.parallel), "decode N sequences together as one batch: the prompt N times, or N "
                                             "prompts given as --prompt-ids 'IDS;IDS;...' (default: one per prompt); "
                                             "--json prints {\"parallel\", \"sequences\": [...]} and --timings the "
                                             "aggregate tokens/s of the steps where all N decode")
        ("dump-logits", po::value(&o.dump_logits), "debugging: write the logits after every prompt position to "
                                                   "FILE as JSON {\"prompt_token_ids\", \"logits\"} (the last row "
                                                   "is the first generated token's)");
    // clang-format on
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, flags), vm);
        if (vm.count("help")) {
            std::cout << flags << "\n";
            return 0;
        }
        po::notify(vm);
        if (!vm.count("prompt") && !vm.count("prompt-ids")) throw po::error("give --prompt TEXT (or --prompt-ids)");
        if (vm.count("prompt") && vm.count("prompt-ids")) throw po::error("give --prompt or --prompt-ids, not both");
        if (vm.count("parallel") && o.parallel < 1) throw po::error("--parallel must be in [1, 1024]");
        if (!seed_text.empty()) {
            size_t used = 0;
            try {
                o.seed = std::stoull(seed_text, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != seed_text.size()) throw po::error("--seed must be a non-negative integer");
        }
        check_options(o);
    } catch (const po::error& e) {
        std::fprintf(stderr, "llm-atc generate: %s\n(see llm-atc generate --help)\n", e.what());
        return 2;
    }

    o.load.name = o.load.path;
    if (o.parallel > 1 || o.prompt_ids.find(';') != std::string::npos) return run_parallel(o);
    const GenerationResult result = generate(LoadedModel::load(o.load), o);
    if (o.json) std::printf("%s\n", result_json(result, o.timings).c_str());
    spdlog::debug("generated {} tokens ({})", result.token_ids.size(), result.finish_reason);
    return 0;
}

}  // namespace llmatc::cli
