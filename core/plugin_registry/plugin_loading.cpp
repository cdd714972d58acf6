// core/plugin_registry/plugin_loading.cpp — load one plugin file: dlopen, entry call, ABI negotiation, table checks.
#include "plugin_registry/plugin_loading.h"

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "llmatc/cloud.h"
#include "llmatc/frontend.h"
#include "llmatc/model.h"
#include "plugin_registry/plugin_discovery.h"
#include "util/error.h"

namespace llmatc {

namespace fs = std::filesystem;

namespace {

// The smallest struct_size each kind's table may have: the end of its ABI 1.0 fields. When a minor version adds
// fields, these stay as they are (older plugins remain loadable) and the host checks struct_size before reading
// the new fields.
constexpr size_t kModelTableSize_1_0 = offsetof(llmatc_model_plugin, chat_template) + sizeof(const char*);
constexpr size_t kFrontendTableSize_1_0 =
    offsetof(llmatc_frontend_plugin, destroy) + sizeof(llmatc_frontend_plugin::destroy);
constexpr size_t kCloudTableSize_1_0 = offsetof(llmatc_cloud_plugin, terminate) + sizeof(llmatc_cloud_plugin::terminate);

// Libraries stay loaded for the life of the process: plugins hand out tables and function pointers that the core
// keeps. Leaked on purpose so that no static destructor unloads code that is still referenced.
struct LoadedFiles {
    std::mutex mutex;
    std::vector<boost::dll::shared_library> libraries;
    std::map<fs::path, PluginLoadOutcome> outcomes;  // by canonical path
};

LoadedFiles& loaded_files() {
    static LoadedFiles* files = new LoadedFiles();
    return *files;
}

PluginProblem problem(const fs::path& path, const std::string& reason) {
    return PluginProblem{path, fmt::format("plugin {}: {}", path.string(), reason)};
}

// Returns the name of the first required slot that is NULL, or nullptr when all are set.
const char* missing_model_slot(const llmatc_model_plugin& t) {
    if (!t.architectures) return "architectures";
    if (!t.architectures[0]) return "architectures (empty list)";
    if (!t.create) return "create";
    if (!t.destroy) return "destroy";
    if (!t.describe) return "describe";
    if (!t.forward) return "forward";
    return nullptr;  // probe and chat_template may be NULL
}

const char* missing_frontend_slot(const llmatc_frontend_plugin& t) {
    if (!t.create) return "create";
    if (!t.bound_port) return "bound_port";
    if (!t.run) return "run";
    if (!t.stop) return "stop";
    if (!t.destroy) return "destroy";
    return nullptr;
}

const char* missing_cloud_slot(const llmatc_cloud_plugin& t) {
    if (!t.catalog) return "catalog";
    if (!t.provision) return "provision";
    if (!t.refresh) return "refresh";
    if (!t.stop) return "stop";
    if (!t.start) return "start";
    if (!t.terminate) return "terminate";
    return nullptr;
}

// Checks the kind-specific table; returns an empty string when it is usable, else the reason.
std::string check_interface(llmatc_plugin_kind kind, const void* interface) {
    // Every table starts with struct_size, abi_version (plugin.h's rule 3), so the size can be read first.
    uint32_t struct_size = *static_cast<const uint32_t*>(interface);
    size_t needed = 0;
    const char* table_name = "";
    const char* missing = nullptr;
    switch (kind) {
        case LLMATC_PLUGIN_MODEL: needed = kModelTableSize_1_0; table_name = "llmatc_model_plugin"; break;
        case LLMATC_PLUGIN_FRONTEND: needed = kFrontendTableSize_1_0; table_name = "llmatc_frontend_plugin"; break;
        case LLMATC_PLUGIN_CLOUD_PROVIDER: needed = kCloudTableSize_1_0; table_name = "llmatc_cloud_plugin"; break;
    }
    if (struct_size < needed)
        return fmt::format("its {} table has struct_size {}, smaller than the {} bytes of ABI 1.0's fields",
                           table_name, struct_size, needed);
    switch (kind) {
        case LLMATC_PLUGIN_MODEL: missing = missing_model_slot(*static_cast<const llmatc_model_plugin*>(interface)); break;
        case LLMATC_PLUGIN_FRONTEND:
            missing = missing_frontend_slot(*static_cast<const llmatc_frontend_plugin*>(interface));
            break;
        case LLMATC_PLUGIN_CLOUD_PROVIDER:
            missing = missing_cloud_slot(*static_cast<const llmatc_cloud_plugin*>(interface));
            break;
    }
    if (missing) return fmt::format("its {} table leaves the required slot '{}' NULL", table_name, missing);
    return {};
}

// Boost.DLL wraps dlerror()'s text as "...load() failed (dlerror system message: <text>): <errno text>"; the
// dynamic linker's own text is what a user can act on ("undefined symbol: ...", "wrong ELF class ...").
std::string dynamic_linker_reason(const std::string& what) {
    static const std::string marker = "(dlerror system message: ";
    size_t begin = what.find(marker);
    size_t end = what.rfind("):");
    if (begin == std::string::npos || end == std::string::npos || end < begin + marker.size()) return what;
    return what.substr(begin + marker.size(), end - begin - marker.size());
}

bool is_known_kind(int kind) {
    return kind == LLMATC_PLUGIN_MODEL || kind == LLMATC_PLUGIN_FRONTEND || kind == LLMATC_PLUGIN_CLOUD_PROVIDER;
}

// Calls the entry function. Returns an empty string on success, else the reason. A plugin written in C++ may let
// an exception escape its entry: it is caught here and reported, never propagated.
std::string call_entry(llmatc_plugin_entry_fn entry, const llmatc_host* host, llmatc_plugin_info& info) {
    set_thread_error(std::string());
    llmatc_status status;
    try {
        status = entry(host, &info);
    } catch (const std::exception& e) {
        return fmt::format("its entry function threw an exception: {}", e.what());
    } catch (...) {
        return "its entry function threw an exception of unknown type";
    }
    if (status == LLMATC_OK) return {};
    const std::string& said = thread_error();
    if (status == LLMATC_ERR_INCOMPATIBLE && info.abi_version != 0)
        return fmt::format("built for ABI {}, this llm-atc speaks {}{}{}", abi_version_string(info.abi_version),
                           abi_version_string(host->abi_version), said.empty() ? "" : " — the plugin says: ", said);
    return fmt::format("its entry function failed ({}): {}", status_name(status),
                       said.empty() ? "the plugin gave no message" : said);
}

PluginLoadOutcome load_uncached(const fs::path& path, const llmatc_host* host, LoadedFiles& files) {
    auto file_name = parse_plugin_file_name(path.filename().string());
    if (!file_name)
        return problem(path, "the file name is not libllmatc-<model|frontend|cloud>-<name>.so");

    boost::dll::shared_library library;
    try {
        library.load(boost::dll::fs::path(path.string()),
                     boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        return problem(path, fmt::format("cannot be loaded: {}", dynamic_linker_reason(e.what())));
    }
    // Kept even when the plugin is refused below: unloading code whose entry already ran (and may have registered
    // atexit handlers or started nothing we can see) is not safe, and the cost is one mapping.
    files.libraries.push_back(library);

    if (!library.has(LLMATC_PLUGIN_ENTRY_SYMBOL))
        return problem(path, "it does not export " LLMATC_PLUGIN_ENTRY_SYMBOL
                             " (define it with LLMATC_PLUGIN_DEFINE from llmatc/plugin_export.h)");
    auto entry = library.get<llmatc_status(const llmatc_host*, llmatc_plugin_info*)>(LLMATC_PLUGIN_ENTRY_SYMBOL);

    llmatc_plugin_info info{};
    info.struct_size = sizeof(llmatc_plugin_info);
    if (std::string failure = call_entry(entry, host, info); !failure.empty()) return problem(path, failure);

    const uint32_t host_version = host->abi_version;
    if (info.abi_version == 0)
        return problem(path, "its entry function returned OK without saying which ABI it was built for "
                             "(info->abi_version is 0)");
    if (LLMATC_VERSION_MAJOR(info.abi_version) != LLMATC_VERSION_MAJOR(host_version) ||
        LLMATC_VERSION_MINOR(info.abi_version) > LLMATC_VERSION_MINOR(host_version))
        return problem(path, fmt::format("built for ABI {}, this llm-atc speaks {}", abi_version_string(info.abi_version),
                                         abi_version_string(host_version)));
    if (!is_known_kind(info.kind))
        return problem(path, fmt::format("it declares an unknown plugin kind {}", static_cast<int>(info.kind)));
    if (!info.name || !info.name[0]) return problem(path, "it declares no name (info->name is NULL or empty)");
    if (info.kind != file_name->kind || file_name->name != info.name)
        return problem(path, fmt::format("it declares itself {} '{}', but its file name says {} '{}'",
                                         plugin_kind_file_word(info.kind), info.name,
                                         plugin_kind_file_word(file_name->kind), file_name->name));
    if (!info.interface) return problem(path, "its entry function returned OK but info->interface is NULL");
    if (std::string bad = check_interface(info.kind, info.interface); !bad.empty()) return problem(path, bad);

    PluginRecord record;
    record.kind = info.kind;
    record.name = info.name;
    record.version = info.version ? info.version : "";
    record.description = info.description ? info.description : "";
    record.path = path;
    record.interface = info.interface;
    record.abi_version = info.abi_version;
    return record;
}

}  // namespace

std::string abi_version_string(uint32_t version) {
    return fmt::format("{}.{}", LLMATC_VERSION_MAJOR(version), LLMATC_VERSION_MINOR(version));
}

PluginLoadOutcome load_plugin_file(const fs::path& path, const llmatc_host* host) {
    std::error_code ec;
    fs::path key = fs::weakly_canonical(path, ec);
    if (ec) key = fs::absolute(path, ec);
    LoadedFiles& files = loaded_files();
    std::lock_guard lock(files.mutex);
    if (auto it = files.outcomes.find(key); it != files.outcomes.end()) return it->second;
    PluginLoadOutcome outcome;
    try {
        outcome = load_uncached(path, host, files);
    } catch (const std::exception& e) {
        outcome = problem(path, fmt::format("loading failed: {}", e.what()));  // e.g. out of memory
    }
    files.outcomes.emplace(key, outcome);
    return outcome;
}

}  // namespace llmatc
