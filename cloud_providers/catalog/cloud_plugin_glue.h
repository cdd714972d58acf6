// cloud_providers/catalog/cloud_plugin_glue.h — the C ABI side shared by the remote cloud plugins: parse the call's
// spec, run the provider's C++ operation, mask secrets, turn exceptions into a status + host->set_error, and build
// the plugin's function table from its C++ operations.
#pragma once

#include <functional>
#include <string>

#include "llmatc/cloud.h"
#include "node_spec.h"

namespace llmatc::cloud_catalog {

using ProgressFn = std::function<void(const char* phase, const std::string& message)>;
using CloudOperation = std::function<std::string(const NodeSpec& spec, const std::string& record, const ProgressFn& progress)>;

// Runs `op` for one ABI call and delivers its record through call->on_record. Never throws: invalid specs and
// catalog refusals give LLMATC_ERR_INVALID_ARGUMENT, credential problems LLMATC_ERR_PERMISSION, anything else from
// the cloud LLMATC_ERR_UNAVAILABLE; messages and progress lines have the spec's secrets masked.
llmatc_status run_cloud_call(const llmatc_host* host, const char* cloud, const llmatc_cloud_call* call,
                             const CloudOperation& op) noexcept;

// Delivers `text` (the catalog JSON) to sink, with the same exception discipline.
llmatc_status run_catalog_call(const llmatc_host* host, const char* cloud, llmatc_text_callback sink, void* user,
                               const std::function<std::string()>& make) noexcept;

// A remote provider's C++ operations; CloudPluginTable turns them into its cloud-provider ABI table.
struct CloudProviderOperations {
    const char* cloud;               // "aws", "gcp": names the provider in messages and log lines
    const llmatc_host* const* host;  // the plugin's host pointer, set by LLMATC_PLUGIN_DEFINE before any call
    std::string (*catalog_json)();
    std::string (*provision)(const NodeSpec& spec, const std::string& record, const ProgressFn& progress);
    std::string (*refresh)(const NodeSpec& spec, const std::string& record);
    std::string (*stop)(const NodeSpec& spec, const std::string& record, const ProgressFn& progress);
    std::string (*start)(const NodeSpec& spec, const std::string& record, const ProgressFn& progress);
    std::string (*terminate)(const NodeSpec& spec, const std::string& record, const ProgressFn& progress);
};

// The ABI entry points for one provider: each runs its operation through run_cloud_call / run_catalog_call, so
// none of them throws. `table` is what LLMATC_PLUGIN_DEFINE hands to the host.
template <const CloudProviderOperations& Ops>
struct CloudPluginTable {
    static llmatc_status catalog(llmatc_text_callback sink, void* user) {
        return run_catalog_call(*Ops.host, Ops.cloud, sink, user, Ops.catalog_json);
    }
    static llmatc_status provision(const llmatc_cloud_call* call) {
        return run_cloud_call(*Ops.host, Ops.cloud, call, Ops.provision);
    }
    static llmatc_status refresh(const llmatc_cloud_call* call) {
        return run_cloud_call(*Ops.host, Ops.cloud, call,
                              [](const NodeSpec& s, const std::string& r, const ProgressFn&) { return Ops.refresh(s, r); });
    }
    static llmatc_status stop(const llmatc_cloud_call* call) { return run_cloud_call(*Ops.host, Ops.cloud, call, Ops.stop); }
    static llmatc_status start(const llmatc_cloud_call* call) { return run_cloud_call(*Ops.host, Ops.cloud, call, Ops.start); }
    static llmatc_status terminate(const llmatc_cloud_call* call) {
        return run_cloud_call(*Ops.host, Ops.cloud, call, Ops.terminate);
    }
    static constexpr llmatc_cloud_plugin table = {
        sizeof(llmatc_cloud_plugin), LLMATC_ABI_VERSION, catalog, provision, refresh, stop, start, terminate,
    };
};

}  // namespace llmatc::cloud_catalog
