// core/runtime/loaded_model.h — one model ready to run: checkpoint + model plugin + tokenizer + kernel backend.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "llmatc/model.h"

namespace llmatc {

class Tokenizer;

struct ModelLoadOptions {
    std::string path;            // a local checkpoint directory (sources are resolved before this)
    std::string name;            // what the user called it (HF id or path), for plugin family matching
    std::string force_plugin;    // model plugin name, "" = match config.json
    std::string quantization;    // "" = keep checkpoint dtypes, "f32", "f16", "bf16", "q8_0", "q4_0", "q4_k"
    std::string device = "auto"; // "cpu" | "cuda" | "auto"
    int threads = 0;             // kernel threads, 0 = all cores (shared out evenly between CPU ranks)
    // Ranks of tensor parallelism: 1 = none; N > 1 splits the model over N ranks, one thread each, on CUDA devices
    // 0..N-1 (--device cuda, or auto where CUDA is) or on N CPU backends (core/runtime/tensor_parallel/).
    int tensor_parallel_size = 1;
    // On CUDA, the fraction of each device's memory free after loading the weights that the KV cache may take (when
    // the engine is not given a KV cache size); in (0, 1].
    double gpu_memory_utilization = 0.9;
};

// Thread-compatible: forward() from one thread at a time; the rest is const and thread-safe.
class LoadedModel {
public:
    // Loads everything; logs progress (spdlog). Throws llmatc::Error naming the file/tensor/architecture at fault.
    static std::unique_ptr<LoadedModel> load(const ModelLoadOptions& options);
    virtual ~LoadedModel() = default;

    virtual const llmatc_model_desc& desc() const = 0;
    virtual const llmatc_kernels* kernels() const = 0;
    virtual const Tokenizer& tokenizer() const = 0;
    // Stop ids from generation_config.json (else config.json, else the tokenizer's EOS).
    virtual const std::vector<int32_t>& eos_token_ids() const = 0;
    // The checkpoint's chat template, else the model plugin's built-in, else "".
    virtual const std::string& chat_template() const = 0;
    virtual const std::string& plugin_name() const = 0;
    virtual const std::string& path() const = 0;
    // The dtype the model's matrices are stored in: the --quantization asked for, else F32 when every matrix of
    // the checkpoint is F32 and otherwise its largest narrower matrix's (the engine's "auto" KV cache dtype
    // follows it: F32 only for F32 models).
    virtual llmatc_dtype weight_dtype() const = 0;

    // Runs one step (see llmatc_model_plugin.forward). Throws llmatc::Error on failure.
    // With tensor parallelism, desc().n_kv_heads is one rank's share and `cache` (allocated by the caller from
    // desc() on kernels()) is rank 0's; the other ranks keep mirrors of it with the same block ids
    // (tensor_parallel/rank_kv_caches.h). A caller uses one cache for all its steps.
    virtual void forward(const llmatc_kv_cache& cache, const llmatc_batch& batch) = 0;

    // The KV cache bytes to take when the user gave no size: on CUDA, gpu_memory_utilization of the memory free on
    // the device now (the smallest over tensor-parallel ranks; call it after loading, before allocating the
    // cache). 0 when the model is not on a device with its own memory: the caller then sizes from host RAM.
    virtual uint64_t kv_cache_budget_bytes() const { return 0; }

    // Whether forward() honours llmatc_batch.device_logits (the model plugin was built for ABI 1.1 or later).
    virtual bool writes_device_logits() const { return false; }
};

}  // namespace llmatc
