// cloud_providers/gcp/gcp_plugin.cpp — the `gcp` cloud provider plugin: Compute Engine nodes behind the cloud-provider C ABI.
#include "llmatc/cloud.h"
#include "llmatc/plugin_export.h"

#include "gcp_node.h"
#include "cloud_plugin_glue.h"

namespace {

const llmatc_host* g_host = nullptr;
constexpr const char* kCloud = "gcp";

namespace cc = llmatc::cloud_catalog;
namespace gcp = llmatc::gcp_cloud;

gcp::Progress adapt(const cc::ProgressFn& p) { return [p](const char* phase, const std::string& m) { p(phase, m); }; }

llmatc_status gcp_catalog(llmatc_text_callback sink, void* user) {
    return cc::run_catalog_call(g_host, kCloud, sink, user, gcp::gcp_catalog_json);
}

llmatc_status gcp_provision(const llmatc_cloud_call* call) {
    return cc::run_cloud_call(g_host, kCloud, call, [](const cc::NodeSpec& s, const std::string& r, const cc::ProgressFn& p) {
        return gcp::gcp_provision(s, r, adapt(p));
    });
}

llmatc_status gcp_refresh(const llmatc_cloud_call* call) {
    return cc::run_cloud_call(g_host, kCloud, call, [](const cc::NodeSpec& s, const std::string& r, const cc::ProgressFn&) {
        return gcp::gcp_refresh(s, r);
    });
}

llmatc_status gcp_stop(const llmatc_cloud_call* call) {
    return cc::run_cloud_call(g_host, kCloud, call, [](const cc::NodeSpec& s, const std::string& r, const cc::ProgressFn& p) {
        return gcp::gcp_stop(s, r, adapt(p));
    });
}

llmatc_status gcp_start(const llmatc_cloud_call* call) {
    return cc::run_cloud_call(g_host, kCloud, call, [](const cc::NodeSpec& s, const std::string& r, const cc::ProgressFn& p) {
        return gcp::gcp_start(s, r, adapt(p));
    });
}

llmatc_status gcp_terminate(const llmatc_cloud_call* call) {
    return cc::run_cloud_call(g_host, kCloud, call, [](const cc::NodeSpec& s, const std::string& r, const cc::ProgressFn& p) {
        return gcp::gcp_terminate(s, r, adapt(p));
    });
}

const llmatc_cloud_plugin k_gcp_cloud = {
    sizeof(llmatc_cloud_plugin), LLMATC_ABI_VERSION, gcp_catalog, gcp_provision, gcp_refresh,
    gcp_stop, gcp_start, gcp_terminate,
};

}  // namespace

LLMATC_PLUGIN_DEFINE(g_host, LLMATC_PLUGIN_CLOUD_PROVIDER, "gcp", "0.1.0",
                     "Google Compute Engine: GPU nodes from the accelerator catalog, with zone failover", &k_gcp_cloud)
