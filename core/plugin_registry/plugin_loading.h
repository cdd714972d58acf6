// core/plugin_registry/plugin_loading.h — opens one plugin file, negotiates the ABI with it and checks its tables.
#pragma once

#include <filesystem>
#include <string>
#include <variant>

#include "llmatc/plugin.h"
#include "plugin_registry/plugin_registry.h"

namespace llmatc {

// The result of loading one file: a usable plugin, or why it is not usable (a message that names the file).
using PluginLoadOutcome = std::variant<PluginRecord, PluginProblem>;

// Loads `path` (RTLD_NOW | RTLD_LOCAL, never unloaded), calls its llmatc_plugin_entry with `host`, and checks the
// answer: an ABI version this host speaks (same major, minor <= ours), a known kind matching the file name, a name
// matching the file name, a non-NULL interface whose struct_size covers the ABI 1.0 fields and whose required
// slots are set. Anything else — a file that does not open, a missing entry symbol, a failing or throwing entry —
// becomes a PluginProblem; nothing here throws.
// Each file is loaded and its entry called at most once per process (plugin.h promises plugins that): a second
// call for the same file (same canonical path) returns the first outcome.
PluginLoadOutcome load_plugin_file(const std::filesystem::path& path, const llmatc_host* host);

// "1.0" for LLMATC_MAKE_VERSION(1, 0).
std::string abi_version_string(uint32_t version);

}  // namespace llmatc
