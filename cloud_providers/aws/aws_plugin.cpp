// cloud_providers/aws/aws_plugin.cpp — the `aws` cloud provider plugin: EC2 nodes behind the cloud-provider C ABI.
#include "llmatc/cloud.h"
#include "llmatc/plugin_export.h"

#include "aws_node.h"
#include "cloud_plugin_glue.h"

namespace {

namespace cc = llmatc::cloud_catalog;
namespace aws = llmatc::aws_cloud;

const llmatc_host* g_host = nullptr;

const cc::CloudProviderOperations k_aws_operations = {
    "aws", &g_host, aws::aws_catalog_json, aws::aws_provision, aws::aws_refresh,
    aws::aws_stop, aws::aws_start, aws::aws_terminate,
};

}  // namespace

LLMATC_PLUGIN_DEFINE(g_host, LLMATC_PLUGIN_CLOUD_PROVIDER, "aws", "0.1.0",
                     "Amazon EC2: GPU nodes from the accelerator catalog, with zone failover", &cc::CloudPluginTable<k_aws_operations>::table)
