// core/deploy/cloud_provider_client.h — calls a cloud-provider plugin through the C ABI with JSON spec and record,
// turning its status + message into llmatc::Error (with secrets masked).
#pragma once

#include <string>
#include <vector>

#include "llmatc/cloud.h"

namespace llmatc::deploy {

class CloudProviderClient {
public:
    // Finds the plugin "llmatc-cloud-<cloud>" in the registry; throws llmatc::Error listing the available clouds.
    CloudProviderClient(const std::string& cloud, std::vector<std::string> secrets);

    // Each returns the provider's updated record (JSON). `record` is "" on a first provision.
    std::string provision(const std::string& spec, const std::string& record);
    std::string refresh(const std::string& spec, const std::string& record);
    std::string stop(const std::string& spec, const std::string& record);
    std::string start(const std::string& spec, const std::string& record);
    std::string terminate(const std::string& spec, const std::string& record);

private:
    using Op = llmatc_status (*)(const llmatc_cloud_call*);
    std::string call(Op op, const char* what, const std::string& spec, const std::string& record);
    const llmatc_cloud_plugin* plugin_;
    std::string cloud_;
    std::vector<std::string> secrets_;
};

}  // namespace llmatc::deploy
