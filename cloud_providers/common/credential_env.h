// cloud_providers/common/credential_env.h — the environment a remote provider looks for its credentials in.
#pragma once

#include <map>
#include <string>

#include "node_spec.h"

namespace llmatc::cloud_common {

// The process environment with the cluster's --envs over it: credentials may be given either way.
std::map<std::string, std::string> credential_env(const cloud_catalog::NodeSpec& spec);

}  // namespace llmatc::cloud_common
