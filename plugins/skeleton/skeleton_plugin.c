/* plugins/skeleton/skeleton_plugin.c — the starting point for a third-party model plugin: a complete, honest
 * llmatc_model_plugin table for the architecture "SkeletonForCausalLM" that recognises its checkpoints and says,
 * when asked to build one, that it is only a template. Copy this folder, rename it, and fill in create/forward.
 *
 * Written in C so it builds with nothing but the installed headers (`pkg-config --cflags llmatc-plugin`). A plugin
 * written in C++ follows the same shape; it must catch every exception inside each function of its table. */
#include <stdlib.h>
#include <string.h>

#include <llmatc/model.h>
#include <llmatc/plugin_export.h>

#define SKELETON_NAME "skeleton"
#define SKELETON_ARCHITECTURE "SkeletonForCausalLM"

/* The host table, kept by LLMATC_PLUGIN_DEFINE when the entry function succeeds; valid for the process life. */
static const llmatc_host* g_host;

/* The config.json `architectures` strings this plugin serves (aliases would follow), NULL-terminated. */
static const char* const k_architectures[] = {SKELETON_ARCHITECTURE, NULL};

/* Sets the calling thread's error message through the host and returns `status`, so failures read
 * `return fail(LLMATC_ERR_..., "...")`. */
static llmatc_status fail(llmatc_status status, const char* message) {
    if (g_host && g_host->set_error) g_host->set_error(message, strlen(message));
    return status;
}

static void log_debug(const char* message) {
    if (g_host && g_host->log) g_host->log(LLMATC_LOG_DEBUG, SKELETON_NAME, message, strlen(message));
}

/* A real plugin keeps its hyper-parameters and prepared weights here. Owned by the plugin: created by create,
 * freed by destroy. */
struct llmatc_model {
    llmatc_model_desc desc;
};

/* Moves *p past JSON whitespace within [*, end). */
static void skip_space(const char** p, const char* end) {
    while (*p < end && (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')) ++*p;
}

/* Reads the JSON string starting at *p (which points at its opening quote) and moves *p past its closing quote.
 * Sets *start / *len to the raw (still escaped) contents. Returns 0 when the string is unterminated. */
static int read_json_string(const char** p, const char* end, const char** start, size_t* len) {
    const char* s = *p + 1;
    const char* q = s;
    while (q < end && *q != '"') q += (*q == '\\' && q + 1 < end) ? 2 : 1;
    if (q >= end) return 0;
    *start = s;
    *len = (size_t)(q - s);
    *p = q + 1;
    return 1;
}

/* 1 when config.json's top-level "architectures" array holds one of k_architectures. A real plugin would parse
 * config.json with a JSON library; this scan is enough for the one array a probe needs and never reads past
 * `len`. (A key named "architectures" nested deeper would also be seen: the probe only scores, create decides.) */
static int config_lists_our_architecture(const char* json, size_t len) {
    static const char key[] = "\"architectures\"";
    const char* end = json + len;
    const char* p = json;
    while (p + sizeof(key) - 1 <= end) {
        if (memcmp(p, key, sizeof(key) - 1) != 0) {
            ++p;
            continue;
        }
        p += sizeof(key) - 1;
        skip_space(&p, end);
        if (p >= end || *p != ':') continue;
        ++p;
        skip_space(&p, end);
        if (p >= end || *p != '[') continue;
        ++p;
        for (;;) {
            const char* s;
            size_t n;
            size_t i;
            skip_space(&p, end);
            if (p >= end || *p != '"' || !read_json_string(&p, end, &s, &n)) break;
            for (i = 0; k_architectures[i]; ++i)
                if (strlen(k_architectures[i]) == n && memcmp(k_architectures[i], s, n) == 0) return 1;
            skip_space(&p, end);
            if (p < end && *p == ',') ++p;
        }
    }
    return 0;
}

/* Scores a checkpoint: 100 (the generic architecture match) when config.json names SkeletonForCausalLM, else 0.
 * A plugin that also recognises its family by `model_name` may score more. No side effects; thread-safe. */
static int32_t skeleton_probe(const char* config_json, size_t config_json_len, const char* model_name,
                              size_t model_name_len) {
    (void)model_name;
    (void)model_name_len;
    if (!config_json) return 0;
    return config_lists_our_architecture(config_json, config_json_len) ? 100 : 0;
}

/* Builds a model. A real plugin parses params->config_json into hyper-parameters, fetches each tensor with
 * params->tensors->get (checking dtype and shape, naming the tensor in any error), prepares it with
 * params->kernels->weight_create, and fills the model's desc. The skeleton has no forward pass, so it refuses. */
static llmatc_status skeleton_create(const llmatc_model_load_params* params, llmatc_model** out) {
    if (!params || !out) return fail(LLMATC_ERR_INVALID_ARGUMENT, "skeleton create: params and out must not be NULL");
    *out = NULL;
    if (params->struct_size < sizeof(llmatc_model_load_params))
        return fail(LLMATC_ERR_INVALID_ARGUMENT, "skeleton create: llmatc_model_load_params is older than this plugin");
    log_debug("create called; the skeleton is a template and builds no model");
    return fail(LLMATC_ERR_UNSUPPORTED,
                "the skeleton plugin is a template for writing model plugins and cannot build a model "
                "(architecture " SKELETON_ARCHITECTURE "): copy plugins/skeleton, rename it and implement "
                "create, describe and forward (see plugins/README.md)");
}

/* Frees a model made by create. NULL is allowed. */
static void skeleton_destroy(llmatc_model* model) { free(model); }

/* Copies the model's description into *out, as much of it as the caller's struct_size has room for (an older
 * host knows a shorter struct). */
static llmatc_status skeleton_describe(const llmatc_model* model, llmatc_model_desc* out) {
    uint32_t caller_size;
    if (!model || !out) return fail(LLMATC_ERR_INVALID_ARGUMENT, "skeleton describe: model and out must not be NULL");
    caller_size = out->struct_size;
    memcpy(out, &model->desc, caller_size < sizeof(model->desc) ? caller_size : sizeof(model->desc));
    out->struct_size = caller_size;
    return LLMATC_OK;
}

/* One engine step: a real plugin embeds batch->tokens, runs its layers through the host's kernels (writing this
 * step's keys and values into `cache` at the slots the block tables give) and writes batch->logits. */
static llmatc_status skeleton_forward(llmatc_model* model, const llmatc_kv_cache* cache, const llmatc_batch* batch) {
    (void)model;
    (void)cache;
    (void)batch;
    return fail(LLMATC_ERR_UNSUPPORTED, "the skeleton plugin has no forward pass (it is a template)");
}

static const llmatc_model_plugin k_skeleton_table = {
    sizeof(llmatc_model_plugin), /* struct_size */
    LLMATC_ABI_VERSION,          /* abi_version */
    k_architectures,             /* architectures */
    skeleton_probe,              /* probe (may be NULL: then the host matches `architectures` itself) */
    skeleton_create,             /* create */
    skeleton_destroy,            /* destroy */
    skeleton_describe,           /* describe */
    skeleton_forward,            /* forward */
    NULL                         /* chat_template: none; a chat model family would give its Jinja template */
};

/* The one exported symbol: negotiates the ABI and describes the plugin. The file must be named
 * libllmatc-model-skeleton.so (libllmatc-<kind>-<name>.so, the name matching the one given here). */
LLMATC_PLUGIN_DEFINE(g_host, LLMATC_PLUGIN_MODEL, SKELETON_NAME, "0.1.0",
                     "Template for third-party model plugins (SkeletonForCausalLM); serves nothing",
                     &k_skeleton_table)
