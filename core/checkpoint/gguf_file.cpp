// core/checkpoint/gguf_file.cpp — the GGUF reader: bounds-checked parsing, tensor renaming, q/k row un-permutation
// and config.json synthesis from llama.* metadata.
#include "checkpoint/gguf_file.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <regex>

#include "checkpoint/dtype.h"
#include "util/error.h"

namespace llmatc::checkpoint_detail {

namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;

// ggml's tensor type numbers (ggml.h), for the types this reader accepts.
enum GgmlType : uint32_t { kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ8_0 = 8, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kBF16 = 30 };
// GGUF metadata value types.
enum GgufType : uint32_t {
    kU8 = 0, kI8, kU16, kI16, kU32, kI32, kF32v, kBool, kString, kArray, kU64, kI64, kF64
};

// A read cursor over the mapped header that throws (naming the file) instead of reading past the end.
class Cursor {
public:
    Cursor(const uint8_t* data, uint64_t size, const std::string& file) : data_(data), size_(size), file_(file) {}

    template <class T>
    T get(const char* what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, data_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    std::string string(const char* what) {
        const uint64_t n = get<uint64_t>(what);
        need(n, what);
        std::string s(reinterpret_cast<const char*>(data_ + pos_), size_t(n));
        pos_ += n;
        return s;
    }
    void skip(uint64_t n, const char* what) {
        need(n, what);
        pos_ += n;
    }
    uint64_t pos() const { return pos_; }

private:
    void need(uint64_t n, const char* what) const {
        if (n > size_ - pos_)
            throw Error(LLMATC_ERR_CORRUPT, file_ + ": truncated GGUF header while reading " + what + " at byte " +
                                                std::to_string(pos_));
    }
    const uint8_t* data_;
    uint64_t size_;
    uint64_t pos_ = 0;
    const std::string& file_;
};

uint64_t scalar_size(uint32_t type) {
    switch (type) {
        case kU8: case kI8: case kBool: return 1;
        case kU16: case kI16: return 2;
        case kU32: case kI32: case kF32v: return 4;
        case kU64: case kI64: case kF64: return 8;
        default: return 0;
    }
}

GgufValue read_scalar(Cursor& c, uint32_t type, const std::string& file, const std::string& key) {
    switch (type) {
        case kU8: return uint64_t(c.get<uint8_t>("a value"));
        case kI8: return int64_t(c.get<int8_t>("a value"));
        case kU16: return uint64_t(c.get<uint16_t>("a value"));
        case kI16: return int64_t(c.get<int16_t>("a value"));
        case kU32: return uint64_t(c.get<uint32_t>("a value"));
        case kI32: return int64_t(c.get<int32_t>("a value"));
        case kU64: return c.get<uint64_t>("a value");
        case kI64: return c.get<int64_t>("a value");
        case kF32v: return double(c.get<float>("a value"));
        case kF64: return c.get<double>("a value");
        case kBool: return c.get<uint8_t>("a value") != 0;
        case kString: return c.string("a string value");
        default:
            throw Error(LLMATC_ERR_CORRUPT, file + ": metadata key '" + key + "' has unknown value type " +
                                                std::to_string(type));
    }
}

struct HeaderCounts {
    uint64_t n_tensors, n_kv;
};

HeaderCounts read_header(Cursor& c, uint64_t size, const std::string& file) {
    if (c.get<uint32_t>("the magic") != kGgufMagic)
        throw Error(LLMATC_ERR_CORRUPT, file + ": not a GGUF file (bad magic)");
    const uint32_t version = c.get<uint32_t>("the version");
    if (version != 2 && version != 3)
        throw Error(LLMATC_ERR_UNSUPPORTED, file + ": GGUF version " + std::to_string(version) +
                                                " is not supported (2 or 3)");
    const uint64_t n_tensors = c.get<uint64_t>("the tensor count");
    const uint64_t n_kv = c.get<uint64_t>("the metadata count");
    // Each entry takes at least 8 bytes of header; this bounds allocations driven by a corrupt count.
    if (n_tensors > size / 8 || n_kv > size / 8)
        throw Error(LLMATC_ERR_CORRUPT, file + ": GGUF header counts exceed the file size");
    return {n_tensors, n_kv};
}

// Reads an array's items as T (integers and floats converted), or throws naming the key.
template <class T>
std::vector<T> read_numeric_array(Cursor& c, uint32_t item_type, uint64_t n, const std::string& file,
                                  const std::string& key) {
    if (scalar_size(item_type) == 0 || item_type == kBool)
        throw Error(LLMATC_ERR_CORRUPT, file + ": metadata array '" + key + "' has item type " +
                                            std::to_string(item_type) + " (numbers expected)");
    std::vector<T> out;
    out.reserve(size_t(n));
    for (uint64_t k = 0; k < n; ++k) {
        const GgufValue v = read_scalar(c, item_type, file, key);
        if (const auto* i = std::get_if<int64_t>(&v)) out.push_back(T(*i));
        else if (const auto* u = std::get_if<uint64_t>(&v)) out.push_back(T(*u));
        else out.push_back(T(std::get<double>(v)));
    }
    return out;
}

// The metadata section: scalars into `scalars`; arrays are skipped, except the tokenizer vocabulary, which is kept
// in `vocab` when given (tokens, scores, token types). `token_count` receives tokenizer.ggml.tokens' length.
void read_key_values(Cursor& c, uint64_t n_kv, uint64_t size, const std::string& file,
                     std::map<std::string, GgufValue>& scalars, GgufTokenizerMetadata* vocab, uint64_t& token_count) {
    for (uint64_t i = 0; i < n_kv; ++i) {
        std::string key = c.string("a metadata key");
        const uint32_t type = c.get<uint32_t>("a metadata type");
        if (type == kArray) {
            const uint32_t item_type = c.get<uint32_t>("an array type");
            const uint64_t n = c.get<uint64_t>("an array length");
            if (n > size) throw Error(LLMATC_ERR_CORRUPT, file + ": metadata array '" + key + "' is longer than the file");
            if (key == "tokenizer.ggml.tokens") token_count = n;
            if (vocab && key == "tokenizer.ggml.tokens") {
                if (item_type != kString)
                    throw Error(LLMATC_ERR_CORRUPT, file + ": tokenizer.ggml.tokens is not an array of strings");
                vocab->tokens.reserve(size_t(n));
                for (uint64_t k = 0; k < n; ++k) vocab->tokens.push_back(c.string("a token"));
            } else if (vocab && key == "tokenizer.ggml.scores") {
                vocab->scores = read_numeric_array<float>(c, item_type, n, file, key);
            } else if (vocab && key == "tokenizer.ggml.token_type") {
                vocab->token_types = read_numeric_array<int32_t>(c, item_type, n, file, key);
            } else if (item_type == kString) {
                for (uint64_t k = 0; k < n; ++k) c.string("an array string");
            } else if (const uint64_t each = scalar_size(item_type); each != 0 && n <= size / each) {
                c.skip(n * each, "an array");
            } else {
                throw Error(LLMATC_ERR_CORRUPT, file + ": metadata array '" + key + "' has item type " +
                                                    std::to_string(item_type) + " or length " + std::to_string(n) +
                                                    " that cannot be read");
            }
            continue;
        }
        GgufValue value = read_scalar(c, type, file, key);
        scalars[std::move(key)] = std::move(value);
    }
}

struct TypeInfo {
    llmatc_dtype dtype;
    uint64_t block_elements;
    uint64_t block_bytes;
};

std::optional<TypeInfo> type_info(uint32_t ggml_type) {
    switch (ggml_type) {
        case kF32: return TypeInfo{LLMATC_DTYPE_F32, 1, 4};
        case kF16: return TypeInfo{LLMATC_DTYPE_F16, 1, 2};
        case kBF16: return TypeInfo{LLMATC_DTYPE_BF16, 1, 2};
        case kQ8_0: return TypeInfo{LLMATC_DTYPE_Q8_0, 32, 34};
        case kQ4_0: return TypeInfo{LLMATC_DTYPE_Q4_0, 32, 18};
        case kQ4_K: return TypeInfo{LLMATC_DTYPE_Q4_K, 256, 144};
        case kQ5_K: return TypeInfo{LLMATC_DTYPE_Q5_K, 256, 176};
        case kQ6_K: return TypeInfo{LLMATC_DTYPE_Q6_K, 256, 210};
        default: return std::nullopt;
    }
}

}  // namespace

std::optional<std::string> gguf_to_hf_tensor_name(const std::string& name) {
    static const std::map<std::string, std::string> kGlobal = {
        {"token_embd.weight", "model.embed_tokens.weight"},
        {"output_norm.weight", "model.norm.weight"},
        {"output.weight", "lm_head.weight"},
    };
    static const std::map<std::string, std::string> kPerLayer = {
        {"attn_norm.weight", "input_layernorm.weight"},
        {"attn_q.weight", "self_attn.q_proj.weight"},
        {"attn_k.weight", "self_attn.k_proj.weight"},
        {"attn_v.weight", "self_attn.v_proj.weight"},
        {"attn_output.weight", "self_attn.o_proj.weight"},
        {"ffn_norm.weight", "post_attention_layernorm.weight"},
        {"ffn_gate.weight", "mlp.gate_proj.weight"},
        {"ffn_up.weight", "mlp.up_proj.weight"},
        {"ffn_down.weight", "mlp.down_proj.weight"},
    };
    if (auto it = kGlobal.find(name); it != kGlobal.end()) return it->second;
    static const std::regex kLayer(R"(blk\.(\d+)\.(.+))");
    std::smatch m;
    if (std::regex_match(name, m, kLayer)) {
        if (auto it = kPerLayer.find(m[2].str()); it != kPerLayer.end())
            return "model.layers." + m[1].str() + "." + it->second;
    }
    return std::nullopt;
}

GgufFile::GgufFile(const std::filesystem::path& path) : file_(path) {
    read(file_.data(), file_.size());
    build_config();
}

const TensorEntry* GgufFile::find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

std::optional<GgufValue> GgufFile::meta(const std::string& key) const {
    auto it = metadata_.find(key);
    if (it == metadata_.end()) return std::nullopt;
    return it->second;
}

int64_t GgufFile::meta_int(const std::string& key, std::optional<int64_t> fallback) const {
    const auto v = meta(key);
    if (!v) {
        if (fallback) return *fallback;
        throw Error(LLMATC_ERR_CORRUPT, path().string() + ": GGUF metadata key '" + key + "' is missing");
    }
    if (const auto* i = std::get_if<int64_t>(&*v)) return *i;
    if (const auto* u = std::get_if<uint64_t>(&*v); u && *u <= uint64_t(INT64_MAX)) return int64_t(*u);
    throw Error(LLMATC_ERR_CORRUPT, path().string() + ": GGUF metadata key '" + key + "' is not an integer");
}

double GgufFile::meta_double(const std::string& key, double fallback) const {
    const auto v = meta(key);
    if (!v) return fallback;
    if (const auto* d = std::get_if<double>(&*v)) return *d;
    if (const auto* i = std::get_if<int64_t>(&*v)) return double(*i);
    if (const auto* u = std::get_if<uint64_t>(&*v)) return double(*u);
    throw Error(LLMATC_ERR_CORRUPT, path().string() + ": GGUF metadata key '" + key + "' is not a number");
}

void GgufFile::read(const uint8_t* data, uint64_t size) {
    const std::string file = path().string();
    Cursor c(data, size, file);
    const HeaderCounts counts = read_header(c, size, file);
    const uint64_t n_tensors = counts.n_tensors;
    read_key_values(c, counts.n_kv, size, file, metadata_, nullptr, vocab_from_tokens_);

    const int64_t alignment = meta_int("general.alignment", int64_t(kDefaultAlignment));
    if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        throw Error(LLMATC_ERR_CORRUPT, file + ": general.alignment " + std::to_string(alignment) +
                                            " is not a power of two");

    struct Info {
        std::string name;
        std::vector<int64_t> shape;  // outermost first
        TypeInfo type;
        uint64_t offset, nbytes;
    };
    std::vector<Info> infos;
    infos.reserve(size_t(n_tensors));
    for (uint64_t i = 0; i < n_tensors; ++i) {
        Info info{c.string("a tensor name"), {}, {}, 0, 0};
        const uint32_t n_dims = c.get<uint32_t>("a tensor's dimension count");
        if (n_dims == 0 || n_dims > kMaxDims)
            throw Error(LLMATC_ERR_CORRUPT, file + ": tensor '" + info.name + "' has " + std::to_string(n_dims) +
                                                " dimensions (1 to 4 expected)");
        std::vector<int64_t> ne(n_dims);  // ggml order: innermost first
        for (auto& d : ne) {
            const uint64_t v = c.get<uint64_t>("a tensor dimension");
            if (v == 0 || v > uint64_t(INT64_MAX))
                throw Error(LLMATC_ERR_CORRUPT, file + ": tensor '" + info.name + "' has dimension " +
                                                    std::to_string(v));
            d = int64_t(v);
        }
        info.shape.assign(ne.rbegin(), ne.rend());
        const uint32_t ggml_type = c.get<uint32_t>("a tensor type");
        const auto type = type_info(ggml_type);
        if (!type)
            throw Error(LLMATC_ERR_UNSUPPORTED, file + ": tensor '" + info.name + "' has ggml type " +
                                                    std::to_string(ggml_type) +
                                                    "; supported: F32 (0), F16 (1), Q4_0 (2), Q8_0 (8), Q4_K (12), "
                                                    "Q5_K (13), Q6_K (14), BF16 (30)");
        info.type = *type;
        if (uint64_t(ne[0]) % type->block_elements != 0)
            throw Error(LLMATC_ERR_CORRUPT, file + ": tensor '" + info.name + "' rows of " + std::to_string(ne[0]) +
                                                " elements do not fill whole " + dtype_name(type->dtype) + " blocks");
        const auto blocks = checked_byte_size(info.shape, 1);
        const uint64_t n_blocks = blocks ? *blocks / type->block_elements : 0;
        if (!blocks || n_blocks > UINT64_MAX / type->block_bytes)
            throw Error(LLMATC_ERR_CORRUPT, file + ": tensor '" + info.name + "' is too large");
        info.nbytes = n_blocks * type->block_bytes;
        info.offset = c.get<uint64_t>("a tensor offset");
        infos.push_back(std::move(info));
    }

    const uint64_t data_start = (c.pos() + uint64_t(alignment) - 1) / uint64_t(alignment) * uint64_t(alignment);
    if (data_start > size) throw Error(LLMATC_ERR_CORRUPT, file + ": GGUF data section starts past the end");
    const bool is_llama = [&] {
        const auto arch = meta("general.architecture");
        const auto* s = arch ? std::get_if<std::string>(&*arch) : nullptr;
        return s && *s == "llama";
    }();
    if (!is_llama)
        throw Error(LLMATC_ERR_UNSUPPORTED, file + ": general.architecture must be \"llama\" (other GGUF "
                                                   "architectures are not supported)");
    const int64_t n_heads = meta_int("llama.attention.head_count", std::nullopt);
    const int64_t n_kv_heads = meta_int("llama.attention.head_count_kv", n_heads);

    tensors_.reserve(infos.size());
    for (Info& info : infos) {
        if (info.offset > size - data_start || info.nbytes > size - data_start - info.offset)
            throw Error(LLMATC_ERR_CORRUPT, file + ": tensor '" + info.name + "' (" + std::to_string(info.nbytes) +
                                                " bytes at offset " + std::to_string(info.offset) +
                                                ") lies outside the file");
        TensorEntry entry;
        const auto hf = gguf_to_hf_tensor_name(info.name);
        if (!hf) spdlog::warn("{}: tensor '{}' has no Hugging Face Llama counterpart; kept under its own name", file,
                              info.name);
        entry.name = hf ? *hf : info.name;
        entry.dtype = info.type.dtype;
        entry.shape = info.shape;
        entry.data = data + data_start + info.offset;
        entry.nbytes = info.nbytes;

        const bool is_q = info.name.size() > 13 && info.name.ends_with(".attn_q.weight");
        const bool is_k = info.name.size() > 13 && info.name.ends_with(".attn_k.weight");
        if (is_q || is_k) {
            // The converter wrote head h's rows as (h, j, s) for row h*hd + s*hd/2 + j of Hugging Face's layout
            // (see unpermute_rotary_rows).
            const int64_t heads = is_q ? n_heads : n_kv_heads;
            const int64_t rows = entry.shape.size() == 2 ? entry.shape[0] : 0;
            if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0)
                throw Error(LLMATC_ERR_CORRUPT, file + ": tensor '" + info.name + "' of shape " +
                                                    shape_string(entry.shape) + " does not split into " +
                                                    std::to_string(heads) + " heads of even size");
            entry.interleaved_rotary_heads = heads;  // put back by the checkpoint when requested
        }
        if (!by_name_.emplace(entry.name, tensors_.size()).second)
            throw Error(LLMATC_ERR_CORRUPT, file + ": tensor '" + entry.name + "' appears twice");
        tensors_.push_back(std::move(entry));
    }
}

