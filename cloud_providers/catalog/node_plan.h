// cloud_providers/catalog/node_plan.h — what a remote provider will create for a cluster spec: the instance type
// and zones from the catalog, the disk, the bootstrap script; rendered as the `serve --dryrun` plan.
#pragma once

#include <string>
#include <vector>

#include "accelerator_catalog.h"
#include "bootstrap_script.h"
#include "disk_sizing.h"
#include "node_spec.h"

namespace llmatc::cloud_catalog {

struct NodePlan {
    InstanceChoice choice;
    ModelSize model_size;
    int disk_gib = 0;
    int tensor_parallel_size = 1;  // = the node's GPU count
    BootstrapInputs bootstrap;     // holds secrets
    std::string script;            // unmasked: only for the cloud API
    std::string script_masked;     // for plans and messages
};

// Validates the spec against the catalog (refusing unknown accelerators, regions and zones before anything is
// created) and plans the node. `default_region` is used when the spec names none. A spec without an accelerator
// is refused: the remote clouds serve on GPUs. Throws CatalogError / std::invalid_argument.
NodePlan plan_node(const NodeSpec& spec, const Catalog& catalog, const std::string& default_region);

// The record for a dry run: {"status":"INIT","plan":{cloud, region, zones_to_try, instance_type, accelerator,
// note, hourly_price, disk_gib, disk_basis, tensor_parallel_size, model, port, would_create, bootstrap_script}}.
std::string plan_record_json(const NodeSpec& spec, const NodePlan& plan, const std::vector<std::string>& would_create);

// Resource names derived from the cluster name (key pair, security group, firewall, instance).
std::string resource_name(const NodeSpec& spec);

}  // namespace llmatc::cloud_catalog
