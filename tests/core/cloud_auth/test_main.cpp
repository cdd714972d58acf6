// tests/core/cloud_auth/test_main.cpp — Catch2's main for the cloud_auth tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
