/* llmatc/frontend.h — the frontend-plugin C ABI: the engine's services a protocol server calls, and the server's table. */
#ifndef LLMATC_FRONTEND_H
#define LLMATC_FRONTEND_H

#include "llmatc/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Per-request sampling and stopping parameters. Borrowed during submit (the engine copies what it keeps).
 * Fill with llmatc_engine_api.default_sampling first, then set what the request names. */
typedef struct llmatc_sampling_params {
    uint32_t struct_size;
    uint32_t abi_version;
    float temperature;          /* 0 = greedy */
    float top_p;                /* (0, 1]; 1 = off */
    int32_t top_k;              /* <= 0 = off */
    float min_p;                /* [0, 1]; 0 = off */
    int32_t has_seed;           /* 1 when seed is set: same seed, same tokens, whatever else is in the batch */
    uint64_t seed;
    float presence_penalty;     /* OpenAI semantics, [-2, 2] */
    float frequency_penalty;    /* OpenAI semantics, [-2, 2] */
    float repetition_penalty;   /* vLLM/HF semantics, > 0; 1 = off */
    int32_t n_logit_bias;
    const int32_t* logit_bias_ids;   /* [n_logit_bias] */
    const float* logit_bias_values;  /* [n_logit_bias], added to the logits */
    int32_t n_stop;
    const char* const* stop;         /* [n_stop] stop strings (UTF-8) */
    const size_t* stop_lens;         /* [n_stop] their byte lengths */
    int32_t n_stop_token_ids;
    const int32_t* stop_token_ids;   /* [n_stop_token_ids], in addition to the model's EOS ids */
    int32_t ignore_eos;              /* 1 = do not stop at EOS */
    int32_t min_tokens;              /* EOS and stop strings are ignored before this many tokens */
    int32_t max_tokens;              /* > 0; the engine clamps to the context left */
    int32_t logprobs;                /* -1 = none; k >= 0 = the chosen token's logprob and k top alternatives */
    int32_t prompt_logprobs;         /* -1 = none; k >= 0 = logprobs for prompt tokens too (echo + logprobs) */
    int32_t include_stop_str_in_output; /* 1 = keep a matched stop string in the text */
    int32_t skip_special_tokens;     /* 1 = special tokens (BOS/EOS...) produce no text (default 1) */
} llmatc_sampling_params;

typedef enum llmatc_finish_reason {
    LLMATC_FINISH_NONE = 0,    /* not finished */
    LLMATC_FINISH_STOP = 1,    /* EOS, stop token or stop string */
    LLMATC_FINISH_LENGTH = 2,  /* max_tokens or the context length */
    LLMATC_FINISH_ABORT = 3,   /* cancelled (client gone, shutdown) */
    LLMATC_FINISH_ERROR = 4    /* failed: see error_message */
} llmatc_finish_reason;

/* One candidate token with its log-probability. */
typedef struct llmatc_token_logprob {
    int32_t token_id;
    float logprob;
} llmatc_token_logprob;

/* What the engine reports for a request: new tokens and text, and at the end a finish reason.
 * Valid only during the callback. */
typedef struct llmatc_output_event {
    uint32_t struct_size;
    uint32_t abi_version;
    uint64_t request_id;
    const char* text;               /* new text since the last event (stop-string hold-back applied); UTF-8,
                                       never half a character */
    size_t text_len;
    int32_t n_tokens;               /* new tokens since the last event */
    const int32_t* token_ids;       /* [n_tokens] */
    const float* logprobs;          /* [n_tokens] logprob of each chosen token, or NULL when not asked */
    int32_t n_top;                  /* alternatives per token (the request's logprobs value), 0 when none */
    const llmatc_token_logprob* top_logprobs; /* [n_tokens * n_top], best first */
    /* Prompt logprobs, sent once in the first event when asked: entry i is for prompt token i (entry 0 has
     * logprob 0 and no alternatives, as in vLLM). */
    int32_t n_prompt_logprobs;
    const float* prompt_logprobs;                   /* [n_prompt_logprobs] */
    const llmatc_token_logprob* prompt_top_logprobs; /* [n_prompt_logprobs * n_top] */
    llmatc_finish_reason finish_reason; /* != NONE on the last event of the request */
    int32_t n_prompt_tokens;         /* the prompt's length */
    int32_t n_generated_tokens;      /* tokens generated so far (for usage) */
    int32_t n_cached_prompt_tokens;  /* prompt tokens served from the prefix cache */
    double cumulative_logprob;       /* sum of chosen tokens' logprobs so far */
    const char* error_message;       /* with LLMATC_FINISH_ERROR; NULL otherwise */
} llmatc_output_event;

