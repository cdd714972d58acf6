// cloud_providers/aws/aws_plugin.cpp — the `aws` cloud provider plugin: EC2 nodes behind the cloud-provider C ABI.
#include "llmatc/cloud.h"
#include "llmatc/plugin_export.h"

#include "aws_node.h"
#include "cloud_plugin_glue.h"

namespace {

const llmatc_host* g_host = nullptr;
constexpr const char* kCloud = "aws";

namespace cc = llmatc::cloud_catalog;
namespace aws = llmatc::aws_cloud;

aws::Progress adapt(const cc::ProgressFn& p) { return [p](const char* phase, const std::string& m) { p(phase, m); }; }

llmatc_status aws_catalog(llmatc_text_callback sink, void* user) {
    return cc::run_catalog_call(g_host, kCloud, sink, user, aws::aws_catalog_json);
}

llmatc_status aws_provision(const llmatc_cloud_call* call) {
    return cc::run_cloud_call(g_host, kCloud, call, [](const cc::NodeSpec& s, const std::string& r, const cc::ProgressFn& p) {
        return aws::aws_provision(s, r, adapt(p));
    });
}

llmatc_status aws_refresh(const llmatc_cloud_call* call) {
    return cc::run_cloud_call(g_host, kCloud, call, [](const cc::NodeSpec& s, const std::string& r, const cc::ProgressFn&) {
        return aws::aws_refresh(s, r);
    });
}

llmatc_status aws_stop(const llmatc_cloud_call* call) {
    return cc::run_cloud_call(g_host, kCloud, call, [](const cc::NodeSpec& s, const std::string& r, const cc::ProgressFn& p) {
        return aws::aws_stop(s, r, adapt(p));
    });
}

llmatc_status aws_start(const llmatc_cloud_call* call) {
    return cc::run_cloud_call(g_host, kCloud, call, [](const cc::NodeSpec& s, const std::string& r, const cc::ProgressFn& p) {
        return aws::aws_start(s, r, adapt(p));
    });
}

llmatc_status aws_terminate(const llmatc_cloud_call* call) {
    return cc::run_cloud_call(g_host, kCloud, call, [](const cc::NodeSpec& s, const std::string& r, const cc::ProgressFn& p) {
        return aws::aws_terminate(s, r, adapt(p));
    });
}

const llmatc_cloud_plugin k_aws_cloud = {
    sizeof(llmatc_cloud_plugin), LLMATC_ABI_VERSION, aws_catalog, aws_provision, aws_refresh,
    aws_stop, aws_start, aws_terminate,
};

}  // namespace

LLMATC_PLUGIN_DEFINE(g_host, LLMATC_PLUGIN_CLOUD_PROVIDER, "aws", "0.1.0",
                     "Amazon EC2: GPU nodes from the accelerator catalog, with zone failover", &k_aws_cloud)
