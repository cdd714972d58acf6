// tests/cloud_providers/test_main.cpp — Catch2's main for the cloud-provider tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