/* Called by the engine on its own thread for each event of a request. Must return quickly and not call back into
 * submit/cancel of the same request synchronously (cancel from another thread is fine). */
typedef void (*llmatc_output_callback)(const llmatc_output_event* event, void* user);

/* A generation request. */
typedef struct llmatc_request {
    uint32_t struct_size;
    uint32_t abi_version;
    const char* model;            /* served model name (pointer, length); NULL = the only/default model */
    size_t model_len;
    const int32_t* prompt_tokens; /* [n_prompt_tokens], already tokenized (BOS included when wanted) */
    int32_t n_prompt_tokens;
    const llmatc_sampling_params* sampling;
    llmatc_output_callback callback;
    void* user;                   /* passed to callback */
} llmatc_request;

/* Facts about a served model. Strings owned by the engine, valid while it runs. */
typedef struct llmatc_model_info {
    uint32_t struct_size;
    uint32_t abi_version;
    const char* id;               /* served model name */
    const char* root;             /* where it came from (path or HF id) */
    int32_t max_model_len;
    int32_t vocab_size;
    int32_t hidden_size;          /* embedding width */
    int64_t created;              /* unix seconds when loaded */
} llmatc_model_info;

/* Receives bytes produced by the engine (text, JSON); valid only during the call. */
typedef void (*llmatc_bytes_callback)(const char* data, size_t len, void* user);

/* The engine as frontends see it (host service "engine"). All functions are thread-safe. Strings in are
 * borrowed (pointer, length) for the call. */
