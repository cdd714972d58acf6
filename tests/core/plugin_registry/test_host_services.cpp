// tests/core/plugin_registry/test_host_services.cpp — the llmatc_host table: version, errors, services, kernels, log.
#include <catch2/catch.hpp>

#include <cstring>
#include <memory>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "fixture_plugins.h"
#include "util/error.h"

using namespace llmatc;
using llmatc::test::fixture_registry;

TEST_CASE("the host offers this build's ABI version and its own struct size", "[host]") {
    const llmatc_host* host = fixture_registry().host();
    REQUIRE(host != nullptr);
    CHECK(host->abi_version == LLMATC_ABI_VERSION);
    CHECK(host->struct_size == sizeof(llmatc_host));
    // One table per process: every registry hands out the same one (plugins keep the pointer).
    llmatc::test::TempDir empty;
    PluginRegistry other({{empty.path(), false, "test"}});
    CHECK(other.host() == host);
}

TEST_CASE("set_error and last_error are the calling thread's error message", "[host]") {
    const llmatc_host* host = fixture_registry().host();
    const char msg[] = "tensor model.norm.weight missing\0trailing bytes are not part of it";
    host->set_error(msg, std::strlen(msg));
    CHECK(thread_error() == "tensor model.norm.weight missing");
    CHECK(std::string(host->last_error()) == "tensor model.norm.weight missing");
    set_thread_error("set by the core");
    CHECK(std::string(host->last_error()) == "set by the core");
    host->set_error(nullptr, 5);  // a NULL message clears it rather than crashing
    CHECK(std::string(host->last_error()).empty());
}

TEST_CASE("get_service returns what the core registered under that name, NULL otherwise", "[host]") {
    auto& registry = fixture_registry();
    const llmatc_host* host = registry.host();
    static const int engine_stand_in = 42;
    CHECK(host->get_service("engine") == nullptr);
    registry.register_service("engine", &engine_stand_in);
    CHECK(host->get_service("engine") == &engine_stand_in);
    CHECK(host->get_service("no-such-service") == nullptr);
    CHECK(host->get_service(nullptr) == nullptr);
    registry.register_service("engine", nullptr);
    CHECK(host->get_service("engine") == nullptr);
}

TEST_CASE("set_kernels is what plugins see as host->kernels", "[host]") {
    auto& registry = fixture_registry();
    llmatc_kernels kernels{};
    kernels.struct_size = sizeof(kernels);
    kernels.name = "test";
    registry.set_kernels(&kernels);
    CHECK(registry.host()->kernels == &kernels);
    registry.set_kernels(nullptr);
    CHECK(registry.host()->kernels == nullptr);
}

TEST_CASE("log writes through spdlog, prefixed with the plugin's name", "[host]") {
    auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(8);
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
    spdlog::set_level(spdlog::level::debug);
    const llmatc_host* host = fixture_registry().host();
    const char msg[] = "loaded 12 tensorsXXXX";
    host->log(LLMATC_LOG_WARN, "llama", msg, std::strlen("loaded 12 tensors"));
    host->log(LLMATC_LOG_INFO, nullptr, nullptr, 0);
    auto lines = sink->last_formatted();
    spdlog::set_default_logger(previous);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("[llama] loaded 12 tensors") != std::string::npos);
    CHECK(lines[0].find("XXXX") == std::string::npos);
    CHECK(lines[0].find("warning") != std::string::npos);
    CHECK(lines[1].find("[plugin]") != std::string::npos);
}
