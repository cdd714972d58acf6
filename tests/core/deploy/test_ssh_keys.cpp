// tests/core/deploy/test_ssh_keys.cpp — the generated key pair is private, stable, and readable by OpenSSH.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "deploy/ssh_keys.h"

using namespace llmatc::deploy;
namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

TEST_CASE("the key pair is created once, 0600, in OpenSSH formats") {
    const fs::path dir = fs::temp_directory_path() / ("llmatc-keys-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    const SshKeyPair pair = ensure_ssh_key_pair(dir);
    struct stat st {};
    REQUIRE(::stat(pair.private_key.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    const std::string priv = slurp(pair.private_key), pub = slurp(pair.public_key);
    CHECK(priv.rfind("-----BEGIN OPENSSH PRIVATE KEY-----\n", 0) == 0);
    CHECK(pub.rfind("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 0) == 0);  // "ssh-ed25519" + 32-byte key length
    ensure_ssh_key_pair(dir);
    CHECK(slurp(pair.private_key) == priv);  // reused, not regenerated

    // When OpenSSH is installed, it must derive the same public key from our private key file.
    if (::access("/usr/bin/ssh-keygen", X_OK) == 0) {
        const std::string cmd = "/usr/bin/ssh-keygen -y -f '" + pair.private_key.string() + "'";
        FILE* p = ::popen(cmd.c_str(), "r");
        REQUIRE(p);
        char buf[512] = {0};
        std::string derived;
        while (std::fgets(buf, sizeof buf, p)) derived += buf;
        CHECK(::pclose(p) == 0);
        CHECK(pub.rfind(derived.substr(0, derived.find(' ', 12)), 0) == 0);
        CHECK(derived.size() > 60);
    }
    fs::remove_all(dir);
}
