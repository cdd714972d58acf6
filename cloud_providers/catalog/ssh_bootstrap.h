// cloud_providers/catalog/ssh_bootstrap.h — puts the runtime on a fresh node over SSH (openssh-client's ssh and
// tar): uploads the launcher's own llm-atc binary and plugins, then runs the bootstrap script as root. See README
// "Cloud bootstrap".
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace llmatc::cloud_catalog {

struct SshTarget {
    std::string host;
    int port = 22;
    std::string user;
    std::string private_key;  // path, 0600
    std::string known_hosts;  // path of the cluster's own known_hosts file (host keys accepted on first contact)
};

// The plugin files to ship beside `launcher`: libllmatc-*.so from LLMATC_PLUGIN_PATH, the build tree around the
// launcher (models/, frontends/, cloud_providers/, plugins/) and the install directory; first file of a name wins.
std::vector<std::filesystem::path> runtime_plugin_files(const std::filesystem::path& launcher);

// Waits (up to `wait_s`) for SSH to accept the key, uploads `launcher` as <prefix>/bin/llm-atc and the plugins into
// <prefix>/plugins, and runs `script` (sent on stdin, never on a command line) with LLMATC_PREFIX=<prefix>, through
// sudo when the user is not root. Throws std::runtime_error with the failing step and the tail of ssh's stderr.
void bootstrap_over_ssh(const SshTarget& target, const std::filesystem::path& launcher, const std::string& script,
                        const std::string& remote_prefix, int wait_s,
                        const std::function<void(const std::string&)>& progress);

}  // namespace llmatc::cloud_catalog

#include "node_spec.h"

namespace llmatc::cloud_catalog {

// The SSH endpoint of a node at `host`: port LLMATC_CLOUD_SSH_PORT (default 22), user extra.ssh_user, else
// `default_user`; the cluster's key and a known_hosts file in the cluster's folder.
SshTarget node_ssh_target(const NodeSpec& spec, const std::string& host, const std::string& default_user);

// Where the runtime goes on the node: LLMATC_REMOTE_PREFIX, default /opt/llm-atc.
std::string remote_prefix();

}  // namespace llmatc::cloud_catalog
