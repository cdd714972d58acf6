// tests/models/test_main.cpp — Catch2's main for the model-plugin tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
