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
    int threads = 0;             // kernel threads, 0 = all cores
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

    // Runs one step (see llmatc_model_plugin.forward). Throws llmatc::Error on failure.
    virtual void forward(const llmatc_kv_cache& cache, const llmatc_batch& batch) = 0;
};

}  // namespace llmatc
