// tests/core/kernels_cuda/test_main.cpp — Catch2's main for the CPU-side tests of the CUDA backend's loading.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
