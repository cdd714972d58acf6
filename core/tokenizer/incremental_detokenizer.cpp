// core/tokenizer/incremental_detokenizer.cpp — streaming text deltas from generated ids (prefix/read offsets).
#include <algorithm>

#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace llmatc {

namespace {

// How many ids of context to keep at least; more are kept when these decode to no text (e.g. all special).
constexpr size_t kMinContextIds = 6;

bool is_continuation_byte(unsigned char c) { return (c & 0xC0) == 0x80; }

size_t utf8_sequence_length(unsigned char lead) {
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    return 1;  // ASCII, or a byte that cannot start a sequence (decoded as U+FFFD on its own)
}

// The text `full` adds after `prefix`. `prefix` is a prefix of `full` except when the context itself ended inside
// a character; then the part that differs is treated as new, cut back to a character boundary.
std::string text_after(const std::string& prefix, const std::string& full) {
    size_t common = 0;
    const size_t limit = std::min(prefix.size(), full.size());
    while (common < limit && prefix[common] == full[common]) ++common;
    if (common < prefix.size())
        while (common > 0 && is_continuation_byte(static_cast<unsigned char>(full[common]))) --common;
    return full.substr(common);
}

}  // namespace

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, std::span<const int32_t> prompt_ids,
                                               bool skip_special)
    : tokenizer_(tokenizer), skip_special_(skip_special) {
    // Keep enough of the prompt that its decoded tail is non-empty: sentencepiece drops the leading space of the
    // first word of a text, so the first generated word keeps its space only if some text comes before it.
    size_t start = prompt_ids.size();
    size_t taken = 0;
    while (start > 0) {
        if (taken >= kMinContextIds) {
            const int32_t id = prompt_ids[start - 1];
            const bool bears_text = !(skip_special_ && tokenizer_.is_special(id));
            if (bears_text && !tokenizer_.decode(prompt_ids.subspan(start), skip_special_).empty()) break;
        }
        --start;
        ++taken;
    }
    ids_.assign(prompt_ids.begin() + static_cast<std::ptrdiff_t>(start), prompt_ids.end());
    prefix_offset_ = 0;
    read_offset_ = ids_.size();
}

std::string IncrementalDetokenizer::decode_range(size_t begin, size_t end) const {
    return tokenizer_.decode(std::span<const int32_t>(ids_).subspan(begin, end - begin), skip_special_);
}

bool IncrementalDetokenizer::ends_inside_character() const {
    // Byte tokens decode to one byte >= 0x80 (an ASCII byte token or any other token ends a UTF-8 sequence).
    // Skipped special tokens vanish from the text, so bytes on both sides of them join.
    std::vector<unsigned char> tail;  // newest first
    for (size_t i = ids_.size(); i > read_offset_ && tail.size() < 4; --i) {
        const int32_t id = ids_[i - 1];
        if (skip_special_ && tokenizer_.is_special(id)) continue;
        const std::string text = tokenizer_.token_text(id);
        if (text.size() != 1 || static_cast<unsigned char>(text[0]) < 0x80) break;
        tail.push_back(static_cast<unsigned char>(text[0]));
    }
    for (size_t k = 0; k < tail.size(); ++k) {
        if (is_continuation_byte(tail[k])) continue;
        return utf8_sequence_length(tail[k]) > k + 1;  // the lead byte has fewer continuation bytes than it needs
    }
    return false;
}

std::string IncrementalDetokenizer::take_new_text() {
    const std::string prefix_text = decode_range(prefix_offset_, read_offset_);
    const std::string full_text = decode_range(prefix_offset_, ids_.size());
    std::string delta = text_after(prefix_text, full_text);

    // The ids just emitted become the context for the next ones, unless they decode to nothing on their own.
    if (!decode_range(read_offset_, ids_.size()).empty()) prefix_offset_ = read_offset_;
    read_offset_ = ids_.size();
    if (prefix_offset_ > 0) {
        ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_offset_));
        read_offset_ -= prefix_offset_;
        prefix_offset_ = 0;
    }
    return delta;
}

std::string IncrementalDetokenizer::push(int32_t id) {
    if (id < 0 || id >= tokenizer_.vocab_size())
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "token id " + std::to_string(id) + " is out of range [0, " +
                                                     std::to_string(tokenizer_.vocab_size()) + ")");
    ids_.push_back(id);
    if (ends_inside_character()) return "";
    return take_new_text();
}

std::string IncrementalDetokenizer::flush() {
    if (read_offset_ == ids_.size()) return "";
    return take_new_text();
}

}  // namespace llmatc
