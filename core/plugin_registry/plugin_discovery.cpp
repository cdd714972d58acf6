// core/plugin_registry/plugin_discovery.cpp — the plugin search order and the libllmatc-<kind>-<name>.so convention.
#include "plugin_registry/plugin_discovery.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <system_error>

#include <boost/dll/runtime_symbol_info.hpp>
#include <spdlog/spdlog.h>

#ifndef LLMATC_PLUGIN_INSTALL_DIR
#error "LLMATC_PLUGIN_INSTALL_DIR must be defined by the build (meson's plugin_install_dir)"
#endif
#ifndef LLMATC_PLUGIN_INSTALL_DIR_FROM_BINDIR
#error "LLMATC_PLUGIN_INSTALL_DIR_FROM_BINDIR must be defined by the build (plugin dir relative to bindir)"
#endif

namespace llmatc {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "libllmatc-";
constexpr std::string_view kSuffix = ".so";

// Subdirectories of a meson build directory that hold plugins (they mirror the source tree).
constexpr const char* kBuildTreePluginDirs[] = {"models", "frontends", "cloud_providers", "plugins"};

std::optional<llmatc_plugin_kind> kind_from_file_word(std::string_view word) {
    if (word == "model") return LLMATC_PLUGIN_MODEL;
    if (word == "frontend") return LLMATC_PLUGIN_FRONTEND;
    if (word == "cloud") return LLMATC_PLUGIN_CLOUD_PROVIDER;
    return std::nullopt;
}

std::optional<fs::path> running_executable() {
    try {
        return fs::path(boost::dll::program_location().string());
    } catch (const std::exception& e) {
        spdlog::debug("plugins: cannot tell where the executable is ({}); the build tree is not searched", e.what());
        return std::nullopt;
    }
}

}  // namespace

std::optional<PluginFileName> parse_plugin_file_name(const std::string& file_name) {
    std::string_view s(file_name);
    if (s.size() <= kPrefix.size() + kSuffix.size() || s.substr(0, kPrefix.size()) != kPrefix ||
        s.substr(s.size() - kSuffix.size()) != kSuffix)
        return std::nullopt;
    std::string_view middle = s.substr(kPrefix.size(), s.size() - kPrefix.size() - kSuffix.size());
    size_t dash = middle.find('-');
    if (dash == std::string_view::npos || dash + 1 >= middle.size()) return std::nullopt;
    auto kind = kind_from_file_word(middle.substr(0, dash));
    if (!kind) return std::nullopt;
    return PluginFileName{*kind, std::string(middle.substr(dash + 1))};
}

const char* plugin_kind_file_word(llmatc_plugin_kind kind) {
    switch (kind) {
        case LLMATC_PLUGIN_MODEL: return "model";
        case LLMATC_PLUGIN_FRONTEND: return "frontend";
        case LLMATC_PLUGIN_CLOUD_PROVIDER: return "cloud";
    }
    return "unknown";
}

const char* plugin_kind_display_name(llmatc_plugin_kind kind) {
    switch (kind) {
        case LLMATC_PLUGIN_MODEL: return "model";
        case LLMATC_PLUGIN_FRONTEND: return "frontend";
        case LLMATC_PLUGIN_CLOUD_PROVIDER: return "cloud_provider";
    }
    return "unknown";
}

fs::path configured_plugin_install_dir() { return fs::path(LLMATC_PLUGIN_INSTALL_DIR); }

std::optional<fs::path> meson_build_root_of(const fs::path& executable) {
    std::error_code ec;
    for (fs::path dir = executable.parent_path(); !dir.empty(); dir = dir.parent_path()) {
        if (fs::is_directory(dir / "meson-private", ec)) return dir;
        if (dir == dir.root_path()) break;
    }
    return std::nullopt;
}

std::vector<PluginSearchDir> default_plugin_search_dirs() {
    std::vector<PluginSearchDir> dirs;
    if (const char* env = std::getenv("LLMATC_PLUGIN_PATH")) {
        std::string_view rest(env);
        while (!rest.empty()) {
            size_t colon = rest.find(':');
            std::string_view entry = rest.substr(0, colon);
            if (!entry.empty()) dirs.push_back({fs::path(entry), false, "LLMATC_PLUGIN_PATH"});
            if (colon == std::string_view::npos) break;
            rest.remove_prefix(colon + 1);
        }
    }
    auto executable = running_executable();
    auto build_root = executable ? meson_build_root_of(*executable) : std::nullopt;
    if (build_root)
        for (const char* sub : kBuildTreePluginDirs) dirs.push_back({*build_root / sub, true, "build tree"});
    dirs.push_back({fs::path(LLMATC_PLUGIN_INSTALL_DIR), false, "install dir"});
    // An installed executable also looks for the install dir where it sits (DESTDIR or relocated installs); an
    // executable in the build tree has no installed plugins beside it.
    if (executable && !build_root) {
        fs::path relocated = (executable->parent_path() / LLMATC_PLUGIN_INSTALL_DIR_FROM_BINDIR).lexically_normal();
        if (relocated != fs::path(LLMATC_PLUGIN_INSTALL_DIR).lexically_normal())
            dirs.push_back({relocated, false, "install dir (relative to the executable)"});
    }
    return dirs;
}

std::vector<fs::path> list_plugin_files(const PluginSearchDir& search_dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    if (!fs::is_directory(search_dir.dir, ec)) return files;
    auto consider = [&](const fs::directory_entry& entry) {
        std::error_code entry_ec;
        if (entry.is_regular_file(entry_ec) && parse_plugin_file_name(entry.path().filename().string()))
            files.push_back(entry.path());
    };
    if (search_dir.recursive) {
        fs::recursive_directory_iterator it(search_dir.dir, fs::directory_options::skip_permission_denied, ec), end;
        for (; !ec && it != end; it.increment(ec)) consider(*it);
    } else {
        fs::directory_iterator it(search_dir.dir, fs::directory_options::skip_permission_denied, ec), end;
        for (; !ec && it != end; it.increment(ec)) consider(*it);
    }
    if (ec) spdlog::debug("plugins: stopped reading {}: {}", search_dir.dir.string(), ec.message());
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace llmatc
