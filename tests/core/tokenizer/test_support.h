// tests/core/tokenizer/test_support.h — fixture paths, scratch checkpoint directories and random text for the tests.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace llmatc::test {

// ../shared, or $LLMATC_SHARED (meson's test() sets it).
inline std::filesystem::path shared_dir() {
    const char* env = std::getenv("LLMATC_SHARED");
    return env && *env ? std::filesystem::path(env) : std::filesystem::path("../shared");
}

inline std::filesystem::path llama2_dir() { return shared_dir() / "tokenizers" / "llama2"; }
inline std::filesystem::path stories_dir() { return shared_dir() / "models" / "stories260k"; }

// A fresh directory under the system temp dir, removed when the object goes away.
class ScratchDir {
public:
    explicit ScratchDir(const std::string& tag) {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                ("llmatc-tok-" + tag + "-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    void write(const std::string& name, const std::string& content) const {
        std::ofstream(path_ / name, std::ios::binary) << content;
    }
    void copy_from(const std::filesystem::path& file) const {
        std::filesystem::copy_file(file, path_ / file.filename());
    }

private:
    std::filesystem::path path_;
};

inline void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// One random code point from Latin, Latin-1, Greek, Cyrillic, Arabic, Devanagari, Hiragana, CJK or emoji.
inline uint32_t random_letter(std::mt19937& rng) {
    static const std::pair<uint32_t, uint32_t> kRanges[] = {
        {'a', 'z'},       {'A', 'Z'},       {'0', '9'},       {0x00E0, 0x00FF}, {0x03B1, 0x03C9},
        {0x0430, 0x044F}, {0x0627, 0x064A}, {0x0905, 0x0939}, {0x3041, 0x3096}, {0x4E00, 0x9FFF},
        {0x1F600, 0x1F64F}, {0x1F300, 0x1F5FF}, {'!', '/'},
    };
    const auto& r = kRanges[std::uniform_int_distribution<size_t>(0, std::size(kRanges) - 1)(rng)];
    return std::uniform_int_distribution<uint32_t>(r.first, r.second)(rng);
}

// Random words of random letters. `messy_spacing` adds leading/trailing/double spaces, tabs and newlines.
inline std::string random_text(std::mt19937& rng, bool messy_spacing) {
    std::string out;
    const int words = std::uniform_int_distribution<int>(1, 8)(rng);
    std::uniform_int_distribution<int> coin(0, 5);
    if (messy_spacing && coin(rng) == 0) out += " ";
    for (int w = 0; w < words; ++w) {
        if (w > 0) {
            out += " ";
            if (messy_spacing && coin(rng) == 0) out += coin(rng) < 3 ? " " : (coin(rng) < 3 ? "\n" : "\t");
        }
        const int letters = std::uniform_int_distribution<int>(1, 7)(rng);
        for (int l = 0; l < letters; ++l) append_utf8(out, random_letter(rng));
    }
    if (messy_spacing && coin(rng) == 0) out += coin(rng) < 3 ? " " : "\n";
    return out;
}

}  // namespace llmatc::test
