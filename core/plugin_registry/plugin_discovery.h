// core/plugin_registry/plugin_discovery.h — where plugin files are looked for, and how their file names are read.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "llmatc/plugin.h"

namespace llmatc {

// One directory of the search order.
struct PluginSearchDir {
    std::filesystem::path dir;
    bool recursive = false;  // search subdirectories too (the build tree); explicit directories are not
    std::string origin;      // why it is searched: "LLMATC_PLUGIN_PATH", "build tree", "install dir" (for messages)
};

// What a plugin's file name says: libllmatc-<kind>-<name>.so with kind model | frontend | cloud.
struct PluginFileName {
    llmatc_plugin_kind kind;
    std::string name;
};

// Reads a file name (no directory). Returns nullopt for anything that is not libllmatc-<kind>-<name>.so with a
// known kind and a non-empty name — such files (other llm-atc modules) are not plugins and are ignored.
std::optional<PluginFileName> parse_plugin_file_name(const std::string& file_name);

// The word used for a kind in file names ("model", "frontend", "cloud") and in listings ("model", "frontend",
// "cloud_provider").
const char* plugin_kind_file_word(llmatc_plugin_kind kind);
const char* plugin_kind_display_name(llmatc_plugin_kind kind);

// The default search order:
//  1. each directory of LLMATC_PLUGIN_PATH (colon-separated; empty entries ignored), not recursive;
//  2. when the running executable sits inside a meson build directory (it or an ancestor holds meson-private/),
//     that build directory's models/, frontends/, cloud_providers/ and plugins/, recursively;
//  3. the install directory: the one configured at build time (LLMATC_PLUGIN_INSTALL_DIR) and, for an executable
//     outside a build tree, the same directory relative to it (so a relocated or DESTDIR install finds its own
//     plugins).
// Directories that do not exist are kept (the scan skips them), so messages can show what was searched.
std::vector<PluginSearchDir> default_plugin_search_dirs();

// The install directory configured at build time (meson's plugin_install_dir; pkg-config's `plugindir`).
std::filesystem::path configured_plugin_install_dir();

// The meson build directory holding `executable` (it or its nearest ancestor with meson-private/), if any.
std::optional<std::filesystem::path> meson_build_root_of(const std::filesystem::path& executable);

// The plugin files in one search directory, in a stable (sorted) order. A missing or unreadable directory gives
// an empty list; unreadable subdirectories are skipped.
std::vector<std::filesystem::path> list_plugin_files(const PluginSearchDir& dir);

}  // namespace llmatc
