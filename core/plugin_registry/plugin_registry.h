// core/plugin_registry/plugin_registry.h — discovers, negotiates with and lists plugins; hands out their tables.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "llmatc/cloud.h"
#include "llmatc/frontend.h"
#include "llmatc/model.h"
#include "llmatc/plugin.h"
#include "plugin_registry/plugin_discovery.h"

namespace llmatc {

struct PluginRecord {
    llmatc_plugin_kind kind;
    std::string name;
    std::string version;
    std::string description;
    std::filesystem::path path;
    const void* interface;  // kind-specific table (llmatc_model_plugin* ...), valid for the process lifetime
    uint32_t abi_version = 0;  // the ABI the plugin was built for (LLMATC_MAKE_VERSION)
};

// A plugin file that could not be used, and why (shown by `llm-atc plugins`, logged as a warning).
// `message` names the file and the reason ("plugin /x/libllmatc-model-y.so: built for ABI 2.0, this llm-atc
// speaks 1.0").
struct PluginProblem {
    std::filesystem::path path;
    std::string message;
};

// A plugin file not loaded because an earlier file in the search order provides the same (kind, name).
// Kind and name come from its file name: it was never opened.
struct ShadowedPlugin {
    std::filesystem::path path;
    llmatc_plugin_kind kind;
    std::string name;
    std::filesystem::path shadowed_by;
};

class PluginRegistry {
public:
    // The process's registry over default_plugin_search_dirs() (plugin_discovery.h): LLMATC_PLUGIN_PATH
    // (colon-separated), the build tree beside the executable, the install directory. Files named
    // libllmatc-<kind>-<name>.so; the first plugin of a (kind, name) wins. Broken or incompatible files are skipped,
    // recorded in problems() and logged as warnings. Loaded libraries are never unloaded. Built on first use;
    // thread-safe.
    static PluginRegistry& instance();

    // A registry over explicit directories, searched in order (tests, `llm-atc plugins`). Does not log problems
    // above debug level: the caller shows them. A file already loaded by another registry of this process is not
    // loaded again (its entry runs once per process); both registries see the same outcome.
    explicit PluginRegistry(std::vector<PluginSearchDir> search_dirs);
    PluginRegistry(const PluginRegistry&) = delete;
    PluginRegistry& operator=(const PluginRegistry&) = delete;

    const std::vector<PluginRecord>& plugins() const;
    const std::vector<PluginProblem>& problems() const;
    const std::vector<ShadowedPlugin>& shadowed() const;
    const std::vector<PluginSearchDir>& search_dirs() const;

    // The model plugin for a checkpoint: `forced` (a plugin name) when non-empty, else the highest probe score
    // (a plugin without probe scores 100 when config.json's `architectures` holds one of its strings; ties go to
    // the earlier plugin in the search order). Throws llmatc::Error (LLMATC_ERR_UNSUPPORTED) listing every supported
    // architecture string and its plugin when none fits; LLMATC_ERR_NOT_FOUND when `forced` names no model plugin.
    const PluginRecord& select_model_plugin(const std::string& config_json, const std::string& model_name,
                                            const std::string& forced) const;
    // By kind and name; throws llmatc::Error (LLMATC_ERR_NOT_FOUND) listing the available names when absent.
    const PluginRecord& find(llmatc_plugin_kind kind, const std::string& name) const;

    // The host table given to plugins (one per process, shared by every registry; see host_services.h). Services
    // for get_service() are registered by the core before use.
    const llmatc_host* host() const;
    void register_service(const std::string& name, const void* service);
    // The kernel backend plugins see through host()->kernels.
    void set_kernels(const llmatc_kernels* kernels);

private:
    std::vector<PluginSearchDir> search_dirs_;
    std::vector<PluginRecord> plugins_;
    std::vector<PluginProblem> problems_;
    std::vector<ShadowedPlugin> shadowed_;
};

}  // namespace llmatc
