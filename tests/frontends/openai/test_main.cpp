// tests/frontends/openai/test_main.cpp — Catch2's main for the openai frontend tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
