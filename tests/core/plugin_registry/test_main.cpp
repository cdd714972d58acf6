// tests/core/plugin_registry/test_main.cpp — the Catch2 main of the plugin registry tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
