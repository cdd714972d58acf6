/* llmatc/plugin_export.h — helpers for plugin authors: the export macro, version check and host access. */
#ifndef LLMATC_PLUGIN_EXPORT_H
#define LLMATC_PLUGIN_EXPORT_H

#include "llmatc/plugin.h"

#if defined(_WIN32)
#define LLMATC_EXPORT __declspec(dllexport)
#else
#define LLMATC_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
#define LLMATC_EXTERN_C extern "C"
#else
#define LLMATC_EXTERN_C
#endif

/* Turns a macro's value into a string literal (used for version numbers in messages). */
#define LLMATC_STRINGIFY_(x) #x
#define LLMATC_STRINGIFY(x) LLMATC_STRINGIFY_(x)

/* Defines the plugin's entry point. Use once per plugin, at file scope:
 *
 *   static const llmatc_host* g_host;
 *   LLMATC_PLUGIN_DEFINE(g_host, LLMATC_PLUGIN_MODEL, "llama", "0.1.0", "Llama 2 (LlamaForCausalLM)", &k_table)
 *
 * It negotiates the ABI (same major, plugin minor <= host minor), keeps the host table in HOST_VAR for the
 * plugin's later use, and fills the info. Compile with -fvisibility=hidden: this is the only exported symbol. */
#define LLMATC_PLUGIN_DEFINE(HOST_VAR, KIND, NAME, VERSION, DESCRIPTION, INTERFACE)                           \
    LLMATC_EXTERN_C LLMATC_EXPORT llmatc_status llmatc_plugin_entry(const llmatc_host* host,                 \
                                                                    llmatc_plugin_info* info) {              \
        if (host == 0 || info == 0) return LLMATC_ERR_INVALID_ARGUMENT;                                       \
        /* Same major, and (majors being equal) host minor >= ours exactly when host version >= ours; written  \
         * so that a minor of 0 draws no "comparison always false" warning. */                                 \
        if (LLMATC_VERSION_MAJOR(host->abi_version) != LLMATC_ABI_VERSION_MAJOR ||                            \
            host->abi_version < LLMATC_ABI_VERSION) {                                                         \
            static const char msg[] = "plugin " NAME " was built for ABI "                                    \
                LLMATC_STRINGIFY(LLMATC_ABI_VERSION_MAJOR) "." LLMATC_STRINGIFY(LLMATC_ABI_VERSION_MINOR)        \
                " and needs a host with the same major version and at least that minor";                      \
            if (host->set_error) host->set_error(msg, sizeof(msg) - 1);                                      \
            info->abi_version = LLMATC_ABI_VERSION;                                                           \
            return LLMATC_ERR_INCOMPATIBLE;                                                                   \
        }                                                                                                     \
        HOST_VAR = host;                                                                                      \
        info->abi_version = LLMATC_ABI_VERSION;                                                               \
        info->kind = KIND;                                                                                    \
        info->name = NAME;                                                                                    \
        info->version = VERSION;                                                                              \
        info->description = DESCRIPTION;                                                                      \
        info->interface = INTERFACE;                                                                          \
        return LLMATC_OK;                                                                                     \
    }

#endif /* LLMATC_PLUGIN_EXPORT_H */
