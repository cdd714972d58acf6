/* llmatc/model.h — the model-plugin C ABI: match a checkpoint, build a model from its tensors, run one engine step. */
#ifndef LLMATC_MODEL_H
#define LLMATC_MODEL_H

#include "llmatc/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The checkpoint's tensors, offered by the host (safetensors, PyTorch .bin or GGUF, all memory-mapped or loaded
 * by the core). Valid until the model that was created from it is destroyed. Thread-safe. */
typedef struct llmatc_tensor_source {
    uint32_t struct_size;
    uint32_t abi_version;
    void* ctx; /* passed back to get/has */
    /* Fills *out for the tensor named `name` (NUL-terminated, e.g. "model.layers.0.self_attn.q_proj.weight").
     * Returns LLMATC_ERR_NOT_FOUND with a message naming the tensor and the checkpoint when it is absent. */
    llmatc_status (*get)(void* ctx, const char* name, llmatc_tensor_view* out);
    /* 1 when the tensor exists, 0 otherwise. */
    int (*has)(void* ctx, const char* name);
    /* Since 1.2 (absent from a smaller struct_size; may be NULL): the caller has made its weight from the view `get`
     * gave it for `name`. A LLMATC_TENSOR_TRANSIENT copy is freed once every get of it has been released, so a
     * model's load holds one such copy at a time, not all of them; other views stay valid (a weight kept zero-copy
     * still reads them), but the source may let their resident file pages go (they fault back in if read). */
    void (*release)(void* ctx, const char* name);
} llmatc_tensor_source;

/* Everything a model plugin needs to build a model. Borrowed for the call except where stated. */
typedef struct llmatc_model_load_params {
    uint32_t struct_size;
    uint32_t abi_version;
    const char* model_dir;                /* the checkpoint directory (for messages) */
    const char* config_json;              /* config.json's text */
    size_t config_json_len;
    const llmatc_tensor_source* tensors;  /* must outlive the model (the host guarantees it) */
    const llmatc_kernels* kernels;        /* the backend to prepare weights on and compute with; outlives the model */
    llmatc_dtype weight_storage;          /* requested weight storage: a dtype, or -1 to keep each tensor's own */
} llmatc_model_load_params;

/* What the engine needs to know about a created model. */
typedef struct llmatc_model_desc {
    uint32_t struct_size;
    uint32_t abi_version;
    const char* architecture;       /* the config.json architecture it was built for; model-owned storage */
    int32_t vocab_size;             /* rows of the logits */
    int32_t hidden_size;            /* columns of llmatc_batch.hidden */
    int32_t n_layers;               /* KV cache layers */
    int32_t n_kv_heads;             /* KV cache heads per layer */
    int32_t head_dim;               /* KV cache head width */
    int32_t max_position_embeddings;/* the trained context length (the engine's default max_model_len) */
    uint64_t weight_bytes;          /* bytes of prepared weights in backend memory */
    uint64_t bytes_read_per_token;  /* weight bytes one decode step reads (the bandwidth bound's numerator) */
} llmatc_model_desc;

typedef struct llmatc_model llmatc_model; /* opaque, owned by the plugin */

typedef struct llmatc_model_plugin {
    uint32_t struct_size;
    uint32_t abi_version;

    /* config.json `architectures` strings this plugin handles (aliases included), NULL-terminated; static. */
    const char* const* architectures;

    /* Scores how well the plugin fits a checkpoint: 0 = cannot serve it; otherwise higher wins (the generic
     * architecture match scores 100; a plugin that also recognises the model family by name scores more).
     * `model_name` is what the user named (HF id or path), for family matching. May be NULL: then the host
     * scores 100 for a listed architecture and 0 otherwise. Thread-safe, no side effects. */
    int32_t (*probe)(const char* config_json, size_t config_json_len, const char* model_name, size_t model_name_len);

    /* Builds a model: parses the config, prepares every weight on params->kernels. On failure returns a status and
     * sets a message naming the file and the tensor at fault. *out is owned by the caller, freed with destroy. */
    llmatc_status (*create)(const llmatc_model_load_params* params, llmatc_model** out);
    void (*destroy)(llmatc_model* model);

    /* Fills *out (struct_size set by the caller). Strings stay valid while the model lives. */
    llmatc_status (*describe)(const llmatc_model* model, llmatc_model_desc* out);

    /* Runs one engine step: writes the batch's keys/values into `cache`, fills batch->logits (and ->hidden when
     * asked). Called from one thread at a time per model. */
    llmatc_status (*forward)(llmatc_model* model, const llmatc_kv_cache* cache, const llmatc_batch* batch);

    /* The family's built-in chat template in Jinja (the syntax of tokenizer_config.json's chat_template), used
     * when the checkpoint has none; NULL when the plugin has none. Static storage. */
    const char* chat_template;
} llmatc_model_plugin;

#ifdef __cplusplus
}
#endif

#endif /* LLMATC_MODEL_H */
