// tests/core/cloud_auth/test_gcp_credentials.cpp — Google credential files and the RS256 JWT grant, verified with OpenSSL.
#include <catch2/catch.hpp>

#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "cloud_auth/crypto.h"
#include "cloud_auth/gcp_credentials.h"

using namespace llmatc::cloud_auth;

namespace {

struct TestKey {
    std::string private_pem, public_pem;
};

TestKey make_rsa_key() {
    EVP_PKEY* key = EVP_RSA_gen(2048);
    REQUIRE(key);
    BIO* priv = BIO_new(BIO_s_mem());
    BIO* pub = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr);
    PEM_write_bio_PUBKEY(pub, key);
    char* data = nullptr;
    TestKey k;
    long n = BIO_get_mem_data(priv, &data);
    k.private_pem.assign(data, static_cast<size_t>(n));
    n = BIO_get_mem_data(pub, &data);
    k.public_pem.assign(data, static_cast<size_t>(n));
    BIO_free(priv);
    BIO_free(pub);
    EVP_PKEY_free(key);
    return k;
}

std::string base64url_decode(std::string s) {
    for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
    size_t padding = 0;
    while (s.size() % 4) s.push_back('='), ++padding;
    std::string out(s.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                            static_cast<int>(s.size()));
    out.resize(static_cast<size_t>(n) - padding);  // EVP_DecodeBlock counts padding as zero bytes
    return out;
}

std::string json_escape_newlines(const std::string& pem) {
    std::string out;
    for (char c : pem) out += c == '\n' ? std::string("\\n") : std::string(1, c);
    return out;
}

}  // namespace

TEST_CASE("a service-account JWT is RS256-signed over header.claims and verifies with the public key") {
    const TestKey key = make_rsa_key();
    const std::string json = R"({"type":"service_account","client_email":"sa@p.iam.gserviceaccount.com",)"
                             R"("private_key":")" + json_escape_newlines(key.private_pem) +
                             R"(","token_uri":"http://127.0.0.1:1/token"})";
    const GcpCredentials creds = parse_gcp_credentials(json, "key.json");
    const std::string jwt = service_account_assertion(creds, "scope-x", 1700000000);
    const auto dot1 = jwt.find('.'), dot2 = jwt.rfind('.');
    REQUIRE(dot1 != dot2);
    const std::string claims = base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
    CHECK(claims.find(R"("iss":"sa@p.iam.gserviceaccount.com")") != std::string::npos);
    CHECK(claims.find(R"("aud":"http://127.0.0.1:1/token")") != std::string::npos);
    CHECK(claims.find(R"("exp":1700003600)") != std::string::npos);
    const std::string signature = base64url_decode(jwt.substr(dot2 + 1));
    BIO* bio = BIO_new_mem_buf(key.public_pem.data(), static_cast<int>(key.public_pem.size()));
    EVP_PKEY* pub = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    REQUIRE(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pub) == 1);
    const std::string signed_part = jwt.substr(0, dot2);
    CHECK(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                           reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pub);
    BIO_free(bio);
    CHECK(token_request_body(creds, "s", 1).rfind("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=", 0) == 0);
}

TEST_CASE("bad credential files name the file and the field") {
    CHECK_THROWS_WITH(parse_gcp_credentials("not json", "a.json"), Catch::Contains("a.json") && Catch::Contains("not a JSON object"));
    CHECK_THROWS_WITH(parse_gcp_credentials(R"({"type":"service_account","client_email":"x"})", "b.json"),
                      Catch::Contains("b.json") && Catch::Contains("private_key"));
    CHECK_THROWS_WITH(parse_gcp_credentials(R"({"type":"external_account"})", "c.json"), Catch::Contains("external_account"));
    const auto sa = parse_gcp_credentials(R"({"type":"service_account","client_email":"x","private_key":"garbage"})", "d.json");
    CHECK_THROWS_WITH(service_account_assertion(sa, "s", 0), Catch::Contains("d.json") && !Catch::Contains("garbage"));
    CHECK_THROWS_WITH(find_gcp_credentials({{"GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/k.json"}}),
                      Catch::Contains("/nonexistent/k.json"));
    const auto user = parse_gcp_credentials(
        R"({"type":"authorized_user","client_id":"id","client_secret":"sec","refresh_token":"r/t"})", "adc.json");
    CHECK(token_request_body(user, "s", 0) == "grant_type=refresh_token&client_id=id&client_secret=sec&refresh_token=r%2Ft");
}
