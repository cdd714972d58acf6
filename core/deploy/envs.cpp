// core/deploy/envs.cpp — --envs parsing and API-key helpers.
#include "deploy/envs.h"

#include <openssl/rand.h>

#include <cctype>

#include "cloud_auth/crypto.h"
#include "util/error.h"

namespace llmatc::deploy {

namespace {

// POSIX-shell word splitting without expansions: '...' literal, "..." with \" \\ \$ \` escapes, \x outside.
std::vector<std::string> split_shell_words(const std::string& text) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) words.push_back(word), word.clear(), in_word = false;
            continue;
        }
        in_word = true;
        if (c == '\'') {
            const size_t close = text.find('\'', i + 1);
            if (close == std::string::npos)
                throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--envs: unterminated ' quote in item " +
                                                             std::to_string(words.size() + 1));
            word += text.substr(i + 1, close - i - 1);
            i = close;
        } else if (c == '"') {
            size_t j = i + 1;
            for (; j < text.size() && text[j] != '"'; ++j) {
                if (text[j] == '\\' && j + 1 < text.size() && std::string("\"\\$`").find(text[j + 1]) != std::string::npos)
                    ++j;
                word.push_back(text[j]);
            }
            if (j >= text.size())
                throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--envs: unterminated \" quote in item " +
                                                             std::to_string(words.size() + 1));
            i = j;
        } else if (c == '\\' && i + 1 < text.size()) {
            word.push_back(text[++i]);
        } else {
            word.push_back(c);
        }
    }
    if (in_word) words.push_back(word);
    return words;
}

bool valid_variable_name(const std::string& name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    return true;
}

}  // namespace

void parse_envs(const std::string& text, std::map<std::string, std::string>& envs) {
    const auto words = split_shell_words(text);
    for (size_t i = 0; i < words.size(); ++i) {
        const auto eq = words[i].find('=');
        if (eq == std::string::npos)
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--envs: item " + std::to_string(i + 1) +
                                                         " has no '=': write KEY=VALUE pairs separated by spaces");
        const std::string key = words[i].substr(0, eq);
        if (!valid_variable_name(key))
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--envs: '" + key + "' (item " + std::to_string(i + 1) +
                                                         ") is not a valid variable name: use letters, digits and _, "
                                                         "not starting with a digit");
        envs[key] = words[i].substr(eq + 1);
    }
}

std::vector<std::string> secrets_of(const std::map<std::string, std::string>& envs, const std::string& api_key) {
    std::vector<std::string> secrets;
    // Values under 6 characters ("1", "true", a port) are too short to be secrets and would garble every number in
    // masked output; anything longer is masked.
    for (const auto& [k, v] : envs)
        if (v.size() >= 6) secrets.push_back(v);
    if (!api_key.empty()) secrets.push_back(api_key);
    return secrets;
}

std::string generate_api_key() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error(LLMATC_ERR_INTERNAL, "OpenSSL's random generator failed");
    return "sk-llmatc-" + cloud_auth::to_hex(std::string(reinterpret_cast<char*>(bytes), sizeof bytes));
}

std::string api_key_hash(const std::string& api_key) { return api_key.empty() ? "" : cloud_auth::sha256_hex(api_key); }

}  // namespace llmatc::deploy
