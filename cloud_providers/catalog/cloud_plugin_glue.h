// cloud_providers/catalog/cloud_plugin_glue.h — the C ABI side shared by the remote cloud plugins: parse the call's
// spec, run the provider's C++ operation, mask secrets, and turn exceptions into a status + host->set_error.
#pragma once

#include <functional>
#include <string>

#include "llmatc/cloud.h"
#include "node_spec.h"

namespace llmatc::cloud_catalog {

using ProgressFn = std::function<void(const char* phase, const std::string& message)>;
using CloudOperation = std::function<std::string(const NodeSpec& spec, const std::string& record, const ProgressFn& progress)>;

// Runs `op` for one ABI call and delivers its record through call->on_record. Never throws: invalid specs and
// catalog refusals give LLMATC_ERR_INVALID_ARGUMENT, credential problems LLMATC_ERR_PERMISSION, anything else from
// the cloud LLMATC_ERR_UNAVAILABLE; messages and progress lines have the spec's secrets masked.
llmatc_status run_cloud_call(const llmatc_host* host, const char* cloud, const llmatc_cloud_call* call,
                             const CloudOperation& op) noexcept;

// Delivers `text` (the catalog JSON) to sink, with the same exception discipline.
llmatc_status run_catalog_call(const llmatc_host* host, const char* cloud, llmatc_text_callback sink, void* user,
                               const std::function<std::string()>& make) noexcept;

}  // namespace llmatc::cloud_catalog
