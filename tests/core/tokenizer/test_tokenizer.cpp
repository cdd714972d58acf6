// tests/core/tokenizer/test_tokenizer.cpp — encode/decode against the fixture vectors, round trips, config handling.
#include <catch2/catch.hpp>

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

// Checks every {text, ids} case of a vector file, encoded without BOS/EOS.
void check_vector_file(const Tokenizer& tok, const std::filesystem::path& file, size_t expected_cases) {
    auto doc = read_json(file);
    const auto& cases = doc["cases"];
    REQUIRE(cases.Size() == expected_cases);
    for (const auto& c : cases.GetArray()) {
        const std::string text(c["text"].GetString(), c["text"].GetStringLength());
        INFO("text: '" << text << "'");
        CHECK(tok.encode(text, false) == ids_of(c["ids"]));
    }
}

}  // namespace

TEST_CASE("llama2 tokenizer matches all llama.cpp vectors") {
    auto tok = Tokenizer::load(t::llama2_dir());
    auto doc = read_json(t::llama2_dir() / "ggml-vocab-llama-spm.vectors.json");
    REQUIRE(doc["add_bos"].GetBool() == false);
    check_vector_file(*tok, t::llama2_dir() / "ggml-vocab-llama-spm.vectors.json", 46);
    CHECK(tok->vocab_size() == 32000);
    CHECK(tok->bos_id() == 1);
    CHECK(tok->eos_id() == 2);
    CHECK(tok->bos_token() == "<s>");
    CHECK(tok->eos_token() == "</s>");
    CHECK(tok->chat_template().empty());
}

TEST_CASE("stories260k tokenizer matches its vectors and adds BOS as its config says") {
    auto tok = Tokenizer::load(t::stories_dir());
    check_vector_file(*tok, t::stories_dir() / "tokenizer_vectors.json", 25);
    auto ref = read_json(t::stories_dir() / "reference.json");
    const auto& cases = ref.IsArray() ? ref : ref["cases"];
    for (const auto& c : cases.GetArray()) {
        const std::string prompt = c["prompt"].GetString();
        INFO(prompt);
        CHECK(tok->encode(prompt, true) == ids_of(c["prompt_ids"]));
    }
}

TEST_CASE("encode then decode gives back random Unicode text") {
    std::mt19937 rng(1234);
    SECTION("llama2, any spacing") {
        auto tok = Tokenizer::load(t::llama2_dir());
        for (int i = 0; i < 400; ++i) {
            const std::string text = t::random_text(rng, true);
            INFO("text: '" << text << "'");
            REQUIRE(tok->decode(tok->encode(text, true), true) == text);
        }
    }
    SECTION("stories260k, single spaces (its normalizer collapses whitespace)") {
        auto tok = Tokenizer::load(t::stories_dir());
        for (int i = 0; i < 400; ++i) {
            const std::string text = t::random_text(rng, false);
            INFO("text: '" << text << "'");
            REQUIRE(tok->decode(tok->encode(text, false), true) == text);
        }
    }
}

TEST_CASE("special-token strings in text become their ids (legacy: text after them gets the dummy space)") {
    auto tok = Tokenizer::load(t::llama2_dir());
    // Expected ids are what transformers 4.44 LlamaTokenizer(legacy=True) gives for the same strings.
    CHECK(tok->encode("<s>[INST] Hi </s><s> there", false) ==
          std::vector<int32_t>{1, 518, 25580, 29962, 6324, 29871, 2, 1, 29871, 727});
    CHECK(tok->encode("Hello <s>world", false) == std::vector<int32_t>{15043, 29871, 1, 3186});
    CHECK(tok->encode("<unk>z", false) == std::vector<int32_t>{0, 503});
    CHECK(tok->encode("", true) == std::vector<int32_t>{1});
    CHECK(tok->encode("", false).empty());
    // A rendered chat template starting with bos_token encodes to a single BOS, not "<", "s", ">".
    auto ids = tok->encode("<s>Hello", true);
    CHECK(ids == std::vector<int32_t>{1, 1, 15043});
}

TEST_CASE("legacy=false follows LlamaTokenizer's non-legacy rules") {
    t::ScratchDir dir("nonlegacy");
    dir.copy_from(t::llama2_dir() / "tokenizer.model");
    dir.write("tokenizer_config.json", R"({"legacy": false, "add_bos_token": true})");
    auto tok = Tokenizer::load(dir.path());
    // Expected ids are what transformers 4.44 LlamaTokenizer(legacy=False) gives.
    CHECK(tok->encode("<s>[INST] Hi </s><s> there", false) ==
          std::vector<int32_t>{1, 29961, 25580, 29962, 6324, 29871, 2, 1, 727});
    CHECK(tok->encode("Hello <s>world", false) == std::vector<int32_t>{15043, 29871, 1, 11526});
    CHECK(tok->encode("<s> x", false) == std::vector<int32_t>{1, 921});
    CHECK(tok->encode("a</s>b", false) == std::vector<int32_t>{263, 2, 29890});
    CHECK(tok->encode("\xE2\x96\x81x \xE2\x96\x81y", false) == std::vector<int32_t>{29871, 921, 29871, 343});
    CHECK(tok->encode(" lead", false) == std::vector<int32_t>{29871, 3275});
    CHECK(tok->encode("Hello world", true) == std::vector<int32_t>{1, 15043, 3186});
}

