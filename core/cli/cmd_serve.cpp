// core/cli/cmd_serve.cpp — `llm-atc serve`: parses every ServeOptions flag (and -f YAML), then serves here or on a cluster.
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "cli/commands.h"
#include "cli/serve_options.h"
#include "deploy/deployment_file.h"
#include "deploy/envs.h"

namespace llmatc::cli {

namespace {

namespace po = boost::program_options;

// "1073741824", "512M", "512MiB", "2G", "2GB" → bytes (binary multiples, as memory sizes usually are).
uint64_t parse_byte_size(const std::string& text, const char* flag) {
    size_t used = 0;
    double value = 0;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || value < 0) {
        throw po::error(std::string(flag) + " must be a size in bytes, optionally with K, M or G (got '" + text + "')");
    }
    std::string unit = text.substr(used);
    for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();
    if (unit.size() > 1 && unit.back() == 'I') unit.pop_back();
    double multiplier = 1;
    if (unit.empty() || unit == "B") multiplier = 1;
    else if (unit == "K") multiplier = 1024.0;
    else if (unit == "M") multiplier = 1024.0 * 1024;
    else if (unit == "G") multiplier = 1024.0 * 1024 * 1024;
    else if (unit == "T") multiplier = 1024.0 * 1024 * 1024 * 1024;
    else throw po::error(std::string(flag) + ": unknown size unit in '" + text + "' (use K, M, G or T)");
    return static_cast<uint64_t>(value * multiplier);
}

bool is_loopback(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The flags, grouped as --help shows them. Values land in `raw` first; build_options() applies them over the
// defaults and the -f file, so explicit flags always win over the file.
struct RawFlags {
    std::string name, source, served_model_name, model_plugin, chat_template_file, quantization, device;
    std::string cluster, cloud, region, zone, accelerator, file;
    std::vector<std::string> envs;
    int idle_minutes = -1;
    std::string host, api_key;
    int port = 8000;
    int threads = 0, http_threads = 2, max_model_len = 0, max_num_seqs = 16, max_num_batched_tokens = 0;
    int tensor_parallel_size = 0;
    double gpu_memory_utilization = 0.9;
    std::string kv_cache_memory, kv_cache_dtype, max_body_bytes;
    int grace_seconds = 10;
};

po::options_description describe_flags(RawFlags& f) {
    po::options_description model("Model");
    // clang-format off
    model.add_options()
        ("name", po::value(&f.name), "what to serve: a local checkpoint directory, a Hugging Face id (org/name[@rev]), "
                                     "or llm-atc/<name> together with --source")
        ("source", po::value(&f.source), "where llm-atc/<name> lives: s3://bucket/prefix/, gs://bucket/prefix/ or a "
                                         "local directory")
        ("served-model-name", po::value(&f.served_model_name), "the model id clients send (default: --name)")
        ("model-plugin", po::value(&f.model_plugin), "force a model plugin (llama, vicuna); default: matched by "
                                                     "config.json's architectures")
        ("chat-template", po::value(&f.chat_template_file), "FILE holding a Jinja chat template that overrides the "
                                                            "model's")
        ("quantization", po::value(&f.quantization), "weight storage: q8_0, q4_0, q4_k, f16, bf16, f32 (default: the "
                                                     "checkpoint's dtypes; a GGUF file's F32/F16/BF16/Q8_0/"
                                                     "Q4_0/Q4_K/Q5_K/Q6_K tensors as they are)")
        ("device", po::value(&f.device), "cpu | cuda | auto (default auto)");
    po::options_description server("Server");
    server.add_options()
        ("host", po::value(&f.host), "bind address (default 127.0.0.1); a non-loopback address needs --api-key or "
                                     "--no-api-key")
        ("port", po::value(&f.port), "TCP port (default 8000; 0 = any free port, shown in the banner)")
        ("api-key", po::value(&f.api_key), "require 'Authorization: Bearer KEY' (/health and /metrics stay open); "
                                           "default: $LLMATC_API_KEY when set")
        ("no-api-key", "serve a non-loopback address without a key (anyone who can reach it can use it)")
        ("http-threads", po::value(&f.http_threads), "HTTP I/O threads (default 2)")
        ("max-body-bytes", po::value(&f.max_body_bytes), "largest request body, e.g. 8M (default 8 MiB; 413 above)")
        ("grace-seconds", po::value(&f.grace_seconds), "on SIGINT/SIGTERM, how long in-flight requests may finish "
                                                       "(default 10)")
        ("log-prompts", "let the request log include prompt text (off by default: prompts may be private)");
    po::options_description engine("Engine");
    engine.add_options()
        ("threads", po::value(&f.threads), "kernel threads (default 0 = all cores)")
        ("tensor-parallel-size", po::value(&f.tensor_parallel_size), "split the model over N ranks, one per GPU "
                                                                     "(default: the accelerator count, else 1)")
        ("gpu-memory-utilization", po::value(&f.gpu_memory_utilization), "on CUDA, the fraction of device memory "
                                                                         "free after the weights that the KV cache "
                                                                         "takes (default 0.9)")
        ("max-model-len", po::value(&f.max_model_len), "context length (default: the model's "
                                                       "max_position_embeddings)")
        ("max-num-seqs", po::value(&f.max_num_seqs), "most sequences in one batch (default 16)")
        ("max-num-batched-tokens", po::value(&f.max_num_batched_tokens), "most tokens in one step (0 = auto: 512 on the CPU, where larger prefill chunks gain nothing and "
         "cost activation memory; 2048 on a GPU)")
        ("kv-cache-memory", po::value(&f.kv_cache_memory), "KV cache size, e.g. 2G or 536870912 (default: a "
                                                           "fraction of free RAM)")
        ("kv-cache-dtype", po::value(&f.kv_cache_dtype), "KV cache element type: auto (F32 for F32 weights, else "
                                                         "F16), f32 or f16 (default auto)")
        ("enable-prefix-caching", "share KV blocks of common prompt prefixes (the default)")
        ("no-prefix-caching", "do not share KV blocks between requests");
    po::options_description cluster("Cluster (serve elsewhere; without -c or --cloud the model is served here)");
    cluster.add_options()
        ("cluster,c", po::value(&f.cluster), "cluster name: launched when new, reused when it exists")
        ("cloud", po::value(&f.cloud), "local | aws | gcp")
        ("region", po::value(&f.region), "cloud region")
        ("zone", po::value(&f.zone), "cloud zone")
        ("accelerator", po::value(&f.accelerator), "NAME[:COUNT], e.g. A100:1")
        ("envs", po::value(&f.envs)->composing(), "environment for the server, \"K=V K2='v 2'\" (shell quoting; "
                                                   "repeatable; values are never logged)")
        ("idle-minutes-to-autostop,i", po::value(&f.idle_minutes), "stop the cluster after this many idle minutes "
                                                                   "(default: never)")
        ("detach", "return once the server is up instead of following its log")
        ("dryrun", "print what would be done and exit")
        ("file,f", po::value(&f.file), "deployment YAML with the same keys as these flags (flags override it)");
    // clang-format on
    po::options_description all;
    all.add_options()("help,h", "show this help");
    all.add(model).add(server).add(engine).add(cluster);
    return all;
}

ServeOptions build_options(const RawFlags& f, const po::variables_map& vm) {
    ServeOptions o;
    if (vm.count("file")) deploy::apply_deployment_file(f.file, o);
    auto given = [&](const char* name) { return vm.count(name) > 0 && !vm[name].defaulted(); };

    if (given("name")) o.name = f.name;
    if (given("source")) o.source = f.source;
    if (given("served-model-name")) o.served_model_name = f.served_model_name;
    if (given("model-plugin")) o.model_plugin = f.model_plugin;
    if (given("chat-template")) o.chat_template_file = f.chat_template_file;
    if (given("quantization")) o.quantization = f.quantization;
    if (given("device")) o.device = f.device;
    if (given("cluster")) o.cluster = f.cluster;
    if (given("cloud")) o.cloud = f.cloud;
    if (given("region")) o.region = f.region;
    if (given("zone")) o.zone = f.zone;
    if (given("accelerator")) o.accelerator = f.accelerator;
    for (const auto& text : f.envs) deploy::parse_envs(text, o.envs);
    if (given("idle-minutes-to-autostop")) o.idle_minutes_to_autostop = f.idle_minutes;
    if (given("detach")) o.detach = true;
    if (given("dryrun")) o.dryrun = true;
    if (given("host")) o.host = f.host;
    if (given("port")) {
        if (f.port < 0 || f.port > 65535) throw po::error("--port must be in [0, 65535]");
        o.port = static_cast<uint16_t>(f.port);
    }
    if (given("api-key")) o.api_key = f.api_key;
    if (o.api_key.empty()) {
        if (const char* env = std::getenv("LLMATC_API_KEY"); env && *env) o.api_key = env;
    }
    if (given("no-api-key")) o.no_api_key = true;
    if (given("http-threads")) o.http_threads = f.http_threads;
    if (given("max-body-bytes")) o.max_body_bytes = parse_byte_size(f.max_body_bytes, "--max-body-bytes");
    if (given("grace-seconds")) o.grace_seconds = f.grace_seconds;
    if (given("log-prompts")) o.log_prompts = true;
    if (given("threads")) o.threads = f.threads;
    if (given("tensor-parallel-size")) o.tensor_parallel_size = f.tensor_parallel_size;
    if (given("gpu-memory-utilization")) o.gpu_memory_utilization = f.gpu_memory_utilization;
    if (given("max-model-len")) o.max_model_len = f.max_model_len;
    if (given("max-num-seqs")) o.max_num_seqs = f.max_num_seqs;
    if (given("max-num-batched-tokens")) o.max_num_batched_tokens = f.max_num_batched_tokens;
    if (given("kv-cache-memory")) o.kv_cache_memory = parse_byte_size(f.kv_cache_memory, "--kv-cache-memory");
    if (given("kv-cache-dtype")) o.kv_cache_dtype = f.kv_cache_dtype;
    if (given("enable-prefix-caching") && given("no-prefix-caching")) {
        throw po::error("give --enable-prefix-caching or --no-prefix-caching, not both");
    }
    if (given("enable-prefix-caching")) o.enable_prefix_caching = true;
    if (given("no-prefix-caching")) o.enable_prefix_caching = false;
    return o;
}

void check_options(const ServeOptions& o) {
    auto bad = [](const std::string& what) { throw po::error(what); };
    if (o.name.empty()) bad("give --name (a checkpoint directory, a Hugging Face id, or llm-atc/<name> with --source)");
    if (!o.api_key.empty() && o.no_api_key) bad("give --api-key or --no-api-key, not both");
    if (o.threads < 0) bad("--threads must be 0 (all cores) or positive");
    if (o.tensor_parallel_size < 0 || o.tensor_parallel_size > 64) bad("--tensor-parallel-size must be in [1, 64]");
    if (!(o.gpu_memory_utilization > 0.0 && o.gpu_memory_utilization <= 1.0))
        bad("--gpu-memory-utilization must be in (0, 1]");
    if (o.http_threads < 1 || o.http_threads > 256) bad("--http-threads must be in [1, 256]");
    if (o.max_model_len < 0) bad("--max-model-len must be 0 (the model's) or positive");
    if (o.max_num_seqs < 1) bad("--max-num-seqs must be at least 1");
    if (o.max_num_batched_tokens < 0) bad("--max-num-batched-tokens must be 0 (auto) or positive");
    if (o.grace_seconds < 0) bad("--grace-seconds must be 0 or more");
    if (o.max_body_bytes < 1024) bad("--max-body-bytes must be at least 1K");
    if (o.idle_minutes_to_autostop < -1) bad("--idle-minutes-to-autostop must be -1 (never) or more");
    if (o.device != "auto" && o.device != "cpu" && o.device != "cuda") bad("--device must be cpu, cuda or auto");
    if (o.kv_cache_dtype != "auto" && o.kv_cache_dtype != "f32" && o.kv_cache_dtype != "f16")
        bad("--kv-cache-dtype must be auto, f32 or f16 (got '" + o.kv_cache_dtype + "')");
    static const char* kQuantizations[] = {"", "f32", "f16", "bf16", "q8_0", "q4_0", "q4_k"};
    bool known = false;
    for (const char* q : kQuantizations) known = known || o.quantization == q;
    if (!known) bad("--quantization must be one of q8_0, q4_0, q4_k, f16, bf16, f32 (got '" + o.quantization + "')");
    if (!o.cloud.empty() && o.cloud != "local" && o.cloud != "aws" && o.cloud != "gcp") {
        bad("--cloud must be local, aws or gcp (got '" + o.cloud + "')");
    }
    const bool on_cluster = !o.cluster.empty() || !o.cloud.empty();
    if (!on_cluster) {
        if (!o.region.empty() || !o.zone.empty() || !o.accelerator.empty() || o.detach ||
            o.idle_minutes_to_autostop != -1) {
            bad("--region, --zone, --accelerator, --detach and --idle-minutes-to-autostop apply to a cluster: add "
                "-c NAME or --cloud");
        }
        // A server others can reach must not be open to anyone by accident.
        if (!is_loopback(o.host) && o.api_key.empty() && !o.no_api_key) {
            bad("--host " + o.host + " is reachable from other machines: set --api-key KEY (or $LLMATC_API_KEY), or "
                "pass --no-api-key to serve it without one");
        }
    }
}

void print_dryrun(const ServeOptions& o) {
    std::printf("would serve '%s'%s%s on http://%s:%u/v1 (served model name '%s')\n", o.name.c_str(),
                o.source.empty() ? "" : " from ", o.source.c_str(), o.host.c_str(), unsigned(o.port),
                (o.served_model_name.empty() ? o.name : o.served_model_name).c_str());
    const std::string batched_tokens =
        o.max_num_batched_tokens > 0 ? std::to_string(o.max_num_batched_tokens) : std::string("auto");
    std::printf("  engine: max-model-len %d, max-num-seqs %d, max-num-batched-tokens %s, kv-cache-memory %llu, "
                "kv-cache-dtype %s, prefix caching %s, threads %d\n",
                o.max_model_len, o.max_num_seqs, batched_tokens.c_str(),
                static_cast<unsigned long long>(o.kv_cache_memory), o.kv_cache_dtype.c_str(),
                o.enable_prefix_caching ? "on" : "off", o.threads);
    std::printf("  api key: %s\n", o.api_key.empty() ? "none" : "set");
}

}  // namespace

int cmd_serve(int argc, char** argv) {
    RawFlags raw;
    po::options_description flags = describe_flags(raw);
    po::positional_options_description positional;
    positional.add("name", 1);
    ServeOptions options;
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(flags).positional(positional).run(), vm);
        if (vm.count("help")) {
            std::cout << "Usage: llm-atc serve --name DIR|HF-ID [options]\n"
                         "       llm-atc serve -f deploy.yaml [options]\n\n"
                         "Serves a model behind an OpenAI-compatible API (/v1/completions, /v1/chat/completions,\n"
                         "/v1/embeddings, /v1/models, /tokenize, /detokenize, /health, /version, /metrics): here, in\n"
                         "the foreground until SIGINT/SIGTERM, or on a cluster with -c NAME / --cloud.\n"
                      << flags << "\n";
            return 0;
        }
        po::notify(vm);
        options = build_options(raw, vm);
        check_options(options);
    } catch (const po::error& e) {
        std::fprintf(stderr, "llm-atc serve: %s\n(see llm-atc serve --help)\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        // A bad --envs pair or deployment file: the message names it (never a value).
        std::fprintf(stderr, "llm-atc serve: %s\n", e.what());
        return 2;
    }

    if (!options.cluster.empty() || !options.cloud.empty()) return serve_on_cluster(options);
    if (options.dryrun) {
        print_dryrun(options);
        return 0;
    }
    return serve_foreground(options);
}

}  // namespace llmatc::cli
