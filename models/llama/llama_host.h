// models/llama/llama_host.h — the host services table as this plugin's code sees it (set by the entry function).
#pragma once

#include <string>

#include "llmatc/plugin.h"

namespace llmatc::llama {

// The host table handed to the plugin's entry function (LLMATC_PLUGIN_DEFINE stores it here). Each plugin .so
// links its own copy of this library, so each has its own pointer. NULL until the entry function ran.
extern const llmatc_host* g_host;

// Logs one line through the host's logger as `plugin` (a no-op before the entry function ran).
void host_log(llmatc_log_level level, const char* plugin, const std::string& message);

// The calling thread's last error message set through the host (e.g. by a kernel or the tensor source); "" if none.
std::string host_last_error();

}  // namespace llmatc::llama
