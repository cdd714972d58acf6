// cloud_providers/common/node_serving.h — bringing up the server on a provisioned node: uploading the runtime when
// the node cannot fetch one, probing the server, and waiting until it answers.
#pragma once

#include <string>

#include "cloud_plugin_glue.h"
#include "node_plan.h"
#include "node_spec.h"

namespace llmatc::cloud_common {

// UP when the server at ip:spec.port answers /v1/models (with the cluster's API key), else INIT (booting,
// downloading the model, or no runtime yet).
std::string running_status(const cloud_catalog::NodeSpec& spec, const std::string& ip);

// With spec.wait_ready, polls running_status until UP or spec.ready_timeout_s passes (then INIT: the node keeps
// running); without it, probes once. Reports the wait through `progress`.
std::string wait_until_serving(const cloud_catalog::NodeSpec& spec, const std::string& ip,
                               const cloud_catalog::ProgressFn& progress);

// Without a runtime URL for the node to fetch, uploads the launcher's own runtime over SSH as `login_user` (the
// image's or the metadata's user) and starts it; otherwise does nothing. Throws when the upload fails.
void bootstrap_if_needed(const cloud_catalog::NodeSpec& spec, const cloud_catalog::NodePlan& plan,
                         const std::string& ip, const std::string& login_user,
                         const cloud_catalog::ProgressFn& progress);

}  // namespace llmatc::cloud_common
