// tests/core/kernels/test_main.cpp — Catch2's main for the CPU kernel tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
