// core/deploy/cluster_lifecycle.h — launching, refreshing, stopping, starting and tearing down clusters: state,
// secrets, SSH config and the provider plugin kept in step. The CLI commands are thin wrappers over these.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cli/serve_options.h"
#include "deploy/cluster_state.h"

namespace llmatc::deploy {

// Launches (or reuses) the cluster options.cluster and starts the server there; prints the endpoint, the API key
// (once, when generated) and the next commands. Returns the exit code; errors are thrown as llmatc::Error.
int launch_cluster(const cli::ServeOptions& options);

// The clusters named (all when empty), each refreshed from its provider and saved. Unknown names throw NOT_FOUND.
std::vector<ClusterRow> refreshed_clusters(const std::vector<std::string>& names);

// Each acts, updates state and returns a one-line account of what it did ("stopped", "already stopped" ...).
// stop/start of an unknown cluster throw NOT_FOUND; down of an unknown cluster is a no-op that says so.
std::string stop_cluster(const std::string& name);
std::string start_cluster(const std::string& name);
std::string down_cluster(const std::string& name);

// "http://<ip>:<port>/v1" or "" when the cluster has no address.
std::string endpoint_of(const ClusterRow& row);

// The server log of a cluster; throws NOT_FOUND for an unknown cluster.
std::filesystem::path cluster_log_path(const std::string& name);

// The values that must be masked in anything printed about this cluster (its --envs values).
std::vector<std::string> cluster_secrets(const std::string& name);

}  // namespace llmatc::deploy
