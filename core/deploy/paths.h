// core/deploy/paths.h — where the launcher keeps its state ($LLMATC_HOME), cluster folders, and private files.
#pragma once

#include <filesystem>
#include <string>

namespace llmatc::deploy {

// $LLMATC_HOME, else $HOME/.llm-atc; created with mode 0700 when missing (an existing folder keeps its mode).
std::filesystem::path llmatc_home();

// <home>/clusters/<name>, created 0700: the cluster's logs, secrets and provider files.
std::filesystem::path cluster_dir(const std::string& cluster);

// Throws llmatc::Error(INVALID_ARGUMENT) unless `name` is 1-63 characters of [A-Za-z0-9._-] starting with a
// letter or digit: it becomes a folder name, an SSH Host alias and, on clouds, part of resource names.
void validate_cluster_name(const std::string& name);

// Creates `dir` (and parents) with mode 0700 for the folders it creates.
void make_private_dir(const std::filesystem::path& dir);

// Writes `content` to `path` atomically (temporary file + rename) with mode `mode` (0600 for anything secret).
void write_file_atomically(const std::filesystem::path& path, const std::string& content, unsigned mode = 0600);

// The whole file as a string; throws llmatc::Error(IO) naming the file when it cannot be read.
std::string read_file(const std::filesystem::path& path);

// This executable's absolute path (/proc/self/exe): clusters on this machine run the same `llm-atc serve`.
std::filesystem::path self_executable();

}  // namespace llmatc::deploy
