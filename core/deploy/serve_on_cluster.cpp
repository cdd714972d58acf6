// core/deploy/serve_on_cluster.cpp — `llm-atc serve -c NAME ...`: the CLI's entry into the launcher's cluster side.
#include "cli/serve_options.h"
#include "deploy/cluster_lifecycle.h"

namespace llmatc::cli {

int serve_on_cluster(const ServeOptions& options) { return deploy::launch_cluster(options); }

}  // namespace llmatc::cli
