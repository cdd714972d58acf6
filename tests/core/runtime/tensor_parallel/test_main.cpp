// tests/core/runtime/tensor_parallel/test_main.cpp — Catch2's main for the tensor-parallelism tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
