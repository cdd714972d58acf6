// core/tokenizer/tokenizer.h — a model's tokenizer: SentencePiece tokenizer.model plus tokenizer_config.json rules.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace llmatc {

class Tokenizer {
public:
    // Loads tokenizer.model and tokenizer_config.json (add_bos_token, add_eos_token, special/added tokens,
    // chat_template) from a checkpoint directory. Throws llmatc::Error naming the file on failure.
    static std::unique_ptr<Tokenizer> load(const std::filesystem::path& dir);
    virtual ~Tokenizer() = default;

    // Encodes text as Hugging Face's LlamaTokenizer does. add_special: prepend BOS (append EOS) as the config says.
    // Special-token strings in the text ("<s>", "</s>", added tokens) become their ids, so a rendered chat template
    // that contains bos_token encodes to the BOS id.
    virtual std::vector<int32_t> encode(std::string_view text, bool add_special) const = 0;
    // Decodes ids to text (no leading space for the first word, as sentencepiece decodes).
    // skip_special drops control tokens; without it they read as their text ("<s>") and the word after one keeps
    // its space ("<s> Hello", as HF's fast tokenizer reads it). Throws Error(INVALID_ARGUMENT) for an id out of range.
    virtual std::string decode(std::span<const int32_t> ids, bool skip_special) const = 0;
    // One token as it reads inside a stream: its piece with U+2581 as a space, a byte token as its raw byte.
    virtual std::string token_text(int32_t id) const = 0;

    virtual int32_t vocab_size() const = 0;
    virtual int32_t bos_id() const = 0;   // -1 when none
    virtual int32_t eos_id() const = 0;   // -1 when none
    virtual bool is_special(int32_t id) const = 0;
    virtual const std::string& bos_token() const = 0;  // "<s>"
    virtual const std::string& eos_token() const = 0;  // "</s>"
    // tokenizer_config.json's chat_template, or "" when it has none.
    virtual const std::string& chat_template() const = 0;
};

// Turns a growing list of generated ids into text deltas for streaming: never emits half a UTF-8 character, and
// gives the first generated word its leading space exactly as decode(prompt + generated) would read after the
// prompt. One per sequence; not thread-safe.
class IncrementalDetokenizer {
public:
    // `prompt_ids` gives the context the first generated token follows (its last few ids are enough).
    IncrementalDetokenizer(const Tokenizer& tokenizer, std::span<const int32_t> prompt_ids, bool skip_special);
    // Adds one generated id; returns the text that is now final (possibly empty).
    std::string push(int32_t id);
    // Returns whatever is still held back (an incomplete UTF-8 sequence is replaced by U+FFFD).
    std::string flush();

private:
    std::string decode_range(size_t begin, size_t end) const;
    // True while the newest ids end in the middle of a UTF-8 character spelled by byte tokens.
    bool ends_inside_character() const;
    // Text of ids_[read_offset_, end) as it reads after ids_[prefix_offset_, read_offset_); advances the offsets.
    std::string take_new_text();

    const Tokenizer& tokenizer_;
    bool skip_special_;
    std::vector<int32_t> ids_;   // context + generated ids (trimmed as text becomes final)
    size_t prefix_offset_ = 0;   // ids_[prefix_offset_, read_offset_) is already-final text that gives later ids
                                 // their context (it always decodes to non-empty text unless it starts ids_)
    size_t read_offset_ = 0;     // ids_ from here on have not been emitted
};

}  // namespace llmatc
