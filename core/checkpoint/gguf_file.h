// core/checkpoint/gguf_file.h — one llama.cpp GGUF file: metadata and tensors, exposed as a Hugging Face Llama
// checkpoint (HF tensor names, rotate_half row order, a synthesised config.json).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "checkpoint/mapped_file.h"
#include "checkpoint/tensor_entry.h"

namespace llmatc::checkpoint_detail {

// A scalar metadata value (arrays are skipped, except that their length is kept for tokenizer.ggml.tokens).
using GgufValue = std::variant<int64_t, uint64_t, double, bool, std::string>;

// Opens and validates the whole file up front (GGUF v2/v3): header, metadata, tensor table, every tensor's type (F32,
// F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K), byte span inside the data section. Tensors of architecture "llama" are
// renamed to their Hugging Face names (token_embd.weight -> model.embed_tokens.weight, blk.N.attn_q.weight ->
// model.layers.N.self_attn.q_proj.weight ...). llama.cpp's converter interleaves the two rotary halves of each q/k
// head's rows (for its RoPE layout); those two tensors' entries say so (interleaved_rotary_heads) and still point into
// the mapping: whoever hands them out puts the rows back in Hugging Face order (unpermute_rotary_rows), so a
// rotate_half forward reads them unchanged. Every tensor's entry points into the mapping (zero-copy).
// Any violation throws llmatc::Error naming the file (and the tensor or key).
class GgufFile {
public:
    explicit GgufFile(const std::filesystem::path& path);

    const std::filesystem::path& path() const { return file_.path(); }
    const std::vector<TensorEntry>& tensors() const { return tensors_; }
    const TensorEntry* find(const std::string& name) const;

    // config.json text built from the llama.* metadata (architectures, sizes, rope, eps, token ids, tying).
    const std::string& config_json() const { return config_json_; }
    // tokenizer.ggml.eos_token_id when present.
    const std::vector<int32_t>& eos_token_ids() const { return eos_ids_; }

private:
    void read(const uint8_t* data, uint64_t size);
    void build_config();
    std::optional<GgufValue> meta(const std::string& key) const;
    int64_t meta_int(const std::string& key, std::optional<int64_t> fallback) const;
    double meta_double(const std::string& key, double fallback) const;

    MappedFile file_;
    std::map<std::string, GgufValue> metadata_;
    uint64_t vocab_from_tokens_ = 0;
    std::vector<TensorEntry> tensors_;
    std::unordered_map<std::string, size_t> by_name_;
    std::string config_json_;
    std::vector<int32_t> eos_ids_;
};

// Writes a q/k entry's rows (interleaved_rotary_heads > 0) in Hugging Face order into out (entry.nbytes bytes).
void unpermute_rotary_rows(const TensorEntry& entry, uint8_t* out);

// A GGUF file's tokenizer: the tokenizer.ggml.tokens / scores / token_type arrays (empty when absent) and every
// scalar metadata value (tokenizer.ggml.model, bos/eos/unk/padding_token_id, add_bos_token, add_eos_token,
// add_space_prefix, tokenizer.chat_template ...; the arrays' consistency is the consumer's to check).
struct GgufTokenizerMetadata {
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<int32_t> token_types;  // llama.cpp's: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
    std::map<std::string, GgufValue> scalars;
};

// Reads only the header and metadata of a GGUF file (no tensor is touched). Throws llmatc::Error naming the file on
// a malformed or truncated header.
GgufTokenizerMetadata read_gguf_tokenizer_metadata(const std::filesystem::path& path);

// The Hugging Face name of a llama.cpp tensor name; nullopt for names with no Llama counterpart.
std::optional<std::string> gguf_to_hf_tensor_name(const std::string& gguf_name);

}  // namespace llmatc::checkpoint_detail
