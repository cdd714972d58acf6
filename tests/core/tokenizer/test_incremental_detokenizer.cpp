// tests/core/tokenizer/test_incremental_detokenizer.cpp — streamed deltas equal the decoded whole, never half a character.
#include <catch2/catch.hpp>

#include "test_support.h"
#include "tokenizer/tokenizer.h"

using llmatc::IncrementalDetokenizer;
using llmatc::Tokenizer;
namespace t = llmatc::test;

namespace {

bool is_valid_utf8(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                                   : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        if (len == 0 || i + len > s.size()) return false;
        for (size_t k = 1; k < len; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += len;
    }
    return true;
}

// What a stream must add up to: decode(prompt + generated) with decode(prompt) removed from its start.
std::string expected_continuation(const Tokenizer& tok, const std::vector<int32_t>& prompt,
                                  const std::vector<int32_t>& generated, bool skip_special) {
    std::vector<int32_t> all = prompt;
    all.insert(all.end(), generated.begin(), generated.end());
    const std::string whole = tok.decode(all, skip_special);
    const std::string head = tok.decode(prompt, skip_special);
    REQUIRE(whole.compare(0, head.size(), head) == 0);
    return whole.substr(head.size());
}

std::string stream(const Tokenizer& tok, const std::vector<int32_t>& prompt, const std::vector<int32_t>& generated,
                   bool skip_special) {
    IncrementalDetokenizer detok(tok, prompt, skip_special);
    std::string out;
    for (int32_t id : generated) {
        const std::string delta = detok.push(id);
        INFO("delta after id " << id);
        REQUIRE(is_valid_utf8(delta));
        out += delta;
    }
    out += detok.flush();
    return out;
}

// Random generated ids mixing ordinary pieces, the byte tokens of real multi-byte characters (emoji, CJK), stray
// byte tokens, a lone U+2581 piece, and BOS/EOS.
std::vector<int32_t> random_generation(const Tokenizer& tok, std::mt19937& rng) {
    std::vector<int32_t> ids;
    const int n = std::uniform_int_distribution<int>(1, 24)(rng);
    std::uniform_int_distribution<int> kind(0, 9);
    std::uniform_int_distribution<int32_t> any_piece(3, tok.vocab_size() - 1);
    std::uniform_int_distribution<int32_t> any_byte(0, 255);
    for (int i = 0; i < n; ++i) {
        switch (kind(rng)) {
            case 0: case 1: case 2: {  // a whole character spelled in byte tokens
                std::string ch;
                t::append_utf8(ch, t::random_letter(rng));
                for (unsigned char b : ch) ids.push_back(3 + b);
                break;
            }
            case 3: ids.push_back(3 + any_byte(rng)); break;
            case 4: ids.push_back(std::uniform_int_distribution<int>(0, 2)(rng) == 0 ? tok.bos_id() : tok.eos_id()); break;
            case 5: {  // the bytes of a character cut short
                std::string ch;
                t::append_utf8(ch, 0x4E00 + any_byte(rng));
                ids.push_back(3 + static_cast<unsigned char>(ch[0]));
                break;
            }
            default: ids.push_back(any_piece(rng)); break;
        }
    }
    return ids;
}

}  // namespace

TEST_CASE("the first generated word keeps its leading space") {
    auto tok = Tokenizer::load(t::llama2_dir());
    const auto all = tok->encode("Once upon a time there was", true);
    const auto prompt_text = tok->encode("Once upon a", true);
    REQUIRE(std::equal(prompt_text.begin(), prompt_text.end(), all.begin()));
    const std::vector<int32_t> generated(all.begin() + static_cast<std::ptrdiff_t>(prompt_text.size()), all.end());
    CHECK(stream(*tok, prompt_text, generated, true) == " time there was");
    // With only BOS before it, the first word has no space, as decode reads it.
    const auto alone = tok->encode("Hello world", false);
    CHECK(stream(*tok, {tok->bos_id()}, alone, true) == "Hello world");
    CHECK(stream(*tok, {}, alone, true) == "Hello world");
}

TEST_CASE("a character spelled by byte tokens is held back until complete") {
    auto tok = Tokenizer::load(t::llama2_dir());
    const auto prompt = tok->encode("Say", true);
    IncrementalDetokenizer detok(*tok, prompt, true);
    // U+1F600 in UTF-8 is F0 9F 98 80.
    CHECK(detok.push(3 + 0xF0).empty());
    CHECK(detok.push(3 + 0x9F).empty());
    CHECK(detok.push(3 + 0x98).empty());
    CHECK(detok.push(3 + 0x80) == "\xF0\x9F\x98\x80");
    // An unfinished character at the end comes out of flush() as U+FFFD.
    CHECK(detok.push(3 + 0xE4).empty());
    CHECK(detok.flush() == "\xEF\xBF\xBD");
}

TEST_CASE("streamed deltas add up to the decoded continuation for random ids") {
    std::mt19937 rng(99);
    for (const auto& dir : {t::llama2_dir(), t::stories_dir()}) {
        auto tok = Tokenizer::load(dir);
        for (bool skip_special : {true, false}) {
            for (int i = 0; i < 300; ++i) {
                std::vector<int32_t> prompt;
                switch (i % 4) {
                    case 0: break;  // no prompt at all
                    case 1: prompt = {tok->bos_id()}; break;
                    default: prompt = tok->encode(t::random_text(rng, false), true); break;
                }
                const auto generated = random_generation(*tok, rng);
                INFO(dir.string() << " skip_special=" << skip_special << " case " << i);
                REQUIRE(stream(*tok, prompt, generated, skip_special) ==
                        expected_continuation(*tok, prompt, generated, skip_special));
            }
        }
    }
}

TEST_CASE("context that decodes to nothing is looked past") {
    auto tok = Tokenizer::load(t::llama2_dir());
    // Text, then many EOS tokens: with skip_special the tail of the prompt is empty text, yet the continuation
    // still reads after "Hello".
    auto prompt = tok->encode("Hello", true);
    for (int i = 0; i < 20; ++i) prompt.push_back(tok->eos_id());
    const auto generated = tok->encode("world", false);
    CHECK(stream(*tok, prompt, generated, true) == " world");
    // Generated specials between words keep the space of the word after them.
    std::vector<int32_t> gen2 = tok->encode("big", false);
    gen2.push_back(tok->eos_id());
    gen2.push_back(tok->eos_id());
    const auto world = tok->encode("world", false);
    gen2.insert(gen2.end(), world.begin(), world.end());
    CHECK(stream(*tok, tok->encode("Hello", true), gen2, true) == " big world");
}
