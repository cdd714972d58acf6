// tests/core/plugin_registry/test_broken_plugins.cpp — every broken fixture plugin is skipped with a message that
// names its file (and, for version refusals, both versions), while the good ones load.
#include <catch2/catch.hpp>

#include <fstream>

#include "fixture_plugins.h"
#include "plugin_registry/plugin_loading.h"
#include "util/error.h"

using namespace llmatc;
using llmatc::test::fixture_plugin;
using llmatc::test::fixture_registry;
using llmatc::test::plugin_named;
using llmatc::test::problem_for;
using Catch::Matchers::Contains;

namespace {

// Asserts the file was refused, its message names it, and it contains every fragment.
void require_problem(const std::string& kind_and_name, std::initializer_list<const char*> fragments) {
    const auto path = fixture_plugin(kind_and_name);
    INFO("fixture " << path.string());
    REQUIRE(std::filesystem::exists(path));
    const PluginProblem* problem = problem_for(fixture_registry(), path);
    REQUIRE(problem != nullptr);
    CHECK_THAT(problem->message, Contains(path.string()));
    for (const char* f : fragments) CHECK_THAT(problem->message, Contains(f));
    for (const auto& p : fixture_registry().plugins()) CHECK(p.path != path);
}

}  // namespace

TEST_CASE("the well-formed fixture plugins load with what their entry functions declared", "[registry]") {
    const auto& registry = fixture_registry();
    const PluginRecord* good = plugin_named(registry, "good");
    REQUIRE(good != nullptr);
    CHECK(good->kind == LLMATC_PLUGIN_MODEL);
    CHECK(good->version == "1.2.3");
    CHECK(good->description == "test plugin that loads");
    CHECK(good->path == fixture_plugin("model-good"));
    CHECK(good->abi_version == LLMATC_ABI_VERSION);
    REQUIRE(good->interface != nullptr);
    const auto* table = static_cast<const llmatc_model_plugin*>(good->interface);
    CHECK(std::string(table->architectures[0]) == "GoodForCausalLM");

    const PluginRecord* cloud = plugin_named(registry, "testcloud");
    REQUIRE(cloud != nullptr);
    CHECK(cloud->kind == LLMATC_PLUGIN_CLOUD_PROVIDER);
    REQUIRE(plugin_named(registry, "picky") != nullptr);

    // Exactly the four good ones load; the eleven others are problems.
    CHECK(registry.plugins().size() == 4);
    CHECK(registry.problems().size() == 11);
}

TEST_CASE("a plugin built for another ABI major is refused naming the file and both versions", "[registry]") {
    require_problem("model-wrongmajor", {"built for ABI 2.0", "this llm-atc speaks 1.2"});
}

TEST_CASE("a plugin built for a newer minor is refused naming the file and both versions", "[registry]") {
    require_problem("model-newerminor", {"built for ABI 1.3", "this llm-atc speaks 1.2"});
}

TEST_CASE("a plugin built for an older minor (ABI 1.0) loads and keeps its version", "[registry]") {
    const PluginRecord* older = plugin_named(fixture_registry(), "olderminor");
    REQUIRE(older != nullptr);
    CHECK(older->abi_version == LLMATC_MAKE_VERSION(1, 0));
    CHECK(LLMATC_VERSION_MINOR(LLMATC_ABI_VERSION) >= 1);
}

TEST_CASE("a plugin that claims a newer minor without negotiating is refused by the host", "[registry]") {
    require_problem("model-overclaim", {"built for ABI 1.3", "this llm-atc speaks 1.2"});
}

TEST_CASE("a library without the entry symbol is reported, not loaded", "[registry]") {
    require_problem("model-noentry", {"does not export llmatc_plugin_entry"});
}

TEST_CASE("a failing entry is reported with its status and its own message", "[registry]") {
    require_problem("model-failing", {"entry function failed (not found)", "/nonexistent/failing.dat is missing"});
}

TEST_CASE("an exception thrown by a C++ entry is caught and reported", "[registry]") {
    require_problem("model-throwing", {"threw an exception", "exception from the entry function"});
}

TEST_CASE("an entry that returns OK without an interface is reported", "[registry]") {
    require_problem("model-nullinterface", {"info->interface is NULL"});
}

TEST_CASE("a table whose struct_size is too small for ABI 1.0 is reported", "[registry]") {
    require_problem("model-smallstruct", {"llmatc_model_plugin", "struct_size 8"});
}

