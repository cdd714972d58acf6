// cloud_providers/aws/aws_node.h — one cluster's EC2 node: key pair, security group, image, instance (with zone
// failover), and its stop/start/terminate; records what it created so `down` removes exactly that.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "node_spec.h"

namespace llmatc::aws_cloud {

using Progress = std::function<void(const char* phase, const std::string& message)>;

// What the provider created, kept in the record's "provider" object between calls.
struct AwsResources {
    std::string instance_id, key_name, security_group_id, security_group_name, image_id, zone, region;
    std::string instance_type;
    double hourly_price = 0;
    std::vector<std::string> tried;  // "us-east-2a: InsufficientInstanceCapacity", ...
};

struct AwsRecord {
    std::string status;  // INIT | UP | STOPPED | TERMINATED
    std::string ip;
    AwsResources resources;
};

// The catalog for `llm-atc show-accelerators` and the plugin's catalog().
std::string aws_catalog_json();

// The dry-run plan, or the created/reused node. Throws on failure after removing what this call created.
std::string aws_provision(const cloud_catalog::NodeSpec& spec, const std::string& record_json, const Progress& progress);
std::string aws_refresh(const cloud_catalog::NodeSpec& spec, const std::string& record_json);
std::string aws_stop(const cloud_catalog::NodeSpec& spec, const std::string& record_json, const Progress& progress);
std::string aws_start(const cloud_catalog::NodeSpec& spec, const std::string& record_json, const Progress& progress);
std::string aws_terminate(const cloud_catalog::NodeSpec& spec, const std::string& record_json, const Progress& progress);

}  // namespace llmatc::aws_cloud
