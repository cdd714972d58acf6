// tests/core/cloud_auth/test_aws_credentials.cpp — the AWS credential chain: environment, profiles, bad files.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "cloud_auth/aws_credentials.h"

using namespace llmatc::cloud_auth;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir() {
    fs::path d = fs::temp_directory_path() / ("llmatc-aws-test-" + std::to_string(::getpid()));
    fs::create_directories(d / ".aws");
    return d;
}
void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
}  // namespace

TEST_CASE("environment credentials win and must be complete") {
    auto c = find_aws_credentials({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_SESSION_TOKEN", "t"}});
    CHECK(c.access_key_id == "AKID");
    CHECK(c.session_token == "t");
    CHECK(c.source == "environment");
    CHECK_THROWS_WITH(find_aws_credentials({{"AWS_ACCESS_KEY_ID", "AKID"}, {"HOME", "/nonexistent"}}),
                      Catch::Contains("AWS_SECRET_ACCESS_KEY is not set"));
}

TEST_CASE("the shared credentials file is read by profile") {
    const fs::path home = temp_dir();
    write(home / ".aws" / "credentials",
          "# comment\n[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n\n"
          "[dev]\naws_access_key_id=DEV\naws_secret_access_key=devsecret\naws_session_token = tok\n");
    auto d = find_aws_credentials({{"HOME", home.string()}});
    CHECK(d.access_key_id == "DEF");
    CHECK(d.secret_access_key == "defsecret");
    auto dev = find_aws_credentials({{"HOME", home.string()}, {"AWS_PROFILE", "dev"}});
    CHECK(dev.access_key_id == "DEV");
    CHECK(dev.session_token == "tok");
    CHECK_THROWS_WITH(find_aws_credentials({{"HOME", home.string()}, {"AWS_PROFILE", "prod"}}),
                      Catch::Contains("profile 'prod' not found") && Catch::Contains("AWS_PROFILE"));
    write(home / ".aws" / "config", "[profile dev]\nregion = eu-north-1\n");
    CHECK(find_aws_region({{"HOME", home.string()}, {"AWS_PROFILE", "dev"}}) == "eu-north-1");
    CHECK(find_aws_region({{"HOME", home.string()}, {"AWS_REGION", "ap-south-1"}}) == "ap-south-1");
    CHECK(find_aws_region({{"HOME", home.string()}}) == "us-east-1");
    fs::remove_all(home);
}

TEST_CASE("missing and malformed credential files give actionable messages without secrets") {
    const fs::path home = temp_dir();
    CHECK_THROWS_WITH(find_aws_credentials({{"HOME", home.string()}}),
                      Catch::Contains("no AWS credentials") && Catch::Contains("AWS_ACCESS_KEY_ID"));
    write(home / ".aws" / "credentials", "[default]\naws_access_key_id DEF\n");
    CHECK_THROWS_WITH(find_aws_credentials({{"HOME", home.string()}}), Catch::Contains("credentials:2"));
    write(home / ".aws" / "credentials", "[default]\naws_access_key_id = DEF\n");
    CHECK_THROWS_WITH(find_aws_credentials({{"HOME", home.string()}}), Catch::Contains("lacks aws_access_key_id or aws_secret_access_key"));
    fs::remove_all(home);
}
