// core/plugin_registry/plugin_registry.h — discovers, negotiates with and lists plugins; hands out their tables.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "llmatc/cloud.h"
#include "llmatc/frontend.h"
#include "llmatc/model.h"
#include "llmatc/plugin.h"

namespace llmatc {

struct PluginRecord {
    llmatc_plugin_kind kind;
    std::string name;
    std::string version;
    std::string description;
    std::filesystem::path path;
    const void* interface;  // kind-specific table (llmatc_model_plugin* ...), valid for the process lifetime
};

// A plugin file that could not be used, and why (shown by `llm-atc plugins`, logged as a warning).
struct PluginProblem {
    std::filesystem::path path;
    std::string message;
};

class PluginRegistry {
public:
    // Searches, in order: LLMATC_PLUGIN_PATH (colon-separated), the build tree beside the executable, the install
    // directory. Files named libllmatc-<kind>-<name>.so; the first plugin of a (kind, name) wins. Broken or
    // incompatible files are skipped and recorded in problems(). Loaded libraries are never unloaded.
    static PluginRegistry& instance();

    const std::vector<PluginRecord>& plugins() const;
    const std::vector<PluginProblem>& problems() const;

    // The model plugin for a checkpoint: `forced` (a plugin name) when non-empty, else the highest probe score.
    // Throws llmatc::Error listing every supported architecture string when none fits.
    const PluginRecord& select_model_plugin(const std::string& config_json, const std::string& model_name,
                                            const std::string& forced) const;
    // By kind and name; throws llmatc::Error listing the available names when absent.
    const PluginRecord& find(llmatc_plugin_kind kind, const std::string& name) const;

    // The host table given to plugins. Services for get_service() are registered by the core before use.
    const llmatc_host* host() const;
    void register_service(const std::string& name, const void* service);
    // The kernel backend plugins see through host()->kernels.
    void set_kernels(const llmatc_kernels* kernels);
};

}  // namespace llmatc
