// tests/core/tokenizer/test_gguf_tokenizer.cpp — tokenizers rebuilt from GGUF metadata (no tokenizer.model beside
// the file): llama.cpp's own Llama vocabulary GGUF against the llama.cpp vectors and against Llama 2's
// tokenizer.model, and clear errors for unsupported or inconsistent tokenizer metadata.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <sstream>

#include <rapidjson/document.h>

#include "test_json.h"
#include "test_support.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

using llmatc::Tokenizer;
namespace t = llmatc::test;
using t::error_of;
using t::ids_of;
using t::read_json;

namespace {

// A GGUF v3 header with metadata only, written field by field (little-endian), for error cases.
class GgufBuilder {
public:
    void string_kv(const std::string& key, const std::string& value) {
        begin(key, 8);
        str(value);
        ++n_kv_;
    }
    void strings_kv(const std::string& key, const std::vector<std::string>& values) {
        begin(key, 9);
        u32(8);
        u64(values.size());
        for (const auto& v : values) str(v);
        ++n_kv_;
    }
    void floats_kv(const std::string& key, const std::vector<float>& values) {
        begin(key, 9);
        u32(6);
        u64(values.size());
        for (float v : values) raw(&v, 4);
        ++n_kv_;
    }
    void write(const std::filesystem::path& path) const {
        std::string header = "GGUF";
        auto put = [&](const void* p, size_t n) { header.append(static_cast<const char*>(p), n); };
        const uint32_t version = 3;
        const uint64_t n_tensors = 0;
        put(&version, 4);
        put(&n_tensors, 8);
        put(&n_kv_, 8);
        std::ofstream(path, std::ios::binary) << header << body_;
    }

private:
    void begin(const std::string& key, uint32_t type) {
        str(key);
        u32(type);
    }
    void raw(const void* p, size_t n) { body_.append(static_cast<const char*>(p), n); }
    void u32(uint32_t v) { raw(&v, 4); }
    void u64(uint64_t v) { raw(&v, 8); }
    void str(const std::string& s) {
        u64(s.size());
        body_ += s;
    }
    std::string body_;
    uint64_t n_kv_ = 0;
};

}  // namespace

TEST_CASE("llama.cpp's Llama vocabulary GGUF tokenizes like Llama 2's tokenizer.model", "[gguf_tokenizer]") {
    t::ScratchDir dir("gguf-vocab");
    dir.copy_from(t::llama2_dir() / "ggml-vocab-llama-spm.gguf");
    const auto from_gguf = Tokenizer::load(dir.path());
    const auto from_model = Tokenizer::load(t::llama2_dir());  // has tokenizer.model: the GGUF beside it is unused

    REQUIRE(from_gguf->vocab_size() == 32000);
    REQUIRE(from_gguf->bos_id() == 1);
    REQUIRE(from_gguf->eos_id() == 2);
    REQUIRE(from_gguf->bos_token() == "<s>");
    REQUIRE(from_gguf->eos_token() == "</s>");

    auto doc = read_json(t::llama2_dir() / "ggml-vocab-llama-spm.vectors.json");
    const auto& cases = doc["cases"];
    REQUIRE(cases.Size() == 46);
    for (const auto& c : cases.GetArray()) {
        const std::string text(c["text"].GetString(), c["text"].GetStringLength());
        INFO("text: '" << text << "'");
        std::vector<int32_t> expected;
        for (const auto& v : c["ids"].GetArray()) expected.push_back(v.GetInt());
        const std::vector<int32_t> ids = from_gguf->encode(text, false);
        CHECK(ids == expected);
        CHECK(ids == from_model->encode(text, false));
        CHECK(from_gguf->encode(text, true) == from_model->encode(text, true));
        CHECK(from_gguf->decode(expected, false) == from_model->decode(expected, false));
        CHECK(from_gguf->decode(expected, true) == from_model->decode(expected, true));
    }
    // Every piece reads the same and has the same special status.
    for (int32_t id = 0; id < 32000; ++id) {
        if (from_gguf->token_text(id) != from_model->token_text(id) ||
            from_gguf->is_special(id) != from_model->is_special(id)) {
            INFO("token " << id);
            REQUIRE(from_gguf->token_text(id) == from_model->token_text(id));
            REQUIRE(from_gguf->is_special(id) == from_model->is_special(id));
        }
    }
}

TEST_CASE("GGUF tokenizer metadata that cannot be used gives an error naming the file and the problem",
          "[gguf_tokenizer]") {
    t::ScratchDir dir("gguf-bad");
    const auto path = dir.path() / "model.gguf";

    GgufBuilder gpt2;
    gpt2.string_kv("general.architecture", "llama");
    gpt2.string_kv("tokenizer.ggml.model", "gpt2");
    gpt2.strings_kv("tokenizer.ggml.tokens", {"a", "b"});
    gpt2.write(path);
    std::string message = error_of([&] { Tokenizer::load(dir.path()); });
    INFO(message);
    CHECK(message.find("model.gguf") != std::string::npos);
    CHECK(message.find("\"gpt2\" is not supported") != std::string::npos);

    GgufBuilder no_scores;
    no_scores.string_kv("tokenizer.ggml.model", "llama");
    no_scores.strings_kv("tokenizer.ggml.tokens", {"<unk>", "a"});
    no_scores.floats_kv("tokenizer.ggml.scores", {0.0f});
    no_scores.write(path);
    message = error_of([&] { Tokenizer::load(dir.path()); });
    CHECK(message.find("tokenizer.ggml.scores has 1 entries for 2 tokens") != std::string::npos);

    GgufBuilder no_model;
    no_model.string_kv("general.architecture", "llama");
    no_model.write(path);
    message = error_of([&] { Tokenizer::load(dir.path()); });
    CHECK(message.find("tokenizer.ggml.model") != std::string::npos);

    // A truncated header is reported, not read past.
    const std::string bytes = [&] {
        std::ifstream in(path, std::ios::binary);
        std::stringstream b;
        b << in.rdbuf();
        return b.str();
    }();
    std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() - 3);
    message = error_of([&] { Tokenizer::load(dir.path()); });
    CHECK(message.find("truncated") != std::string::npos);
}
