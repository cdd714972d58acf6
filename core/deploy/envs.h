// core/deploy/envs.h — `--envs "K=V K2='v 2'"` parsing (shell-style quoting) and the secrets it implies.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace llmatc::deploy {

// Adds the pairs of one --envs value to `envs` (repeated --envs add up; a later key replaces an earlier one).
// Splits like a POSIX shell (quotes, backslash escapes). Throws llmatc::Error(INVALID_ARGUMENT) naming the bad
// item by position and key — never by value, which may be a secret: an item without '=', an invalid variable name,
// an unterminated quote.
void parse_envs(const std::string& text, std::map<std::string, std::string>& envs);

// Every value that must never be shown: the --envs values of 6 characters or more (any may be a token), plus the API key.
std::vector<std::string> secrets_of(const std::map<std::string, std::string>& envs, const std::string& api_key);

// A fresh random API key ("sk-llmatc-" + 32 hex digits) and the SHA-256 hex stored in state in place of it.
std::string generate_api_key();
std::string api_key_hash(const std::string& api_key);

}  // namespace llmatc::deploy
