// core/cli/serve_options.h — everything `llm-atc serve` can be told (flags, or a deployment YAML file).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace llmatc::cli {

struct ServeOptions {
    // What to serve.
    std::string name;               // HF id, local checkpoint dir, or llm-atc/<name> (then `source` is required)
    std::string source;             // s3://..., gs://... or a local dir for llm-atc/<name>
    std::string served_model_name;  // default: name
    std::string model_plugin;       // force a model plugin ("llama", "vicuna"); default: matched by config.json
    std::string chat_template_file; // overrides the model's chat template
    std::string quantization;       // "", "q8_0", "q4_0", "q4_k"
    std::string device = "auto";    // cpu | cuda | auto
    int tensor_parallel_size = 0;   // ranks; 0 = the accelerator count on a cluster (1 without one)
    double gpu_memory_utilization = 0.9;  // on CUDA: the KV cache's fraction of device memory free after weights

    // Where to serve.
    std::string cluster;            // -c/--cluster; empty = foreground on this machine
    std::string cloud;              // local | aws | gcp; empty = local
    std::string region, zone;
    std::string accelerator;        // NAME[:COUNT]
    std::map<std::string, std::string> envs;  // --envs "K=V K2=V2" (secrets: never log values)
    int idle_minutes_to_autostop = -1;        // -1 = never
    bool detach = false;
    bool dryrun = false;

    // The server.
    std::string host = "127.0.0.1";
    uint16_t port = 8000;
    std::string api_key;            // empty = none
    bool no_api_key = false;        // allow a public address without a key
    int threads = 0;                // kernel threads; 0 = all cores
    int http_threads = 2;
    int max_model_len = 0;          // 0 = the model's max_position_embeddings
    int max_num_seqs = 16;
    int max_num_batched_tokens = 0;  // 0 = auto: 512 when the model runs on the CPU, 2048 on a GPU
    uint64_t kv_cache_memory = 0;   // bytes; 0 = a fraction of free RAM
    std::string kv_cache_dtype = "auto";  // auto (F32 for F32 weights, else F16) | f32 | f16
    bool enable_prefix_caching = true;
    uint64_t max_body_bytes = 8 << 20;
    int grace_seconds = 10;
    bool log_prompts = false;
};

// Serves in the foreground on this machine until SIGINT/SIGTERM; returns the exit code (core/cli/serve_foreground.cpp).
int serve_foreground(const ServeOptions& options);

// Launches (or reuses) a cluster and starts the server on it; returns the exit code (core/deploy/serve_on_cluster.cpp).
int serve_on_cluster(const ServeOptions& options);

}  // namespace llmatc::cli
