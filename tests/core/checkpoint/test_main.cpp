// tests/core/checkpoint/test_main.cpp — the Catch2 main of the checkpoint reader tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
