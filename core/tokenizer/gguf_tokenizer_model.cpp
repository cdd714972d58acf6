// core/tokenizer/gguf_tokenizer_model.cpp — rebuilds a Llama SentencePiece model (ModelProto wire format) from
// tokenizer.ggml.* metadata, so GGUF checkpoints tokenize through the same libsentencepiece path as tokenizer.model.
#include "tokenizer/gguf_tokenizer_model.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <variant>

#include "checkpoint/gguf_file.h"
#include "util/error.h"

namespace llmatc {

namespace {

namespace fs = std::filesystem;
using checkpoint_detail::GgufTokenizerMetadata;
using checkpoint_detail::GgufValue;

// llama.cpp's token types are SentencePiece's ModelProto.SentencePiece.Type values.
constexpr int32_t kTypeNormal = 1, kTypeUnknown = 2, kTypeControl = 3, kTypeByte = 6, kTypeMax = 6;

// Protocol-buffer wire format, just what ModelProto needs (field numbers from sentencepiece_model.proto).
class ProtoWriter {
public:
    void varint_field(int field, uint64_t value) {
        key(field, 0);
        varint(value);
    }
    void int32_field(int field, int32_t value) { varint_field(field, uint64_t(int64_t(value))); }  // negatives: 10 bytes
    void bool_field(int field, bool value) { varint_field(field, value ? 1 : 0); }
    void float_field(int field, float value) {
        key(field, 5);
        char bytes[4];
        std::memcpy(bytes, &value, 4);  // little-endian hosts only, as the rest of the loader assumes
        out_.append(bytes, 4);
    }
    void bytes_field(int field, const std::string& value) {
        key(field, 2);
        varint(value.size());
        out_ += value;
    }
    const std::string& str() const { return out_; }

private:
    void key(int field, int wire_type) { varint(uint64_t(field) << 3 | uint64_t(wire_type)); }
    void varint(uint64_t v) {
        while (v >= 0x80) {
            out_ += char(uint8_t(v) | 0x80);
            v >>= 7;
        }
        out_ += char(uint8_t(v));
    }
    std::string out_;
};

const GgufValue* find(const GgufTokenizerMetadata& m, const std::string& key) {
    auto it = m.scalars.find(key);
    return it == m.scalars.end() ? nullptr : &it->second;
}

std::optional<int64_t> int_value(const GgufTokenizerMetadata& m, const std::string& key, const fs::path& path) {
    const GgufValue* v = find(m, key);
    if (!v) return std::nullopt;
    if (const auto* i = std::get_if<int64_t>(v)) return *i;
    if (const auto* u = std::get_if<uint64_t>(v); u && *u <= uint64_t(INT64_MAX)) return int64_t(*u);
    throw Error(LLMATC_ERR_CORRUPT, path.string() + ": GGUF metadata key '" + key + "' is not an integer");
}

std::optional<bool> bool_value(const GgufTokenizerMetadata& m, const std::string& key, const fs::path& path) {
    const GgufValue* v = find(m, key);
    if (!v) return std::nullopt;
    if (const auto* b = std::get_if<bool>(v)) return *b;
    throw Error(LLMATC_ERR_CORRUPT, path.string() + ": GGUF metadata key '" + key + "' is not a boolean");
}

std::optional<std::string> string_value(const GgufTokenizerMetadata& m, const std::string& key, const fs::path& path) {
    const GgufValue* v = find(m, key);
    if (!v) return std::nullopt;
    if (const auto* s = std::get_if<std::string>(v)) return *s;
    throw Error(LLMATC_ERR_CORRUPT, path.string() + ": GGUF metadata key '" + key + "' is not a string");
}

// A special-token id from the metadata, checked against the vocabulary; -1 when absent.
int32_t special_id(const GgufTokenizerMetadata& m, const char* name, const fs::path& path) {
    const std::string key = std::string("tokenizer.ggml.") + name;
    const auto id = int_value(m, key, path);
    if (!id) return -1;
    if (*id == -1) return -1;  // some converters write -1 for "none"
    if (*id < 0 || uint64_t(*id) >= m.tokens.size())
        throw Error(LLMATC_ERR_CORRUPT, path.string() + ": " + key + " " + std::to_string(*id) +
                                            " is outside the vocabulary of " + std::to_string(m.tokens.size()));
    return int32_t(*id);
}

}  // namespace

std::optional<fs::path> gguf_without_tokenizer_model(const fs::path& dir) {
    std::error_code ec;
    if (fs::exists(dir / "tokenizer.model", ec)) return std::nullopt;
    std::optional<fs::path> found;
    for (const auto& item : fs::directory_iterator(dir, ec)) {
        if (item.path().extension() != ".gguf") continue;
        if (found) return std::nullopt;  // several: the checkpoint reader reports that
        found = item.path();
    }
    return found;
}

GgufTokenizerModel build_gguf_tokenizer_model(const fs::path& path, const TokenizerConfig& defaults) {
    const GgufTokenizerMetadata m = checkpoint_detail::read_gguf_tokenizer_metadata(path);
    const std::string file = path.string();
    const auto model = string_value(m, "tokenizer.ggml.model", path);
    if (!model)
        throw Error(LLMATC_ERR_NOT_FOUND, file + ": no tokenizer.model beside it and no tokenizer.ggml.model metadata "
                                                 "to build a tokenizer from");
    if (*model != "llama")
        throw Error(LLMATC_ERR_UNSUPPORTED, file + ": tokenizer.ggml.model \"" + *model +
                                                "\" is not supported (only \"llama\", SentencePiece BPE); put the "
                                                "model's tokenizer.model beside the file");
    const size_t n = m.tokens.size();
    if (n == 0) throw Error(LLMATC_ERR_CORRUPT, file + ": tokenizer.ggml.tokens is missing or empty");
    if (m.scores.size() != n)
        throw Error(LLMATC_ERR_CORRUPT, file + ": tokenizer.ggml.scores has " + std::to_string(m.scores.size()) +
                                            " entries for " + std::to_string(n) + " tokens");
    if (!m.token_types.empty() && m.token_types.size() != n)
        throw Error(LLMATC_ERR_CORRUPT, file + ": tokenizer.ggml.token_type has " +
                                            std::to_string(m.token_types.size()) + " entries for " +
                                            std::to_string(n) + " tokens");

    const int32_t unk = special_id(m, "unknown_token_id", path);
    const int32_t bos = special_id(m, "bos_token_id", path);
    const int32_t eos = special_id(m, "eos_token_id", path);
    const int32_t pad = special_id(m, "padding_token_id", path);

    ProtoWriter proto;
    bool has_bytes = false;
    for (size_t id = 0; id < n; ++id) {
        int32_t type = m.token_types.empty() ? kTypeNormal : m.token_types[id];
        if (type < kTypeNormal || type > kTypeMax)
            throw Error(LLMATC_ERR_CORRUPT, file + ": token " + std::to_string(id) + " has token type " +
                                                std::to_string(type) + " (1 to 6 expected)");
        if (m.token_types.empty()) {  // no types: mark the special ids as SentencePiece would have them
            if (int32_t(id) == unk) type = kTypeUnknown;
            else if (int32_t(id) == bos || int32_t(id) == eos) type = kTypeControl;
        }
        has_bytes = has_bytes || type == kTypeByte;
        ProtoWriter piece;
        piece.bytes_field(1, m.tokens[id]);  // piece
        piece.float_field(2, m.scores[id]);  // score
        if (type != kTypeNormal) piece.varint_field(3, uint64_t(type));
        proto.bytes_field(1, piece.str());  // ModelProto.pieces
    }

    // TrainerSpec: what the encoder reads at run time (model type, byte fallback, whitespace-only pieces) and the
    // special pieces SentencePieceProcessor resolves bos_id() etc. through. Llama 2's tokenizer.model values.
    ProtoWriter trainer;
    trainer.varint_field(3, 2);                 // model_type: BPE
    trainer.int32_field(4, int32_t(n));         // vocab_size
    trainer.bool_field(26, true);               // allow_whitespace_only_pieces
    trainer.bool_field(35, has_bytes);          // byte_fallback
    trainer.int32_field(40, unk);               // unk_id
    trainer.int32_field(41, bos);               // bos_id
    trainer.int32_field(42, eos);               // eos_id
    trainer.int32_field(43, pad);               // pad_id
    if (unk >= 0) trainer.bytes_field(45, m.tokens[size_t(unk)]);
    if (bos >= 0) trainer.bytes_field(46, m.tokens[size_t(bos)]);
    if (eos >= 0) trainer.bytes_field(47, m.tokens[size_t(eos)]);
    if (pad >= 0) trainer.bytes_field(48, m.tokens[size_t(pad)]);
    proto.bytes_field(2, trainer.str());

    const bool dummy_prefix = bool_value(m, "tokenizer.ggml.add_space_prefix", path).value_or(true);
    ProtoWriter normalizer;
    normalizer.bytes_field(1, "identity");
    normalizer.bool_field(3, dummy_prefix);  // add_dummy_prefix
    normalizer.bool_field(4, false);         // remove_extra_whitespaces
    normalizer.bool_field(5, true);          // escape_whitespaces
    proto.bytes_field(3, normalizer.str());

    GgufTokenizerModel out{path, proto.str(), defaults};
    out.config.bos_token = bos >= 0 ? m.tokens[size_t(bos)] : std::string();
    out.config.eos_token = eos >= 0 ? m.tokens[size_t(eos)] : std::string();
    out.config.unk_token = unk >= 0 ? m.tokens[size_t(unk)] : std::string();
    out.config.add_bos_token = bool_value(m, "tokenizer.ggml.add_bos_token", path).value_or(defaults.add_bos_token);
    out.config.add_eos_token = bool_value(m, "tokenizer.ggml.add_eos_token", path).value_or(defaults.add_eos_token);
    if (auto tmpl = string_value(m, "tokenizer.chat_template", path); tmpl && defaults.chat_template.empty())
        out.config.chat_template = *tmpl;
    spdlog::info("{}: no tokenizer.model beside it; tokenizer built from its metadata ({} tokens, BOS {}, EOS {})",
                 file, n, bos, eos);
    return out;
}

}  // namespace llmatc