TEST_CASE("decode: skip_special drops control tokens; otherwise they read as their text") {
    auto tok = Tokenizer::load(t::llama2_dir());
    const std::vector<int32_t> ids{1, 15043, 2, 3186, 2};
    CHECK(tok->decode(ids, true) == "Hello world");
    CHECK(tok->decode(ids, false) == "<s> Hello</s> world</s>");
    CHECK(tok->is_special(1));
    CHECK(tok->is_special(2));
    CHECK_FALSE(tok->is_special(15043));
    // Byte-fallback pieces join into characters; an incomplete character reads as U+FFFD.
    CHECK(tok->decode(std::vector<int32_t>{3 + 0xE4, 3 + 0xB8, 3 + 0xAD}, true) == "\xE4\xB8\xAD");
    CHECK(tok->decode(std::vector<int32_t>{15043, 3 + 0xE4}, true) == "Hello\xEF\xBF\xBD");
    CHECK(tok->token_text(15043) == " Hello");
    CHECK(tok->token_text(3 + 0xE4) == "\xE4");
    CHECK(tok->token_text(1) == "<s>");
    const std::string range_error = error_of([&] { tok->decode(std::vector<int32_t>{15043, 32000}, true); });
    CHECK(range_error.find("32000") != std::string::npos);
    CHECK(error_of([&] { tok->token_text(-1); }).find("-1") != std::string::npos);
}

TEST_CASE("tokenizer_config.json: added tokens, add_eos_token, token objects, chat_template list") {
    t::ScratchDir dir("config");
    dir.copy_from(t::llama2_dir() / "tokenizer.model");
    dir.write("tokenizer_config.json", R"({
      "add_bos_token": false, "add_eos_token": true,
      "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": {"content": "</s>"},
      "added_tokens_decoder": {
        "32000": {"content": "<|im_start|>", "lstrip": false, "rstrip": false, "special": true},
        "32001": {"content": "<|im_end|>", "lstrip": false, "rstrip": true, "special": true},
        "32002": {"content": "<tool>", "special": false}
      },
      "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D{{ x }}"}]
    })");
    auto tok = Tokenizer::load(dir.path());
    CHECK(tok->vocab_size() == 32003);
    CHECK(tok->chat_template() == "D{{ x }}");
    const auto hello = tok->encode("Hello", false);
    auto ids = tok->encode("<|im_start|>Hello<|im_end|>   Hello", true);
    std::vector<int32_t> expected{32000};
    expected.insert(expected.end(), hello.begin(), hello.end());
    expected.push_back(32001);  // rstrip eats the spaces after it
    expected.insert(expected.end(), hello.begin(), hello.end());
    expected.push_back(2);      // add_eos_token, and no BOS
    CHECK(ids == expected);
    CHECK(tok->is_special(32000));
    CHECK_FALSE(tok->is_special(32002));
    CHECK(tok->decode(std::vector<int32_t>{32000, 15043, 32002}, true) == "Hello<tool>");
    CHECK(tok->decode(std::vector<int32_t>{32000, 15043, 32001}, false) == "<|im_start|> Hello<|im_end|>");
    CHECK(tok->token_text(32001) == "<|im_end|>");
}

TEST_CASE("bad tokenizer files give errors naming the file") {
    SECTION("missing tokenizer.model") {
        t::ScratchDir dir("missing");
        const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
        CHECK(msg.find((dir.path() / "tokenizer.model").string()) != std::string::npos);
    }
    SECTION("corrupt tokenizer.model") {
        t::ScratchDir dir("corrupt");
        dir.write("tokenizer.model", "this is not a protobuf \x01\x02\x03");
        const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
        CHECK(msg.find("tokenizer.model") != std::string::npos);
        CHECK(msg.find("not a valid SentencePiece model") != std::string::npos);
    }
    SECTION("malformed tokenizer_config.json") {
        t::ScratchDir dir("badjson");
        dir.copy_from(t::llama2_dir() / "tokenizer.model");
        dir.write("tokenizer_config.json", "{\"add_bos_token\": tru");
        const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
        CHECK(msg.find("tokenizer_config.json") != std::string::npos);
        CHECK(msg.find("invalid JSON") != std::string::npos);
    }
    SECTION("a field of the wrong type") {
        t::ScratchDir dir("badfield");
        dir.copy_from(t::llama2_dir() / "tokenizer.model");
        dir.write("tokenizer_config.json", R"({"add_bos_token": "yes"})");
        const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
        CHECK(msg.find("tokenizer_config.json") != std::string::npos);
        CHECK(msg.find("add_bos_token") != std::string::npos);
    }
    SECTION("a bad added token id") {
        t::ScratchDir dir("badadded");
        dir.copy_from(t::llama2_dir() / "tokenizer.model");
        dir.write("tokenizer_config.json", R"({"added_tokens_decoder": {"x1": {"content": "<a>"}}})");
        const std::string msg = error_of([&] { Tokenizer::load(dir.path()); });
        CHECK(msg.find("added_tokens_decoder[\"x1\"]") != std::string::npos);
    }
}
