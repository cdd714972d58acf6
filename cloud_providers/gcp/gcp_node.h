// cloud_providers/gcp/gcp_node.h — one cluster's Compute Engine node: firewall rule, instance with GPUs (zone
// failover on exhausted pools and quota), stop/start/delete; the record keeps what was created.
#pragma once

#include <functional>
#include <string>

#include "node_spec.h"

namespace llmatc::gcp_cloud {

using Progress = std::function<void(const char* phase, const std::string& message)>;

std::string gcp_catalog_json();
std::string gcp_provision(const cloud_catalog::NodeSpec& spec, const std::string& record_json, const Progress& progress);
std::string gcp_refresh(const cloud_catalog::NodeSpec& spec, const std::string& record_json);
std::string gcp_stop(const cloud_catalog::NodeSpec& spec, const std::string& record_json, const Progress& progress);
std::string gcp_start(const cloud_catalog::NodeSpec& spec, const std::string& record_json, const Progress& progress);
std::string gcp_terminate(const cloud_catalog::NodeSpec& spec, const std::string& record_json, const Progress& progress);

}  // namespace llmatc::gcp_cloud
