// cloud_providers/gcp/gcp_plugin.cpp — the `gcp` cloud provider plugin: Compute Engine nodes behind the cloud-provider C ABI.
#include "llmatc/cloud.h"
#include "llmatc/plugin_export.h"

#include "gcp_node.h"
#include "cloud_plugin_glue.h"

namespace {

namespace cc = llmatc::cloud_catalog;
namespace gcp = llmatc::gcp_cloud;

const llmatc_host* g_host = nullptr;

const cc::CloudProviderOperations k_gcp_operations = {
    "gcp", &g_host, gcp::gcp_catalog_json, gcp::gcp_provision, gcp::gcp_refresh,
    gcp::gcp_stop, gcp::gcp_start, gcp::gcp_terminate,
};

}  // namespace

LLMATC_PLUGIN_DEFINE(g_host, LLMATC_PLUGIN_CLOUD_PROVIDER, "gcp", "0.1.0",
                     "Google Compute Engine: GPU nodes from the accelerator catalog, with zone failover",
                     &cc::CloudPluginTable<k_gcp_operations>::table)
