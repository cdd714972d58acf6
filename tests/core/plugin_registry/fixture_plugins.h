// tests/core/plugin_registry/fixture_plugins.h — where the fixture plugins are, and a registry over just them.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "plugin_registry/plugin_registry.h"

namespace llmatc::test {

// The build directory of tests/core/plugin_registry/fixtures (set by meson test as LLMATC_TEST_PLUGIN_DIR).
inline std::filesystem::path fixture_plugin_dir() {
    const char* dir = std::getenv("LLMATC_TEST_PLUGIN_DIR");
    if (!dir || !*dir)
        throw std::runtime_error("LLMATC_TEST_PLUGIN_DIR is not set: run these tests through `meson test`");
    return dir;
}

inline std::filesystem::path fixture_plugin(const std::string& kind_and_name) {
    return fixture_plugin_dir() / ("libllmatc-" + kind_and_name + ".so");
}

// A registry over the fixture directory only (not recursive).
inline PluginRegistry& fixture_registry() {
    static PluginRegistry registry({{fixture_plugin_dir(), false, "test fixtures"}});
    return registry;
}

// The problem recorded for `path`, or nullptr.
inline const PluginProblem* problem_for(const PluginRegistry& registry, const std::filesystem::path& path) {
    for (const auto& p : registry.problems())
        if (p.path == path) return &p;
    return nullptr;
}

inline const PluginRecord* plugin_named(const PluginRegistry& registry, const std::string& name) {
    for (const auto& p : registry.plugins())
        if (p.name == name) return &p;
    return nullptr;
}

// A fresh empty directory under the system temp dir, removed when the object goes away.
class TempDir {
public:
    TempDir() {
        auto base = std::filesystem::temp_directory_path();
        for (int i = 0;; ++i) {
            path_ = base / ("llmatc-registry-test-" + std::to_string(::getpid()) + "-" + std::to_string(i));
            if (std::filesystem::create_directory(path_)) break;
        }
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace llmatc::test
