// tests/core/tokenizer/test_json.h — Catch2 helpers shared by the tokenizer tests: reading a JSON vector file,
// its id arrays, and the message an llmatc::Error carries.
#pragma once

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "util/error.h"

namespace llmatc::test {

inline rapidjson::Document read_json(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::stringstream buffer;
    buffer << in.rdbuf();
    rapidjson::Document doc;
    doc.Parse(buffer.str().c_str());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

inline std::vector<int32_t> ids_of(const rapidjson::Value& array) {
    std::vector<int32_t> ids;
    for (const auto& v : array.GetArray()) ids.push_back(v.GetInt());
    return ids;
}

// Thrown message of `fn`, or "" when it did not throw llmatc::Error.
template <typename Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const llmatc::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace llmatc::test
