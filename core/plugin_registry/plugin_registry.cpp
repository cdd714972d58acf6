// core/plugin_registry/plugin_registry.cpp — the registry: walks the search order, keeps the first plugin of each
// (kind, name), records problems and shadowed files, and looks plugins up by kind and name.
#include "plugin_registry/plugin_registry.h"

#include <map>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugin_registry/host_services.h"
#include "plugin_registry/plugin_loading.h"
#include "util/error.h"

namespace llmatc {

PluginRegistry& PluginRegistry::instance() {
    // Leaked on purpose: plugin tables must stay valid while static destructors of other objects still run.
    static PluginRegistry* registry = [] {
        auto* r = new PluginRegistry(default_plugin_search_dirs());
        for (const auto& p : r->problems()) spdlog::warn("{}", p.message);
        return r;
    }();
    return *registry;
}

PluginRegistry::PluginRegistry(std::vector<PluginSearchDir> search_dirs) : search_dirs_(std::move(search_dirs)) {
    // (kind, name) -> the file that provides it. A name is claimed only by a file that loads, so a broken file
    // early in the search order does not hide a good one later.
    std::map<std::pair<int, std::string>, std::filesystem::path> claimed;
    std::map<std::filesystem::path, bool> seen;  // the same file reached through two search directories
    for (const auto& dir : search_dirs_) {
        spdlog::debug("plugins: searching {} ({}{})", dir.dir.string(), dir.origin, dir.recursive ? ", recursive" : "");
        for (const auto& path : list_plugin_files(dir)) {
            std::error_code ec;
            auto canonical = std::filesystem::weakly_canonical(path, ec);
            if (ec) canonical = path;
            if (!seen.emplace(canonical, true).second) continue;
            auto file_name = parse_plugin_file_name(path.filename().string());
            if (!file_name) continue;  // list_plugin_files only returns conforming names
            auto key = std::make_pair(static_cast<int>(file_name->kind), file_name->name);
            if (auto it = claimed.find(key); it != claimed.end()) {
                spdlog::debug("plugins: {} is shadowed by {} (same kind and name, found earlier)", path.string(),
                              it->second.string());
                shadowed_.push_back({path, file_name->kind, file_name->name, it->second});
                continue;
            }
            auto outcome = load_plugin_file(path, process_host());
            if (auto* record = std::get_if<PluginRecord>(&outcome)) {
                spdlog::debug("plugins: loaded {} {} {} from {}", plugin_kind_display_name(record->kind),
                              record->name, record->version, path.string());
                claimed.emplace(key, path);
                plugins_.push_back(std::move(*record));
            } else {
                auto& problem = std::get<PluginProblem>(outcome);
                spdlog::debug("{}", problem.message);
                problems_.push_back(std::move(problem));
            }
        }
    }
}

const std::vector<PluginRecord>& PluginRegistry::plugins() const { return plugins_; }
const std::vector<PluginProblem>& PluginRegistry::problems() const { return problems_; }
const std::vector<ShadowedPlugin>& PluginRegistry::shadowed() const { return shadowed_; }
const std::vector<PluginSearchDir>& PluginRegistry::search_dirs() const { return search_dirs_; }

const PluginRecord& PluginRegistry::find(llmatc_plugin_kind kind, const std::string& name) const {
    std::string available;
    for (const auto& p : plugins_) {
        if (p.kind != kind) continue;
        if (p.name == name) return p;
        available += available.empty() ? p.name : ", " + p.name;
    }
    std::string searched;
    for (const auto& d : search_dirs_) searched += (searched.empty() ? "" : ", ") + d.dir.string();
    throw Error(LLMATC_ERR_NOT_FOUND,
                fmt::format("no {} plugin named '{}'; available: {} (searched: {}){}", plugin_kind_display_name(kind),
                            name, available.empty() ? "none" : available, searched.empty() ? "nothing" : searched,
                            problems_.empty() ? ""
                                              : fmt::format("; {} plugin file(s) could not be used, see `llm-atc "
                                                            "plugins`",
                                                            problems_.size())));
}

const llmatc_host* PluginRegistry::host() const { return process_host(); }

void PluginRegistry::register_service(const std::string& name, const void* service) {
    register_host_service(name, service);
}

void PluginRegistry::set_kernels(const llmatc_kernels* kernels) { set_host_kernels(kernels); }

}  // namespace llmatc
