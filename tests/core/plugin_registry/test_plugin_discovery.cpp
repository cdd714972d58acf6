// tests/core/plugin_registry/test_plugin_discovery.cpp — the file-name convention and the search order.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include <boost/dll/runtime_symbol_info.hpp>

#include "fixture_plugins.h"
#include "plugin_registry/plugin_discovery.h"

using namespace llmatc;
namespace fs = std::filesystem;

TEST_CASE("plugin file names are libllmatc-<kind>-<name>.so with a known kind", "[discovery]") {
    auto model = parse_plugin_file_name("libllmatc-model-llama.so");
    REQUIRE(model);
    CHECK(model->kind == LLMATC_PLUGIN_MODEL);
    CHECK(model->name == "llama");
    auto cloud = parse_plugin_file_name("libllmatc-cloud-aws.so");
    REQUIRE(cloud);
    CHECK(cloud->kind == LLMATC_PLUGIN_CLOUD_PROVIDER);
    auto frontend = parse_plugin_file_name("libllmatc-frontend-open-ai.so");
    REQUIRE(frontend);
    CHECK(frontend->kind == LLMATC_PLUGIN_FRONTEND);
    CHECK(frontend->name == "open-ai");  // the name is everything after the kind

    CHECK_FALSE(parse_plugin_file_name("libllmatc-kernels-cuda.so"));  // another llm-atc module, not a plugin
    CHECK_FALSE(parse_plugin_file_name("libllmatc-model-.so"));
    CHECK_FALSE(parse_plugin_file_name("libllmatc-model.so"));
    CHECK_FALSE(parse_plugin_file_name("libllmatc-model-llama.so.p"));
    CHECK_FALSE(parse_plugin_file_name("llmatc-model-llama.so"));
    CHECK_FALSE(parse_plugin_file_name("libllmatc-model-llama.a"));
}

TEST_CASE("kinds are listed as model, frontend and cloud_provider", "[discovery]") {
    CHECK(std::string(plugin_kind_display_name(LLMATC_PLUGIN_MODEL)) == "model");
    CHECK(std::string(plugin_kind_display_name(LLMATC_PLUGIN_FRONTEND)) == "frontend");
    CHECK(std::string(plugin_kind_display_name(LLMATC_PLUGIN_CLOUD_PROVIDER)) == "cloud_provider");
    CHECK(std::string(plugin_kind_file_word(LLMATC_PLUGIN_CLOUD_PROVIDER)) == "cloud");
}

TEST_CASE("the search order is LLMATC_PLUGIN_PATH, then the build tree, then the install directory", "[discovery]") {
    const char* saved = std::getenv("LLMATC_PLUGIN_PATH");
    std::string saved_value = saved ? saved : "";
    ::setenv("LLMATC_PLUGIN_PATH", "/first/dir::/second/dir:", 1);
    auto dirs = default_plugin_search_dirs();
    if (saved)
        ::setenv("LLMATC_PLUGIN_PATH", saved_value.c_str(), 1);
    else
        ::unsetenv("LLMATC_PLUGIN_PATH");

    REQUIRE(dirs.size() >= 3);
    CHECK(dirs[0].dir == "/first/dir");
    CHECK(dirs[0].origin == "LLMATC_PLUGIN_PATH");
    CHECK_FALSE(dirs[0].recursive);
    CHECK(dirs[1].dir == "/second/dir");  // the empty entry between them is ignored
    CHECK(dirs[1].origin == "LLMATC_PLUGIN_PATH");

    // This test program runs from the meson build tree, so the build tree's plugin folders come next, recursively.
    const fs::path exe(boost::dll::program_location().string());
    auto build_root = meson_build_root_of(exe);
    REQUIRE(build_root);
    CHECK(fs::exists(*build_root / "build.ninja"));
    std::vector<fs::path> expected = {*build_root / "models", *build_root / "frontends",
                                      *build_root / "cloud_providers", *build_root / "plugins"};
    REQUIRE(dirs.size() >= 2 + expected.size() + 1);
    for (size_t i = 0; i < expected.size(); ++i) {
        CHECK(dirs[2 + i].dir == expected[i]);
        CHECK(dirs[2 + i].recursive);
        CHECK(dirs[2 + i].origin == "build tree");
    }
    CHECK(dirs[2 + expected.size()].dir == configured_plugin_install_dir());
    CHECK(dirs[2 + expected.size()].origin == "install dir");
    CHECK(configured_plugin_install_dir().is_absolute());
}

TEST_CASE("an executable outside a meson build directory has no build tree", "[discovery]") {
    llmatc::test::TempDir dir;
    fs::create_directories(dir.path() / "usr" / "bin");
    CHECK_FALSE(meson_build_root_of(dir.path() / "usr" / "bin" / "llm-atc"));
    fs::create_directories(dir.path() / "build" / "meson-private");
    fs::create_directories(dir.path() / "build" / "tests" / "x");
    auto root = meson_build_root_of(dir.path() / "build" / "tests" / "x" / "test-prog");
    REQUIRE(root);
    CHECK(*root == dir.path() / "build");
}

TEST_CASE("listing a directory finds plugin files only, sorted; recursion only when asked", "[discovery]") {
    llmatc::test::TempDir dir;
    fs::create_directories(dir.path() / "models" / "llama");
    fs::create_directories(dir.path() / "libllmatc-model-x.so.p");  // meson's object folder: a directory
    for (const char* name : {"libllmatc-model-b.so", "libllmatc-frontend-a.so", "README.md", "libllmatc-kernels-cuda.so"})
        std::ofstream(dir.path() / name) << "x";
    std::ofstream(dir.path() / "models" / "llama" / "libllmatc-model-llama.so") << "x";

    auto flat = list_plugin_files({dir.path(), false, "test"});
    REQUIRE(flat.size() == 2);
    CHECK(flat[0] == dir.path() / "libllmatc-frontend-a.so");
    CHECK(flat[1] == dir.path() / "libllmatc-model-b.so");

    auto deep = list_plugin_files({dir.path(), true, "test"});
    REQUIRE(deep.size() == 3);
    CHECK(deep[2] == dir.path() / "models" / "llama" / "libllmatc-model-llama.so");

    CHECK(list_plugin_files({dir.path() / "missing", true, "test"}).empty());
}