TEST_CASE("a table that leaves a required slot NULL is reported naming the slot", "[registry]") {
    require_problem("model-missingslot", {"required slot 'create' NULL"});
}

TEST_CASE("a plugin whose declared kind and name disagree with its file name is reported", "[registry]") {
    require_problem("model-misnamed", {"declares itself frontend 'openai'", "file name says model 'misnamed'"});
}

TEST_CASE("a library the dynamic linker cannot load is reported with the linker's reason", "[registry]") {
    require_problem("model-unresolved", {"cannot be loaded", "llmatc_test_function_that_does_not_exist"});
}

TEST_CASE("a file that is not a shared library is reported, and a later good file of that name still loads",
          "[registry]") {
    llmatc::test::TempDir first;
    const auto garbage = first.path() / "libllmatc-model-good.so";
    std::ofstream(garbage) << "this is not an ELF file\n";
    PluginRegistry registry({{first.path(), false, "test"}, {llmatc::test::fixture_plugin_dir(), false, "test"}});
    const PluginProblem* problem = problem_for(registry, garbage);
    REQUIRE(problem != nullptr);
    CHECK_THAT(problem->message, Contains(garbage.string()));
    CHECK_THAT(problem->message, Contains("cannot be loaded"));
    const PluginRecord* good = plugin_named(registry, "good");
    REQUIRE(good != nullptr);
    CHECK(good->path == fixture_plugin("model-good"));
    CHECK(registry.shadowed().empty());
}

TEST_CASE("the first plugin of a kind and name wins; later files are shadowed, not opened", "[registry]") {
    llmatc::test::TempDir second;
    const auto copy = second.path() / "libllmatc-model-good.so";
    std::filesystem::copy_file(fixture_plugin("model-good"), copy);
    PluginRegistry registry({{llmatc::test::fixture_plugin_dir(), false, "test"}, {second.path(), false, "test"}});
    const PluginRecord* good = plugin_named(registry, "good");
    REQUIRE(good != nullptr);
    CHECK(good->path == fixture_plugin("model-good"));
    REQUIRE(registry.shadowed().size() == 1);
    CHECK(registry.shadowed()[0].path == copy);
    CHECK(registry.shadowed()[0].kind == LLMATC_PLUGIN_MODEL);
    CHECK(registry.shadowed()[0].name == "good");
    CHECK(registry.shadowed()[0].shadowed_by == fixture_plugin("model-good"));
}

TEST_CASE("a plugin file's entry runs once per process: a second registry sees the same outcome", "[registry]") {
    PluginRegistry again({{llmatc::test::fixture_plugin_dir(), false, "test"}});
    const PluginRecord* first = plugin_named(fixture_registry(), "good");
    const PluginRecord* second = plugin_named(again, "good");
    REQUIRE(first != nullptr);
    REQUIRE(second != nullptr);
    CHECK(first->interface == second->interface);
    CHECK(again.problems().size() == fixture_registry().problems().size());
}

TEST_CASE("find names the available plugins of that kind when one is absent", "[registry]") {
    const auto& registry = fixture_registry();
    CHECK(registry.find(LLMATC_PLUGIN_CLOUD_PROVIDER, "testcloud").name == "testcloud");
    try {
        registry.find(LLMATC_PLUGIN_MODEL, "mamba");
        FAIL("find should have thrown");
    } catch (const Error& e) {
        CHECK(e.status() == LLMATC_ERR_NOT_FOUND);
        CHECK_THAT(e.what(), Contains("no model plugin named 'mamba'"));
        CHECK_THAT(e.what(), Contains("good, olderminor, picky"));
        CHECK_THAT(e.what(), Contains("11 plugin file(s) could not be used"));
    }
}

TEST_CASE("the good plugin received the host table: its create reports through host->set_error", "[registry]") {
    const PluginRecord* good = plugin_named(fixture_registry(), "good");
    REQUIRE(good != nullptr);
    const auto* table = static_cast<const llmatc_model_plugin*>(good->interface);
    llmatc_model* model = reinterpret_cast<llmatc_model*>(0x1);
    set_thread_error("");
    CHECK(table->create(nullptr, &model) == LLMATC_ERR_UNSUPPORTED);
    CHECK(model == nullptr);
    CHECK(thread_error() == "good test plugin: create reached the plugin through the host table");
}
