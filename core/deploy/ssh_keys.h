// core/deploy/ssh_keys.h — the launcher's SSH key pair (ed25519, OpenSSH formats) under $LLMATC_HOME, mode 0600.
#pragma once

#include <filesystem>
#include <string>

namespace llmatc::deploy {

struct SshKeyPair {
    std::filesystem::path private_key;  // OpenSSH "openssh-key-v1" format, unencrypted, 0600
    std::filesystem::path public_key;   // "ssh-ed25519 AAAA... comment", 0600
};

// Returns <dir>/llm-atc-key{,.pub}, generating them with OpenSSL when either is missing.
SshKeyPair ensure_ssh_key_pair(const std::filesystem::path& dir);

// The two files' contents for a fresh ed25519 key (exposed for tests).
struct SshKeyText {
    std::string private_key_text;
    std::string public_key_text;
};
SshKeyText generate_ed25519_key_text(const std::string& comment);

}  // namespace llmatc::deploy
