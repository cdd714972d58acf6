// cloud_providers/catalog/node_spec.h — the cloud ABI's cluster spec (JSON, see llmatc/cloud.h) parsed into what a
// remote cloud provider needs to create one GPU node.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace llmatc::cloud_catalog {

struct NodeSpec {
    std::string name, cloud, region, zone;
    std::string accelerator;  // "" when the spec asked for no GPU
    int accelerator_count = 0;
    int port = 8000;
    std::string model_name, model_source;
    uint64_t model_bytes = 0;  // 0 = unknown
    std::map<std::string, std::string> envs;  // secrets: never log values
    std::string api_key;                      // secret
    std::string home;
    std::string ssh_user, ssh_private_key, ssh_public_key;  // paths
    std::vector<std::string> server_argv;
    bool dryrun = false;
    bool wait_ready = true;
    int ready_timeout_s = 1800;
    std::map<std::string, std::string> extra;  // "extra"'s string members (image, project, ...)
};

// Throws std::invalid_argument naming the missing or malformed field.
NodeSpec parse_node_spec(std::string_view spec_json);

// The values that must never appear in logs or listings: the envs' values and the API key.
std::vector<std::string> spec_secrets(const NodeSpec& spec);

// `text` with every secret replaced by "****".
std::string mask(std::string text, const std::vector<std::string>& secrets);

}  // namespace llmatc::cloud_catalog
