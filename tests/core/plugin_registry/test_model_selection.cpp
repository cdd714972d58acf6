// tests/core/plugin_registry/test_model_selection.cpp — choosing the model plugin for a checkpoint.
#include <catch2/catch.hpp>

#include "fixture_plugins.h"
#include "util/error.h"

using namespace llmatc;
using llmatc::test::fixture_registry;
using Catch::Matchers::Contains;

TEST_CASE("a plugin without probe is chosen when config.json lists one of its architectures", "[selection]") {
    const auto& registry = fixture_registry();
    CHECK(registry.select_model_plugin(R"({"architectures": ["GoodForCausalLM"]})", "some/model", "").name == "good");
    CHECK(registry.select_model_plugin(R"({"architectures": ["X", "GoodAliasForCausalLM"]})", "m", "").name ==
          "good");
}

TEST_CASE("the highest probe score wins", "[selection]") {
    const auto& registry = fixture_registry();
    // picky scores 150 for a GoodForCausalLM checkpoint whose name says "picky"; good scores the generic 100.
    CHECK(registry.select_model_plugin(R"({"architectures": ["GoodForCausalLM"]})", "org/picky-7b", "").name ==
          "picky");
    CHECK(registry.select_model_plugin(R"({"architectures": ["PickyForCausalLM"]})", "org/x", "").name == "picky");
}

TEST_CASE("a forced plugin is used whatever the config says, and an unknown forced name lists the choices",
          "[selection]") {
    const auto& registry = fixture_registry();
    CHECK(registry.select_model_plugin(R"({"architectures": ["PickyForCausalLM"]})", "m", "good").name == "good");
    try {
        registry.select_model_plugin("{}", "m", "llama");
        FAIL("selection should have thrown");
    } catch (const Error& e) {
        CHECK(e.status() == LLMATC_ERR_NOT_FOUND);
        CHECK_THAT(e.what(), Contains("no model plugin named 'llama'"));
        CHECK_THAT(e.what(), Contains("good, olderminor, picky"));
    }
}

TEST_CASE("an unsupported architecture lists every supported architecture string and its plugin", "[selection]") {
    const auto& registry = fixture_registry();
    try {
        registry.select_model_plugin(R"({"architectures": ["MambaForCausalLM"]})", "state-spaces/mamba", "");
        FAIL("selection should have thrown");
    } catch (const Error& e) {
        CHECK(e.status() == LLMATC_ERR_UNSUPPORTED);
        CHECK_THAT(e.what(), Contains("state-spaces/mamba"));
        CHECK_THAT(e.what(), Contains("[MambaForCausalLM]"));
        CHECK_THAT(e.what(), Contains("GoodForCausalLM (good)"));
        CHECK_THAT(e.what(), Contains("GoodAliasForCausalLM (good)"));
        CHECK_THAT(e.what(), Contains("PickyForCausalLM (picky)"));
    }
}

TEST_CASE("a config.json that is not JSON or has no architectures matches nothing, with a clear message",
          "[selection]") {
    const auto& registry = fixture_registry();
    for (const char* config : {"not json", "{\"architectures\": \"GoodForCausalLM\"}", "[]"}) {
        INFO(config);
        try {
            registry.select_model_plugin(config, "m", "");
            FAIL("selection should have thrown");
        } catch (const Error& e) {
            CHECK(e.status() == LLMATC_ERR_UNSUPPORTED);
            CHECK_THAT(e.what(), Contains("[none given]"));
        }
    }
}

TEST_CASE("with no model plugins at all, the message says so", "[selection]") {
    llmatc::test::TempDir empty;
    PluginRegistry registry({{empty.path(), false, "test"}});
    try {
        registry.select_model_plugin(R"({"architectures": ["LlamaForCausalLM"]})", "m", "");
        FAIL("selection should have thrown");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Contains("no model plugin was found"));
    }
}
