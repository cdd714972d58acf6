// core/tokenizer/sentencepiece_tokenizer.cpp — Tokenizer on libsentencepiece with Hugging Face LlamaTokenizer's rules.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <sentencepiece_processor.h>
#include <spdlog/spdlog.h>

#include "tokenizer/gguf_tokenizer_model.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_config.h"
#include "util/error.h"

namespace llmatc {

namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // U+2581, sentencepiece's whitespace mark

// NormalizerSpec{add_dummy_prefix: false} as ModelProto field 3. Protobuf merges a repeated embedded message into
// the one already parsed, so appending these bytes to a serialized model switches off only the dummy prefix —
// what transformers' get_spm_processor does for legacy=false.
constexpr char kNoDummyPrefixPatch[] = {0x1A, 0x02, 0x18, 0x00};

std::string read_file(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw Error(LLMATC_ERR_NOT_FOUND, path.string() + ": no such file (a SentencePiece tokenizer.model is needed)");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(LLMATC_ERR_IO, path.string() + ": cannot open for reading");
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

void load_processor(sentencepiece::SentencePieceProcessor& sp, const std::string& serialized,
                    const std::filesystem::path& path) {
    auto status = sp.LoadFromSerializedProto(serialized);
    if (!status.ok())
        throw Error(LLMATC_ERR_CORRUPT,
                    path.string() + ": not a valid SentencePiece model (" + std::string(status.message()) + ")");
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
        text.replace(pos, from.size(), to);
    return text;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// A special or added token as it is matched in text.
struct TextToken {
    std::string content;
    int32_t id;
    bool lstrip;
    bool rstrip;
};

// A piece of input text after splitting on special tokens: either plain text or one token id.
struct Segment {
    std::string text;
    int32_t token_id = -1;  // >= 0: an added/special token
};

class SentencePieceTokenizer final : public Tokenizer {
public:
    SentencePieceTokenizer(const std::filesystem::path& dir) {
        // A GGUF checkpoint without tokenizer.model: the model is rebuilt from the file's tokenizer.ggml.* metadata.
        const auto gguf = gguf_without_tokenizer_model(dir);
        const auto model_path = gguf ? *gguf : dir / "tokenizer.model";
        std::string serialized;
        if (gguf) {
            GgufTokenizerModel built = build_gguf_tokenizer_model(*gguf, read_tokenizer_config(dir / "tokenizer_config.json"));
            serialized = std::move(built.serialized_model);
            config_ = std::move(built.config);
        } else {
            serialized = read_file(model_path);
            config_ = read_tokenizer_config(dir / "tokenizer_config.json");
        }
        load_processor(sp_, serialized, model_path);
        if (!config_.legacy)
            load_processor(sp_no_dummy_prefix_, serialized + std::string(kNoDummyPrefixPatch, sizeof kNoDummyPrefixPatch),
                           model_path);
        piece_count_ = sp_.GetPieceSize();
        vocab_size_ = piece_count_;
        for (const auto& t : config_.added_tokens) vocab_size_ = std::max(vocab_size_, t.id + 1);

        register_added_tokens(dir / "tokenizer_config.json");
        bos_id_ = resolve_token(config_.bos_token);
        eos_id_ = resolve_token(config_.eos_token);
        unk_id_ = resolve_token(config_.unk_token);
        for (int32_t id : {bos_id_, eos_id_, unk_id_})
            if (id >= 0) special_ids_.insert(id);

        space_piece_id_ = piece_exact_id(std::string(kSpaceSymbol));
        pick_context_sentinel(model_path);
        if (!config_.legacy && config_.unk_token.empty())
            throw Error(LLMATC_ERR_CORRUPT, (dir / "tokenizer_config.json").string() +
                                                ": legacy=false needs an unk_token (LlamaTokenizer encodes through it)");
        if (!config_.legacy) unk_prefix_length_ = sp_no_dummy_prefix_.EncodeAsIds(config_.unk_token).size();
        spdlog::debug("tokenizer {}: {} pieces, vocab {}, bos {}, eos {}, legacy {}", dir.string(), piece_count_,
                      vocab_size_, bos_id_, eos_id_, config_.legacy);
    }

    std::vector<int32_t> encode(std::string_view input, bool add_special) const override {
        std::vector<int32_t> ids;
        if (add_special && config_.add_bos_token && bos_id_ >= 0) ids.push_back(bos_id_);
        encode_text(input, ids);
        if (add_special && config_.add_eos_token && eos_id_ >= 0) ids.push_back(eos_id_);
        return ids;
    }

    std::string decode(std::span<const int32_t> ids, bool skip_special) const override {
        std::string out;
        std::vector<int> run;  // consecutive sentencepiece ids, decoded together so byte pieces join into characters
        auto flush = [&] {
            if (run.empty()) return;
            out += out.empty() ? sp_.DecodeIds(run) : decode_after_text(run);
            run.clear();
        };
        for (int32_t id : ids) {
            check_id(id);
            if (is_special(id)) {
                if (skip_special) continue;
                flush();
                out += special_text(id);
            } else if (id >= piece_count_) {
                flush();
                out += added_content_.at(id);
            } else {
                run.push_back(id);
            }
        }
        flush();
        return out;
    }

    std::string token_text(int32_t id) const override {
        check_id(id);
        if (is_special(id) || id >= piece_count_) return special_text(id);
        if (sp_.IsByte(id)) {
            // Byte pieces are spelled "<0xAB>".
            const std::string piece = sp_.IdToPiece(id);
            return std::string(1, static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)));
        }
        return replace_all(sp_.IdToPiece(id), kSpaceSymbol, " ");
    }

    int32_t vocab_size() const override { return vocab_size_; }
    int32_t bos_id() const override { return bos_id_; }
    int32_t eos_id() const override { return eos_id_; }
    bool is_special(int32_t id) const override {
        if (special_ids_.count(id)) return true;
        return id >= 0 && id < piece_count_ && sp_.IsControl(id);
    }
    const std::string& bos_token() const override { return config_.bos_token; }
    const std::string& eos_token() const override { return config_.eos_token; }
    const std::string& chat_template() const override { return config_.chat_template; }

private:
    void check_id(int32_t id) const {
        if (id < 0 || id >= vocab_size_)
            throw Error(LLMATC_ERR_INVALID_ARGUMENT,
                        "token id " + std::to_string(id) + " is out of range [0, " + std::to_string(vocab_size_) + ")");
    }

    // The id of `piece` in the sentencepiece vocabulary, or -1 (PieceToId answers unk for unknown pieces).
    int32_t piece_exact_id(const std::string& piece) const {
        const int id = sp_.PieceToId(piece);
        return (id >= 0 && id < piece_count_ && sp_.IdToPiece(id) == piece) ? id : -1;
    }

    int32_t resolve_token(const std::string& content) const {
        if (content.empty()) return -1;
        for (const auto& t : text_tokens_)
            if (t.content == content) return t.id;
        return piece_exact_id(content);
    }

    // Every added token is matched in text; so are BOS/EOS/UNK, which HF registers as added tokens too.
    void register_added_tokens(const std::filesystem::path& config_path) {
        for (const auto& t : config_.added_tokens) {
            if (t.id < piece_count_ && sp_.IdToPiece(t.id) != t.content)
                spdlog::warn("{}: added token {} '{}' differs from the model's piece '{}'; using the config's",
                             config_path.string(), t.id, t.content, sp_.IdToPiece(t.id));
            text_tokens_.push_back({t.content, t.id, t.lstrip, t.rstrip});
            added_content_[t.id] = t.content;
            if (t.special) special_ids_.insert(t.id);
        }
        for (const std::string* content : {&config_.unk_token, &config_.bos_token, &config_.eos_token}) {
            if (content->empty()) continue;
            bool known = std::any_of(text_tokens_.begin(), text_tokens_.end(),
                                     [&](const TextToken& t) { return t.content == *content; });
            const int32_t id = piece_exact_id(*content);
            if (!known && id >= 0) {
                text_tokens_.push_back({*content, id, false, false});
                added_content_[id] = *content;
            }
        }
        for (const auto& t : text_tokens_)
            if (token_first_bytes_.find(t.content[0]) == std::string::npos) token_first_bytes_ += t.content[0];
    }

    // A normal piece whose decoded text is non-empty: decoding it in front of a run makes sentencepiece treat the
    // run as the middle of a text, so the run keeps its leading space.
    void pick_context_sentinel(const std::filesystem::path& model_path) {
        for (int id = 0; id < piece_count_; ++id) {
            if (sp_.IsControl(id) || sp_.IsUnknown(id) || sp_.IsByte(id) || sp_.IsUnused(id)) continue;
            std::string surface = sp_.DecodeIds(std::vector<int>{id});
            if (surface.empty()) continue;
            sentinel_id_ = id;
            sentinel_surface_ = std::move(surface);
            return;
        }
        throw Error(LLMATC_ERR_CORRUPT, model_path.string() + ": the model has no normal pieces");
    }

    // Decodes `run` as it reads after some text: sentencepiece drops the leading space only at the start of a text.
    std::string decode_after_text(const std::vector<int>& run) const {
        std::vector<int> with_context;
        with_context.reserve(run.size() + 1);
        with_context.push_back(sentinel_id_);
        with_context.insert(with_context.end(), run.begin(), run.end());
        return sp_.DecodeIds(with_context).substr(sentinel_surface_.size());
    }

    std::string special_text(int32_t id) const {
        auto it = added_content_.find(id);
        if (it != added_content_.end()) return it->second;
        return id < piece_count_ ? sp_.IdToPiece(id) : std::string();
    }

    // Splits text on special/added token strings (longest match at the earliest position, as HF's trie does) and
    // applies their lstrip/rstrip.
    std::vector<Segment> split_on_tokens(std::string_view text) const {
        std::vector<Segment> segments;
        std::vector<const TextToken*> matched;  // parallel to segments; nullptr for text
        std::string pending;
        size_t pos = 0;
        while (pos < text.size()) {
            // Jump to the next byte that can start a token string.
            const size_t candidate = text.find_first_of(token_first_bytes_, pos);
            if (candidate == std::string_view::npos) {
                pending.append(text.substr(pos));
                break;
            }
            pending.append(text.substr(pos, candidate - pos));
            pos = candidate;
            const TextToken* best = nullptr;
            for (const auto& t : text_tokens_)
                if (text.compare(pos, t.content.size(), t.content) == 0 &&
                    (!best || t.content.size() > best->content.size()))
                    best = &t;
            if (!best) {
                pending += text[pos++];
                continue;
            }
            segments.push_back({std::move(pending), -1});
            matched.push_back(nullptr);
            pending.clear();
            segments.push_back({"", best->id});
            matched.push_back(best);
            pos += best->content.size();
        }
        segments.push_back({std::move(pending), -1});
        matched.push_back(nullptr);

        for (size_t i = 0; i < segments.size(); ++i) {
            if (!matched[i]) continue;
            if (matched[i]->rstrip && i + 1 < segments.size()) {
                auto& next = segments[i + 1].text;
                next.erase(0, std::find_if_not(next.begin(), next.end(), is_space) - next.begin());
            }
            if (matched[i]->lstrip && i > 0) {
                auto& prev = segments[i - 1].text;
                while (!prev.empty() && is_space(prev.back())) prev.pop_back();
            }
        }
        return segments;
    }

    void encode_text(std::string_view input, std::vector<int32_t>& ids) const {
        if (input.empty()) return;
        if (config_.legacy) {
            // Each text chunk gets sentencepiece's dummy-prefix space, also right after a special token.
            for (const auto& seg : split_on_tokens(input)) {
                if (seg.token_id >= 0) ids.push_back(seg.token_id);
                else if (!seg.text.empty()) append_ids(sp_.EncodeAsIds(seg.text), ids);
            }
            return;
        }
        // legacy=false (LlamaTokenizer.tokenize): literal U+2581 reads as a space, one prefix space goes in front of
        // the whole text, and chunks are encoded without a dummy prefix.
        std::string text = replace_all(std::string(input), kSpaceSymbol, " ");
        if (config_.add_prefix_space) text.insert(0, kSpaceSymbol);
        const size_t first = ids.size();
        std::vector<bool> is_token;
        for (const auto& seg : split_on_tokens(text)) {
            if (seg.token_id >= 0) {
                ids.push_back(seg.token_id);
                is_token.push_back(true);
                continue;
            }
            if (seg.text.empty()) continue;
            std::vector<int> piece_ids;
            if (seg.text.rfind(kSpaceSymbol, 0) == 0 || seg.text[0] == ' ') {
                // Encoded behind the unk token and cut after it, as LlamaTokenizer._tokenize does, so a leading
                // space is kept as a piece of its own.
                piece_ids = sp_no_dummy_prefix_.EncodeAsIds(config_.unk_token + seg.text);
                piece_ids.erase(piece_ids.begin(),
                                piece_ids.begin() + std::min(unk_prefix_length_, piece_ids.size()));
            } else {
                piece_ids = sp_no_dummy_prefix_.EncodeAsIds(seg.text);
            }
            is_token.insert(is_token.end(), piece_ids.size(), false);
            append_ids(piece_ids, ids);
        }
        // A text that starts with a special token loses the lone prefix space ("▁", "<s>" → "<s>").
        if (ids.size() - first > 1 && ids[first] == space_piece_id_ && !is_token[0] && is_token[1] &&
            is_special(ids[first + 1]))
            ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(first));
    }

    static void append_ids(const std::vector<int>& from, std::vector<int32_t>& to) {
        to.insert(to.end(), from.begin(), from.end());
    }

    sentencepiece::SentencePieceProcessor sp_;
    sentencepiece::SentencePieceProcessor sp_no_dummy_prefix_;  // loaded only for legacy=false
    TokenizerConfig config_;
    int32_t piece_count_ = 0;
    int32_t vocab_size_ = 0;
    int32_t bos_id_ = -1, eos_id_ = -1, unk_id_ = -1;
    int32_t space_piece_id_ = -1;
    int sentinel_id_ = -1;
    std::string sentinel_surface_;
    size_t unk_prefix_length_ = 0;
    std::vector<TextToken> text_tokens_;
    std::string token_first_bytes_;  // the first byte of every entry of text_tokens_
    std::unordered_map<int32_t, std::string> added_content_;
    std::unordered_set<int32_t> special_ids_;
};

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::load(const std::filesystem::path& dir) {
    return std::make_unique<SentencePieceTokenizer>(dir);
}

}  // namespace llmatc
