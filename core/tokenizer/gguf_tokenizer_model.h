// core/tokenizer/gguf_tokenizer_model.h — a SentencePiece model and tokenizer settings rebuilt from a GGUF file's
// tokenizer.ggml.* metadata, for GGUF checkpoints that come without a tokenizer.model.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "tokenizer/tokenizer_config.h"

namespace llmatc {

struct GgufTokenizerModel {
    std::filesystem::path gguf_path;  // the file it came from, for messages
    std::string serialized_model;     // a SentencePiece ModelProto, for LoadFromSerializedProto
    TokenizerConfig config;           // BOS/EOS/UNK strings, add_bos/add_eos, chat template from the metadata
};

// The checkpoint directory's only *.gguf, when the directory has no tokenizer.model (the SentencePiece file always
// wins when present); nullopt otherwise.
std::optional<std::filesystem::path> gguf_without_tokenizer_model(const std::filesystem::path& dir);

// Builds the tokenizer of a GGUF file whose tokenizer.ggml.model is "llama" (SentencePiece BPE with byte fallback):
// pieces with their scores and types, Llama's normalizer (identity, dummy prefix unless add_space_prefix is false,
// whitespace escaped as U+2581, extra whitespace kept), and the special-token ids. `defaults` gives the settings the
// metadata does not carry (tokenizer_config.json's, when one is beside the file). Throws llmatc::Error naming the
// file for another tokenizer model ("gpt2" ...), missing or inconsistent arrays, or an id out of range.
GgufTokenizerModel build_gguf_tokenizer_model(const std::filesystem::path& gguf_path, const TokenizerConfig& defaults);

}  // namespace llmatc
