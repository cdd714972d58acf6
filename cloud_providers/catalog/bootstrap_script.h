// cloud_providers/catalog/bootstrap_script.h — the shell script that turns a fresh cloud VM into an llm-atc server
// (user data on AWS, the startup-script on GCP, or run over SSH); see README "Cloud bootstrap".
#pragma once

#include <map>
#include <string>
#include <vector>

namespace llmatc::cloud_catalog {

struct BootstrapInputs {
    std::string cluster;
    std::vector<std::string> server_argv;      // the launcher's `llm-atc serve ...`; argv[0] is replaced on the node
    std::map<std::string, std::string> envs;   // --envs plus LLMATC_API_KEY; secrets
    int port = 8000;
    std::string runtime_url;                   // optional tarball of bin/ + plugins/ the node fetches; "" = uploaded over SSH
};

// Where the runtime lives on the node (overridable with LLMATC_PREFIX when the script runs).
inline constexpr const char* kRemotePrefix = "/opt/llm-atc";

// The bash script. With `masked`, every env value is "****" (for plans and listings); the unmasked script holds
// secrets and must only be sent to the cloud (user data / metadata), never logged.
std::string bootstrap_script(const BootstrapInputs& inputs, bool masked);

// POSIX-shell single-quoting of one word.
std::string shell_quote(const std::string& word);

}  // namespace llmatc::cloud_catalog
