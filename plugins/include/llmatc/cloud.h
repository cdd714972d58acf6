/* llmatc/cloud.h — the cloud-provider-plugin C ABI: catalog, provision, status, stop, start, terminate. */
#ifndef LLMATC_CLOUD_H
#define LLMATC_CLOUD_H

#include "llmatc/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Cluster descriptions cross this boundary as JSON text (UTF-8), so providers can grow without ABI changes.
 *
 * A cluster spec (in) is an object with:
 *   "name"          cluster name (string)
 *   "cloud"         the provider's name
 *   "region", "zone" (strings, "" = provider default / any)
 *   "accelerator"   {"name": "A100", "count": 1} or null for CPU
 *   "port"          serving port (number)
 *   "model"         {"name": served name, "source": path/HF id/s3:// or gs:// URL, "bytes": size estimate}
 *   "envs"          {"K": "V", ...}  (secrets: never log them)
 *   "api_key"       string or null
 *   "home"          the cluster's state folder (logs, keys); exists
 *   "ssh"           {"user", "private_key", "public_key"} paths of the cluster key pair
 *   "server_argv"   array of strings: the `llm-atc serve ...` command line to run on the node
 *   "dryrun"        true = plan only
 *   "extra"         provider-specific object (may be absent)
 *
 * A cluster record (out, and in for later calls) is an object with:
 *   "status"        "INIT" | "UP" | "STOPPED" | "TERMINATED"
 *   "ip"            public address or "" ; "port" number
 *   "region", "zone", "instance_ids" [strings], "instance_type" string, "hourly_price" number
 *   "provider"      provider-private object, passed back verbatim on later calls (ids of created resources)
 */

/* Receives JSON or text from the provider; valid only during the call. */
typedef void (*llmatc_text_callback)(const char* text, size_t len, void* user);

/* Progress of long operations: `phase` ("provisioning", "bootstrap", "download", "ready"), a human line. */
typedef void (*llmatc_progress_callback)(const char* phase, const char* message, size_t message_len, void* user);

typedef struct llmatc_cloud_call {
    uint32_t struct_size;
    uint32_t abi_version;
    const char* spec_json;       /* the cluster spec, borrowed for the call */
    size_t spec_json_len;
    const char* record_json;     /* the current record (NULL on first provision), borrowed */
    size_t record_json_len;
    llmatc_text_callback on_record; /* receives the updated record (called at least once on success) */
    llmatc_progress_callback on_progress; /* may be NULL */
    void* user;                  /* passed to both callbacks */
} llmatc_cloud_call;

typedef struct llmatc_cloud_plugin {
    uint32_t struct_size;
    uint32_t abi_version;
    /* The accelerator catalog as JSON: {"source": ..., "date": ..., "regions": {...}, "offers": [{"accelerator",
     * "count", "instance_type", "gpu_memory_gib", "vcpus", "memory_gib", "region", "zones", "hourly_price"}]},
     * through sink. */
    llmatc_status (*catalog)(llmatc_text_callback sink, void* user);
    /* Creates (or reuses, when the record names live resources) the node and starts the server on it; with
     * "dryrun" reports the plan as the record ({"plan": {...}}) and creates nothing. */
    llmatc_status (*provision)(const llmatc_cloud_call* call);
    /* Refreshes the record from the cloud (status, ip). */
    llmatc_status (*refresh)(const llmatc_cloud_call* call);
    /* Stops the node (keeps its disk); idempotent. */
    llmatc_status (*stop)(const llmatc_cloud_call* call);
    /* Starts a stopped node and its server; idempotent. */
    llmatc_status (*start)(const llmatc_cloud_call* call);
    /* Deletes everything the provider created for the cluster; idempotent. */
    llmatc_status (*terminate)(const llmatc_cloud_call* call);
} llmatc_cloud_plugin;

#ifdef __cplusplus
}
#endif

#endif /* LLMATC_CLOUD_H */
