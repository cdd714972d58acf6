// tests/core/tokenizer/test_main.cpp — Catch2's main for the tokenizer and chat-template tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