void unpermute_rotary_rows(const TensorEntry& entry, uint8_t* out) {
    // Rows are whole (blocks never straddle rows), so this works for any type.
    const int64_t heads = entry.interleaved_rotary_heads, rows = entry.shape[0];
    const int64_t head_dim = rows / heads, half = head_dim / 2;
    const uint64_t row_bytes = entry.nbytes / uint64_t(rows);
    const auto* src = static_cast<const uint8_t*>(entry.data);
    for (int64_t h = 0; h < heads; ++h)
        for (int64_t s = 0; s < 2; ++s)
            for (int64_t j = 0; j < half; ++j)
                std::memcpy(out + uint64_t(h * head_dim + s * half + j) * row_bytes,
                            src + uint64_t(h * head_dim + 2 * j + s) * row_bytes, size_t(row_bytes));
}

void GgufFile::build_config() {
    const TensorEntry* embed = find("model.embed_tokens.weight");
    if (!embed || embed->shape.size() != 2)
        throw Error(LLMATC_ERR_CORRUPT, path().string() + ": token_embd.weight is missing or not 2-D");
    const int64_t hidden = meta_int("llama.embedding_length", std::nullopt);
    const int64_t heads = meta_int("llama.attention.head_count", std::nullopt);
    int64_t vocab = meta_int("llama.vocab_size", vocab_from_tokens_ ? std::optional<int64_t>(int64_t(vocab_from_tokens_))
                                                                    : std::optional<int64_t>(embed->shape[0]));

    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("architectures");
    w.StartArray();
    w.String("LlamaForCausalLM");
    w.EndArray();
    w.Key("model_type");
    w.String("llama");
    w.Key("hidden_size");
    w.Int64(hidden);
    w.Key("intermediate_size");
    w.Int64(meta_int("llama.feed_forward_length", std::nullopt));
    w.Key("num_hidden_layers");
    w.Int64(meta_int("llama.block_count", std::nullopt));
    w.Key("num_attention_heads");
    w.Int64(heads);
    w.Key("num_key_value_heads");
    w.Int64(meta_int("llama.attention.head_count_kv", heads));
    if (meta("llama.attention.key_length")) {
        w.Key("head_dim");
        w.Int64(meta_int("llama.attention.key_length", std::nullopt));
    }
    w.Key("vocab_size");
    w.Int64(vocab);
    w.Key("max_position_embeddings");
    w.Int64(meta_int("llama.context_length", 2048));
    w.Key("rms_norm_eps");
    w.Double(meta_double("llama.attention.layer_norm_rms_epsilon", 1e-5));
    w.Key("rope_theta");
    w.Double(meta_double("llama.rope.freq_base", 10000.0));
    const auto scaling = meta("llama.rope.scaling.type");
    const auto* scaling_type = scaling ? std::get_if<std::string>(&*scaling) : nullptr;
    if (scaling_type && *scaling_type != "none") {
        if (*scaling_type != "linear")
            throw Error(LLMATC_ERR_UNSUPPORTED, path().string() + ": llama.rope.scaling.type \"" + *scaling_type +
                                                    "\" is not supported (none, linear)");
        w.Key("rope_scaling");
        w.StartObject();
        w.Key("type");
        w.String("linear");
        w.Key("factor");
        w.Double(meta_double("llama.rope.scaling.factor", 1.0));
        w.EndObject();
    }
    w.Key("tie_word_embeddings");
    w.Bool(find("lm_head.weight") == nullptr);
    for (const char* key : {"bos", "eos"}) {
        const std::string gguf_key = std::string("tokenizer.ggml.") + key + "_token_id";
        if (meta(gguf_key)) {
            const int64_t id = meta_int(gguf_key, std::nullopt);
            w.Key((std::string(key) + "_token_id").c_str());
            w.Int64(id);
            if (std::string(key) == "eos") eos_ids_ = {int32_t(id)};
        }
    }
    w.Key("torch_dtype");
    w.String("float32");
    w.EndObject();
    config_json_ = buffer.GetString();
}

GgufTokenizerMetadata read_gguf_tokenizer_metadata(const std::filesystem::path& path) {
    const MappedFile file(path);
    const std::string name = path.string();
    Cursor c(file.data(), file.size(), name);
    const HeaderCounts counts = read_header(c, file.size(), name);
    GgufTokenizerMetadata out;
    uint64_t token_count = 0;
    read_key_values(c, counts.n_kv, file.size(), name, out.scalars, &out, token_count);
    return out;
}

}  // namespace llmatc::checkpoint_detail
