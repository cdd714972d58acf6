// cloud_providers/common/failed_launch.h — removing what a failed launch created, without hiding the launch's error.
#pragma once

#include <functional>

#include "cloud_plugin_glue.h"
#include "node_spec.h"

namespace llmatc::cloud_common {

// Runs `remove_created` (the provider's removal of what this launch created) from inside the launch's catch
// block, so a failed launch leaves nothing behind. A failure of the removal itself is reported through
// `progress` (pointing the user at `llm-atc down`) and swallowed: the caller rethrows the launch's own error.
void remove_after_failed_launch(const cloud_catalog::NodeSpec& spec, const cloud_catalog::ProgressFn& progress,
                                const std::function<void()>& remove_created) noexcept;

}  // namespace llmatc::cloud_common
