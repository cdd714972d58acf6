// core/engine/engine.h — the serving engine: request queue, continuous-batching scheduler, paged KV cache, sampling.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "llmatc/frontend.h"

namespace llmatc {

class LoadedModel;

struct EngineOptions {
    std::string served_model_name;     // the id clients use; default: the model path/name
    std::string chat_template;         // overrides the model's (a Jinja text), "" = model's
    int max_model_len = 0;             // 0 = the model's max_position_embeddings
    int max_num_seqs = 16;             // sequences in the running batch
    int max_num_batched_tokens = 2048; // tokens per step (prefill chunks + decodes)
    int block_size = 16;               // tokens per KV block
    uint64_t kv_cache_memory = 0;      // bytes for the KV cache; 0 = a fraction of free RAM
    std::string kv_cache_dtype = "auto";  // "auto" (F32 for F32 weights, else F16), "f32" or "f16"
    bool enable_prefix_caching = true;
    int max_queue = 1024;              // waiting requests before submit answers UNAVAILABLE
};

// Owns the model and a step thread that runs until shutdown. Thread-safe through its api().
class Engine {
public:
    // Throws llmatc::Error when the KV cache cannot hold one max_model_len sequence (the message gives both sizes).
    static std::unique_ptr<Engine> create(std::unique_ptr<LoadedModel> model, const EngineOptions& options);
    virtual ~Engine() = default;

    // The C table frontends use; valid while the engine lives.
    virtual const llmatc_engine_api* api() const = 0;
    // Aborts whatever is still running (final events with LLMATC_FINISH_ABORT) and stops the step thread.
    virtual void shutdown() = 0;
};

}  // namespace llmatc
