/* llmatc/plugin.h — the stable C ABI shared by every llm-atc plugin: versions, status codes, host services, entry. */
#ifndef LLMATC_PLUGIN_H
#define LLMATC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version: major in the high 16 bits, minor in the low 16 bits.
 * A plugin built for (major M, minor m) loads into a host of (M, n) when m <= n.
 * Structs only grow at their end; fields added later are marked "since 1.x". */
#define LLMATC_ABI_VERSION_MAJOR 1
#define LLMATC_ABI_VERSION_MINOR 2
#define LLMATC_MAKE_VERSION(major, minor) ((uint32_t)(((major) << 16) | ((minor) & 0xffff)))
#define LLMATC_VERSION_MAJOR(v) ((uint32_t)(v) >> 16)
#define LLMATC_VERSION_MINOR(v) ((uint32_t)(v) & 0xffff)
#define LLMATC_ABI_VERSION LLMATC_MAKE_VERSION(LLMATC_ABI_VERSION_MAJOR, LLMATC_ABI_VERSION_MINOR)

/* Name of the one symbol every plugin exports (see plugin_export.h for the macro that defines it). */
#define LLMATC_PLUGIN_ENTRY_SYMBOL "llmatc_plugin_entry"

/* Status codes returned by every ABI function. 0 is success; the message for a failure is set through
 * llmatc_host.set_error on the calling thread before returning. */
typedef enum llmatc_status {
    LLMATC_OK = 0,
    LLMATC_ERR_INVALID_ARGUMENT = 1, /* the caller passed something malformed (bad request, bad flag) */
    LLMATC_ERR_NOT_FOUND = 2,        /* a named thing (file, tensor, model, cluster) does not exist */
    LLMATC_ERR_UNSUPPORTED = 3,      /* understood, but not supported (architecture, dtype, feature) */
    LLMATC_ERR_IO = 4,               /* reading/writing a file or socket failed */
    LLMATC_ERR_CORRUPT = 5,          /* a file exists but its contents are malformed */
    LLMATC_ERR_OUT_OF_MEMORY = 6,    /* an allocation failed or a cache cannot hold the request */
    LLMATC_ERR_INCOMPATIBLE = 7,     /* ABI version negotiation failed */
    LLMATC_ERR_UNAVAILABLE = 8,      /* temporarily unavailable (queue full, capacity, throttled) */
    LLMATC_ERR_CANCELLED = 9,        /* the operation was cancelled */
    LLMATC_ERR_PERMISSION = 10,      /* credentials missing or refused */
    LLMATC_ERR_INTERNAL = 11         /* a bug: an exception escaped, an invariant broke */
} llmatc_status;

typedef enum llmatc_plugin_kind {
    LLMATC_PLUGIN_MODEL = 1,          /* interface: const llmatc_model_plugin*    (llmatc/model.h) */
    LLMATC_PLUGIN_FRONTEND = 2,       /* interface: const llmatc_frontend_plugin* (llmatc/frontend.h) */
    LLMATC_PLUGIN_CLOUD_PROVIDER = 3  /* interface: const llmatc_cloud_plugin*    (llmatc/cloud.h) */
} llmatc_plugin_kind;

typedef enum llmatc_log_level {
    LLMATC_LOG_DEBUG = 0,
    LLMATC_LOG_INFO = 1,
    LLMATC_LOG_WARN = 2,
    LLMATC_LOG_ERROR = 3
} llmatc_log_level;

struct llmatc_kernels; /* llmatc/kernels.h */

/* Services the host offers to plugins. Passed to the entry function; valid until the process exits.
 * All functions are thread-safe. Plugins link against nothing of the executable: everything comes from here. */
typedef struct llmatc_host {
    uint32_t struct_size; /* sizeof(llmatc_host) as the host was built */
    uint32_t abi_version; /* the host's LLMATC_ABI_VERSION */

    /* Writes one log line through the host's logger (spdlog). `plugin` names the caller; `msg` is borrowed
     * (pointer, length) and need not be NUL-terminated. Never pass secrets. */
    void (*log)(llmatc_log_level level, const char* plugin, const char* msg, size_t msg_len);

    /* Sets the calling thread's error message (copied). Call before returning a non-OK status. */
    void (*set_error)(const char* msg, size_t msg_len);

    /* Returns the calling thread's last error message (NUL-terminated, owned by the host, valid until the next
     * set_error on this thread). Empty string when none. */
    const char* (*last_error)(void);

    /* The kernel library the host selected (CPU, or CUDA where a GPU is). Models compute only through it. */
    const struct llmatc_kernels* kernels;

    /* Looks up an optional host service by name ("engine" for frontends: const llmatc_engine_api*). Returns NULL
     * when the host has none of that name. The returned table lives as long as the host. */
    const void* (*get_service)(const char* name);
} llmatc_host;

/* What a plugin tells the host about itself, filled by the entry function. */
typedef struct llmatc_plugin_info {
    uint32_t struct_size;        /* set by the host before the call: sizeof(llmatc_plugin_info) it knows */
    uint32_t abi_version;        /* set by the plugin: the ABI version it was built for */
    llmatc_plugin_kind kind;     /* set by the plugin */
    const char* name;            /* set by the plugin: short name ("llama", "openai", "aws"); static storage */
    const char* version;         /* set by the plugin: the plugin's own version string; static storage */
    const char* description;     /* set by the plugin: one line for `llm-atc plugins`; static storage */
    const void* interface;       /* set by the plugin: kind-specific function table (see llmatc_plugin_kind);
                                    static storage, valid while the plugin stays loaded (for the process life) */
} llmatc_plugin_info;

/* The entry function, exported as "llmatc_plugin_entry".
 * `host` offers services and its ABI version; the plugin answers with its own in info->abi_version and returns
 * LLMATC_OK, or LLMATC_ERR_INCOMPATIBLE (and a message) when it cannot work with that host.
 * Must not touch a GPU, start threads or allocate large memory: listing plugins calls it on every machine.
 * Called once per process, from the loading thread.
 * The host then skips the plugin, reporting its file and the reason, when: the status is not LLMATC_OK; the answered
 * version has another major or a newer minor than the host's; kind or name disagree with the file name
 * (libllmatc-<model|frontend|cloud>-<name>.so); `interface` is NULL, its struct_size is smaller than the fields of
 * ABI 1.0, or it leaves NULL a slot not documented as optional. */
typedef llmatc_status (*llmatc_plugin_entry_fn)(const llmatc_host* host, llmatc_plugin_info* info);

#ifdef __cplusplus
}
#endif

#endif /* LLMATC_PLUGIN_H */
