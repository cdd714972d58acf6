// cloud_providers/common/credential_env.cpp — the process environment overlaid with the cluster's --envs.
#include "credential_env.h"

#include "cloud_auth/aws_credentials.h"

namespace llmatc::cloud_common {

std::map<std::string, std::string> credential_env(const cloud_catalog::NodeSpec& spec) {
    auto env = cloud_auth::process_environment();
    for (const auto& [k, v] : spec.envs) env[k] = v;
    return env;
}

}  // namespace llmatc::cloud_common
