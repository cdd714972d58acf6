// tests/cloud_providers/test_sigv4_test_suite.cpp — core/cloud_auth's SigV4 (which signs every EC2 call of the aws
// plugin) against cases of AWS's published aws-sig-v4-test-suite: example credentials AKIDEXAMPLE, 20150830T123600Z,
// us-east-1, service "service". (The IAM and S3 documentation examples are in tests/core/cloud_auth.)
#include <catch2/catch.hpp>

#include "cloud_auth/crypto.h"
#include "cloud_auth/sigv4.h"

using namespace llmatc::cloud_auth;

namespace {

const AwsCredentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "test suite"};
constexpr const char* kDate = "20150830T123600Z";

}  // namespace

TEST_CASE("aws-sig-v4-test-suite get-vanilla") {
    SigV4Request req{"GET", "/", {}, {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kDate}}, sha256_hex("")};
    std::string signed_headers;
    const std::string creq = canonical_request(req, &signed_headers);
    CHECK(creq == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(string_to_sign(creq, kDate, "us-east-1", "service") ==
          "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
          "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    CHECK(sigv4_authorization(req, kSuiteCredentials, kDate, "us-east-1", "service") ==
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
          "SignedHeaders=host;x-amz-date, "
          "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST_CASE("aws-sig-v4-test-suite post-x-www-form-urlencoded (the shape of every EC2 Query call)") {
    SigV4Request req{"POST", "/", {},
                     {{"Content-Type", "application/x-www-form-urlencoded"}, {"Host", "example.amazonaws.com"},
                      {"X-Amz-Date", kDate}},
                     sha256_hex("Param1=value1")};
    std::string signed_headers;
    const std::string creq = canonical_request(req, &signed_headers);
    CHECK(signed_headers == "content-type;host;x-amz-date");
    CHECK(creq == "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
                  "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
                  "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    CHECK(sigv4_authorization(req, kSuiteCredentials, kDate, "us-east-1", "service") ==
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
          "SignedHeaders=content-type;host;x-amz-date, "
          "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST_CASE("aws-sig-v4-test-suite get-vanilla-query-order-key-case") {
    SigV4Request req{"GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}},
                     {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kDate}}, sha256_hex("")};
    CHECK(sigv4_authorization(req, kSuiteCredentials, kDate, "us-east-1", "service") ==
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
          "SignedHeaders=host;x-amz-date, "
          "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}
