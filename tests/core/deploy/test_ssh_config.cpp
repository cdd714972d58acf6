// tests/core/deploy/test_ssh_config.cpp — the SSH config writer changes only its own block, on realistic files.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "deploy/ssh_config.h"

using namespace llmatc::deploy;
namespace fs = std::filesystem;

namespace {

const std::string kUserConfig =
    "# my ssh config\n"
    "Include ~/.ssh/config.d/*\n"
    "\n"
    "Host github.com\n"
    "    User git\n"
    "    IdentityFile ~/.ssh/id_github\n"
    "\n"
    "Host *.internal  # work machines\n"
    "\tProxyJump bastion\n"
    "\n"
    "Host *\n"
    "  ServerAliveInterval 30\n"
    "  # trailing comment without a final newline";

SshHostEntry entry(const std::string& host, const std::string& ip) {
    return {host, ip, "alice", "/home/alice/.llm-atc/llm-atc-key", 22};
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

fs::path scratch(const std::string& tag) {
    fs::path d = fs::temp_directory_path() / ("llmatc-ssh-" + tag + "-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

}  // namespace

TEST_CASE("HostName follows Host on the next line, so the seed's grep -A1 finds the address") {
    const std::string text = upsert_ssh_block(kUserConfig, entry("servecluster", "10.1.2.3"));
    const auto host_line = text.find("Host servecluster\n");
    REQUIRE(host_line != std::string::npos);
    const auto next = text.find('\n', host_line) + 1;
    CHECK(text.compare(next, std::string("  HostName 10.1.2.3\n").size(), "  HostName 10.1.2.3\n") == 0);
    CHECK(text.find("User alice") != std::string::npos);
    CHECK(text.find("IdentityFile \"/home/alice/.llm-atc/llm-atc-key\"") != std::string::npos);
    CHECK(text.find("Port 22") != std::string::npos);
}

TEST_CASE("insert, replace and remove leave every other byte as it was") {
    const std::string with_a = upsert_ssh_block(kUserConfig, entry("a", "10.0.0.1"));
    CHECK(with_a.size() > kUserConfig.size());
    CHECK(with_a.substr(with_a.size() - kUserConfig.size()) == kUserConfig);  // user's text intact, after our block

    const std::string with_ab = upsert_ssh_block(with_a, entry("b", "10.0.0.2"));
    const std::string relaunched = upsert_ssh_block(with_ab, entry("a", "10.9.9.9"));  // replaced where it stands
    CHECK(relaunched.find("10.0.0.1") == std::string::npos);
    CHECK(relaunched.find("10.9.9.9") != std::string::npos);
    CHECK(relaunched.size() == with_ab.size());
    CHECK(relaunched.find("Host b\n  HostName 10.0.0.2\n") != std::string::npos);

    const std::string without_a = remove_ssh_block(relaunched, "a");
    CHECK(without_a.find("Host a\n") == std::string::npos);
    CHECK(remove_ssh_block(without_a, "b") == kUserConfig);
    CHECK(remove_ssh_block(kUserConfig, "never-added") == kUserConfig);
}

TEST_CASE("a cluster whose name prefixes another's is edited alone") {
    std::string text = upsert_ssh_block("", entry("c1", "1.1.1.1"));
    text = upsert_ssh_block(text, entry("c10", "2.2.2.2"));
    text = remove_ssh_block(text, "c1");
    CHECK(text == render_ssh_block(entry("c10", "2.2.2.2")));
}

TEST_CASE("CRLF files and a user's own 'Host' line for the same name are left alone") {
    const std::string crlf = "Host mybox\r\n  HostName 5.5.5.5\r\n";
    const std::string added = upsert_ssh_block(crlf, entry("mybox2", "6.6.6.6"));
    CHECK(remove_ssh_block(added, "mybox2") == crlf);
    // The user's hand-written block for the same alias is not ours: we add ours above it and never touch theirs.
    const std::string same = upsert_ssh_block(crlf, entry("mybox", "7.7.7.7"));
    CHECK(remove_ssh_block(same, "mybox") == crlf);
}

TEST_CASE("a begin line without its end line is refused rather than guessed at") {
    const std::string broken = render_ssh_block(entry("x", "1.1.1.1"));
    const std::string truncated = broken.substr(0, broken.find("# <<<"));
    CHECK_THROWS_WITH(upsert_ssh_block(truncated, entry("x", "2.2.2.2")), Catch::Contains("end line"));
}

TEST_CASE("files: created 0600 in a 0700 folder, existing mode kept, symlinks followed, missing file ignored") {
    const fs::path dir = scratch("files");
    const fs::path cfg = dir / ".ssh" / "config";
    remove_ssh_config_entry(cfg, "a");  // nothing there: nothing happens
    CHECK(!fs::exists(cfg));
    write_ssh_config_entry(cfg, entry("a", "10.0.0.1"));
    struct stat st {};
    REQUIRE(::stat(cfg.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    REQUIRE(::stat(cfg.parent_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    remove_ssh_config_entry(cfg, "a");
    CHECK(slurp(cfg).empty());

    const fs::path real = dir / "dotfiles-config";
    { std::ofstream(real, std::ios::binary) << kUserConfig; }
    ::chmod(real.c_str(), 0640);
    fs::remove(cfg);
    fs::create_symlink(real, cfg);
    write_ssh_config_entry(cfg, entry("a", "10.0.0.1"));
    CHECK(fs::is_symlink(cfg));
    REQUIRE(::stat(real.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    CHECK(slurp(real).find("Host a\n  HostName 10.0.0.1") != std::string::npos);
    remove_ssh_config_entry(cfg, "a");
    CHECK(slurp(real) == kUserConfig);
    fs::remove_all(dir);
}
