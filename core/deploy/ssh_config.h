// core/deploy/ssh_config.h — keeps one marked `Host <cluster>` block per cluster in ~/.ssh/config, touching nothing else.
#pragma once

#include <filesystem>
#include <string>

namespace llmatc::deploy {

struct SshHostEntry {
    std::string host;           // the alias: the cluster name
    std::string hostname;       // IP address
    std::string user;
    std::string identity_file;  // absolute path of the private key
    int port = 22;
};

// The block, begin and end marker lines included, each line ending in "\n". `HostName` directly follows `Host` so
// `grep -A1 "Host <cluster>" ~/.ssh/config | grep HostName` finds the address.
std::string render_ssh_block(const SshHostEntry& entry);

// Pure text transforms. Upsert replaces the cluster's marked block where it stands, or inserts it at the top of the
// file (ssh uses the first value it reads for a parameter, so a block above the user's `Host *` wins for this
// host); every byte outside the block is kept. Remove deletes exactly the block's lines; no block = unchanged.
std::string upsert_ssh_block(const std::string& config_text, const SshHostEntry& entry);
std::string remove_ssh_block(const std::string& config_text, const std::string& host);

// $HOME/.ssh/config.
std::filesystem::path default_ssh_config_path();

// Apply the transforms to a file: written atomically, the existing file's mode kept (a new file: 0600, in a 0700
// ~/.ssh); a symlinked config is edited at its target. Removing from a missing file does nothing.
void write_ssh_config_entry(const std::filesystem::path& config_path, const SshHostEntry& entry);
void remove_ssh_config_entry(const std::filesystem::path& config_path, const std::string& host);

}  // namespace llmatc::deploy