typedef struct llmatc_engine_api {
    uint32_t struct_size;
    uint32_t abi_version;
    void* engine; /* passed back as the first argument */

    /* Number of served models, and the i-th one's facts. */
    int32_t (*model_count)(void* engine);
    llmatc_status (*model_info)(void* engine, int32_t index, llmatc_model_info* out);

    /* Fills *out with the engine's defaults (temperature 1, top_p 1, max_tokens 16, logprobs -1 ...). */
    void (*default_sampling)(void* engine, llmatc_sampling_params* out);

    /* Tokenizes text. add_special = 1 adds BOS as the model's tokenizer config says. Writes up to `cap` ids to
     * `out` and the count to *n_out; when cap is too small returns LLMATC_ERR_OUT_OF_MEMORY with *n_out set to the
     * count needed. */
    llmatc_status (*tokenize)(void* engine, const char* model, size_t model_len, const char* text, size_t text_len,
                              int32_t add_special, int32_t* out, size_t cap, size_t* n_out);
    /* Decodes ids to text through `sink` (called once). An id out of range is LLMATC_ERR_INVALID_ARGUMENT. */
    llmatc_status (*detokenize)(void* engine, const char* model, size_t model_len, const int32_t* ids, size_t n,
                                int32_t skip_special, llmatc_bytes_callback sink, void* user);
    /* The text of one token as it reads in a stream (its piece with the leading-space marker as a space;
     * byte-fallback tokens as their raw byte), through `sink`. */
    llmatc_status (*token_text)(void* engine, const char* model, size_t model_len, int32_t id,
                                llmatc_bytes_callback sink, void* user);
    /* Renders a chat: `messages_json` is the OpenAI messages array as JSON text (roles system/user/assistant,
     * content a string or a list of {"type":"text","text":...}). `chat_template` (may be NULL) overrides the
     * model's template. The prompt text goes to `sink`. Errors (bad roles, template raise_exception) are
     * LLMATC_ERR_INVALID_ARGUMENT with the template's message. */
    llmatc_status (*apply_chat_template)(void* engine, const char* model, size_t model_len, const char* messages_json,
                                         size_t messages_json_len, int32_t add_generation_prompt,
                                         llmatc_bytes_callback sink, void* user);

    /* Queues a request; events arrive through request->callback, the last with a finish reason. Returns
     * LLMATC_ERR_UNAVAILABLE when the queue is full, LLMATC_ERR_INVALID_ARGUMENT (message says both numbers) when
     * the prompt does not fit the context, LLMATC_ERR_NOT_FOUND for an unknown model. On success *request_id is set
     * and the callback will be called at least once (its final event) unless the engine is destroyed first. */
    llmatc_status (*submit)(void* engine, const llmatc_request* request, uint64_t* request_id);
    /* Cancels a request: its KV blocks are freed at once and its final event has LLMATC_FINISH_ABORT. Unknown or
     * finished ids are ignored. */
    void (*cancel)(void* engine, uint64_t request_id);

    /* Embeds tokens: the mean of the final hidden states over the tokens, L2-normalised, into out[hidden_size].
     * Blocks until done. */
    llmatc_status (*embed)(void* engine, const char* model, size_t model_len, const int32_t* tokens, int32_t n,
                           float* out, size_t out_cap);

    /* Prometheus text exposition of the engine's metrics, through sink. */
    void (*metrics_text)(void* engine, llmatc_bytes_callback sink, void* user);
    /* 1 while the engine can serve, 0 when it is failing or shutting down. */
    int32_t (*healthy)(void* engine);
    /* The runtime's version string ("0.1.0"). */
    const char* (*version)(void* engine);
} llmatc_engine_api;

/* Options given to a frontend by `llm-atc serve`. Strings borrowed for the create call. */
typedef struct llmatc_frontend_config {
    uint32_t struct_size;
    uint32_t abi_version;
    const char* host;           /* bind address, e.g. "127.0.0.1" or "0.0.0.0" */
    uint16_t port;              /* 0 = pick a free port (read it back with bound_port) */
    const char* api_key;        /* NULL = no key required; otherwise Bearer token checked in constant time */
    const char* chat_template;  /* NULL, or a Jinja template text overriding the model's */
    int32_t n_threads;          /* I/O threads, >= 1 */
    uint64_t max_body_bytes;    /* request body limit (413 above it) */
    int32_t log_prompts;        /* 1 = request logs may include prompt text */
} llmatc_frontend_config;

typedef struct llmatc_frontend llmatc_frontend; /* opaque, owned by the plugin */

typedef struct llmatc_frontend_plugin {
    uint32_t struct_size;
    uint32_t abi_version;
    /* Creates a server bound to config->host:port (the socket is listening on return) serving `engine`, which
     * outlives it. *out is owned by the caller, freed with destroy. */
    llmatc_status (*create)(const llmatc_frontend_config* config, const llmatc_engine_api* engine,
                            llmatc_frontend** out);
    /* The port actually bound. */
    uint16_t (*bound_port)(const llmatc_frontend* frontend);
    /* Serves until stop is called; returns LLMATC_OK after a clean stop. Call from one thread. */
    llmatc_status (*run)(llmatc_frontend* frontend);
    /* Stops accepting, lets in-flight requests finish for up to grace_ms, then closes everything and makes run
     * return. Thread-safe; may be called from a signal-handling thread. */
    void (*stop)(llmatc_frontend* frontend, uint32_t grace_ms);
    void (*destroy)(llmatc_frontend* frontend);
} llmatc_frontend_plugin;

#ifdef __cplusplus
}
#endif

#endif /* LLMATC_FRONTEND_H */
