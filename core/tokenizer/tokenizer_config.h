// core/tokenizer/tokenizer_config.h — what tokenizer_config.json says about BOS/EOS, special tokens and the chat template.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace llmatc {

// One entry of tokenizer_config.json's added_tokens_decoder.
struct AddedTokenSpec {
    int32_t id = -1;
    std::string content;
    bool lstrip = false;   // eat whitespace to the token's left when it appears in text
    bool rstrip = false;   // eat whitespace to its right
    bool special = true;   // dropped by decode(skip_special)
};

// The fields of tokenizer_config.json that Hugging Face's LlamaTokenizer honours; defaults are LlamaTokenizer's.
struct TokenizerConfig {
    bool add_bos_token = true;
    bool add_eos_token = false;
    bool legacy = true;             // HF's default when the key is absent (it warns and keeps the legacy behaviour)
    bool add_prefix_space = true;   // used only when legacy is false
    std::string bos_token = "<s>";  // empty when the config sets it to null
    std::string eos_token = "</s>";
    std::string unk_token = "<unk>";
    std::vector<AddedTokenSpec> added_tokens;
    std::string chat_template;      // "" when the config has none
};

// Reads `path` (tokenizer_config.json). A missing file gives the defaults; malformed JSON or a field of the wrong
// type throws llmatc::Error(LLMATC_ERR_CORRUPT) naming the file and the field.
TokenizerConfig read_tokenizer_config(const std::filesystem::path& path);

}  // namespace llmatc
