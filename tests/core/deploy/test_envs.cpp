// tests/core/deploy/test_envs.cpp — --envs parsing: quoting, accumulation, and errors that never echo a value.
#include <catch2/catch.hpp>

#include "deploy/envs.h"

using namespace llmatc::deploy;

TEST_CASE("shell-style quoting and repeated --envs add up") {
    std::map<std::string, std::string> envs;
    parse_envs("HF_TOKEN=hf_abc A='x y' B=\"q \\\"z\\\"\" C=", envs);
    parse_envs("D=1 A=over\\ ride", envs);
    CHECK(envs.at("HF_TOKEN") == "hf_abc");
    CHECK(envs.at("A") == "over ride");
    CHECK(envs.at("B") == "q \"z\"");
    CHECK(envs.at("C").empty());
    CHECK(envs.at("D") == "1");
    CHECK(envs.at("HF_TOKEN") == "hf_abc");
    parse_envs("", envs);
    CHECK(envs.size() == 5);
}

TEST_CASE("malformed pairs are refused by position and key, never by value") {
    std::map<std::string, std::string> envs;
    CHECK_THROWS_WITH(parse_envs("A=1 hf_secretvalue", envs), Catch::Contains("item 2") && !Catch::Contains("hf_secret"));
    CHECK_THROWS_WITH(parse_envs("1BAD=v", envs), Catch::Contains("'1BAD'"));
    CHECK_THROWS_WITH(parse_envs("A-B=v", envs), Catch::Contains("'A-B'") && Catch::Contains("valid variable name"));
    CHECK_THROWS_WITH(parse_envs("A='secret", envs), Catch::Contains("unterminated") && !Catch::Contains("secret'"));
    CHECK_THROWS_WITH(parse_envs("=v", envs), Catch::Contains("valid variable name"));
}

TEST_CASE("API keys are random, hashed for state, and secrets list every value") {
    const std::string a = generate_api_key(), b = generate_api_key();
    CHECK(a != b);
    CHECK(a.rfind("sk-llmatc-", 0) == 0);
    CHECK(api_key_hash(a).size() == 64);
    CHECK(api_key_hash(a) != a);
    CHECK(api_key_hash("").empty());
    const auto secrets = secrets_of({{"A", "hf_token_value"}, {"B", ""}, {"PORT", "8000"}}, "sk-key");
    CHECK(secrets == std::vector<std::string>{"hf_token_value", "sk-key"});
}
