// core/tokenizer/jinja/lexer.cpp — the template lexer: text/tag splitting, whitespace control, expression tokens.
#include "tokenizer/jinja/lexer.h"

#include <cctype>

#include "util/error.h"

namespace llmatc::jinja {

namespace {

enum class TagKind { Output, Block, Comment };

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Whitespace rules the tags on either side of a text impose on it.
struct TextEdges {
    bool strip_all_left = false;   // previous tag ended with "-%}", "-}}" or "-#}"
    bool trim_newline = false;     // previous tag was a block or comment (trim_blocks)
    bool strip_all_right = false;  // next tag starts with "{%-", "{{-" or "{#-"
    bool lstrip_line = false;      // next tag is a block or comment without "{%+" (lstrip_blocks)
};

std::string apply_edges(std::string text, const TextEdges& e, bool starts_template) {
    // lstrip_blocks looks at the original text: only blanks between a line start and the tag are removed.
    bool tail_is_line_start = false;
    size_t tail_begin = text.size();
    while (tail_begin > 0 && (text[tail_begin - 1] == ' ' || text[tail_begin - 1] == '\t')) --tail_begin;
    if (tail_begin > 0 ? text[tail_begin - 1] == '\n' : starts_template) tail_is_line_start = true;

    size_t begin = 0;
    if (e.strip_all_left) {
        while (begin < text.size() && is_ws(text[begin])) ++begin;
    } else if (e.trim_newline) {
        if (text.compare(0, 2, "\r\n") == 0) begin = 2;
        else if (!text.empty() && text[0] == '\n') begin = 1;
    }
    size_t end = text.size();
    if (e.strip_all_right) {
        while (end > begin && is_ws(text[end - 1])) --end;
    } else if (e.lstrip_line && tail_is_line_start) {
        end = std::max(begin, tail_begin);
    }
    return text.substr(begin, end - begin);
}

class Lexer {
public:
    explicit Lexer(std::string_view source) : src_(source) {
        // keep_trailing_newline=False: Jinja drops one newline at the very end of the template.
        if (!src_.empty() && src_.back() == '\n') {
            src_.remove_suffix(1);
            if (!src_.empty() && src_.back() == '\r') src_.remove_suffix(1);
        }
    }

    std::vector<Token> run() {
        TextEdges edges;
        size_t text_start = 0;
        int text_line = 1, text_col = 1;
        while (true) {
            const size_t tag = find_tag(pos_);
            const bool at_end = tag == std::string_view::npos;
            const size_t text_end = at_end ? src_.size() : tag;
            TagKind kind = TagKind::Output;
            if (!at_end) {
                const char c = src_[tag + 1];
                kind = c == '{' ? TagKind::Output : c == '%' ? TagKind::Block : TagKind::Comment;
                const char modifier = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
                edges.strip_all_right = modifier == '-';
                edges.lstrip_line = kind != TagKind::Output && modifier != '+';
            } else {
                edges.strip_all_right = edges.lstrip_line = false;
            }
            std::string text = apply_edges(std::string(src_.substr(text_start, text_end - text_start)), edges,
                                           text_start == 0);
            if (!text.empty()) tokens_.push_back({TokenKind::Text, std::move(text), text_line, text_col});
            if (at_end) break;

            advance_to(tag);
            const int tag_line = line_, tag_col = col_;
            advance_to(tag + 2);
            if (pos_ < src_.size() && (src_[pos_] == '-' || src_[pos_] == '+')) advance_to(pos_ + 1);
            bool strip_after = false;
            if (kind == TagKind::Comment) {
                const size_t close = src_.find("#}", pos_);
                if (close == std::string_view::npos) fail(tag_line, tag_col, "comment '{#' is never closed");
                strip_after = close > pos_ && src_[close - 1] == '-';
                advance_to(close + 2);
            } else {
                tokens_.push_back({kind == TagKind::Output ? TokenKind::OutputBegin : TokenKind::BlockBegin,
                                   kind == TagKind::Output ? "{{" : "{%", tag_line, tag_col});
                strip_after = lex_expression(kind, tag_line, tag_col);
            }
            edges = TextEdges{};
            edges.strip_all_left = strip_after;
            edges.trim_newline = kind != TagKind::Output;
            text_start = pos_;
            text_line = line_;
            text_col = col_;
        }
        tokens_.push_back({TokenKind::End, "", line_, col_});
        return std::move(tokens_);
    }

private:
    [[noreturn]] static void fail(int line, int col, const std::string& what) {
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "chat template syntax error at line " + std::to_string(line) +
                                                     ", column " + std::to_string(col) + ": " + what);
    }

    size_t find_tag(size_t from) const {
        for (size_t i = src_.find('{', from); i != std::string_view::npos; i = src_.find('{', i + 1))
            if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
        return std::string_view::npos;
    }

    void advance_to(size_t target) {
        for (; pos_ < target; ++pos_) {
            if (src_[pos_] == '\n') {
                ++line_;
                col_ = 1;
            } else if ((static_cast<unsigned char>(src_[pos_]) & 0xC0) != 0x80) {
                ++col_;
            }
        }
    }

    // Lexes the inside of {{ }} or {% %}; returns whether the closing tag asked to strip the text after it.
    bool lex_expression(TagKind kind, int tag_line, int tag_col) {
        const std::string_view close = kind == TagKind::Output ? "}}" : "%}";
        while (true) {
            while (pos_ < src_.size() && is_ws(src_[pos_])) advance_to(pos_ + 1);
            if (pos_ >= src_.size())
                fail(tag_line, tag_col, std::string("tag is never closed with '") + std::string(close) + "'");
            const int line = line_, col = col_;
            if (src_.compare(pos_, 1, "-") == 0 && src_.compare(pos_ + 1, 2, close) == 0) {
                advance_to(pos_ + 3);
                push_close(kind, line, col);
                return true;
            }
            if (src_.compare(pos_, 2, close) == 0) {
                advance_to(pos_ + 2);
                push_close(kind, line, col);
                return false;
            }
            const char c = src_[pos_];
            if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
                size_t end = pos_;
                while (end < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[end])) || src_[end] == '_'))
                    ++end;
                tokens_.push_back({TokenKind::Name, std::string(src_.substr(pos_, end - pos_)), line, col});
                advance_to(end);
            } else if (std::isdigit(static_cast<unsigned char>(c))) {
                lex_number(line, col);
            } else if (c == '\'' || c == '"') {
                lex_string(line, col);
            } else {
                lex_operator(line, col);
            }
        }
    }

    void push_close(TagKind kind, int line, int col) {
        tokens_.push_back({kind == TagKind::Output ? TokenKind::OutputEnd : TokenKind::BlockEnd,
                           kind == TagKind::Output ? "}}" : "%}", line, col});
    }

    void lex_number(int line, int col) {
        size_t end = pos_;
        bool is_float = false;
        while (end < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[end])) || src_[end] == '_')) ++end;
        if (end + 1 < src_.size() && src_[end] == '.' && std::isdigit(static_cast<unsigned char>(src_[end + 1]))) {
            is_float = true;
            ++end;
            while (end < src_.size() && std::isdigit(static_cast<unsigned char>(src_[end]))) ++end;
        }
        if (end < src_.size() && (src_[end] == 'e' || src_[end] == 'E')) {
            size_t e = end + 1;
            if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
            if (e < src_.size() && std::isdigit(static_cast<unsigned char>(src_[e]))) {
                is_float = true;
                end = e;
                while (end < src_.size() && std::isdigit(static_cast<unsigned char>(src_[end]))) ++end;
            }
        }
        std::string text;
        for (char ch : src_.substr(pos_, end - pos_))
            if (ch != '_') text += ch;
        tokens_.push_back({is_float ? TokenKind::Float : TokenKind::Integer, text, line, col});
        advance_to(end);
    }

    static void append_utf8(std::string& out, unsigned long cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    // Python string-literal escapes, as Jinja unescapes them.
    void lex_string(int line, int col) {
        const char quote = src_[pos_];
        std::string value;
        size_t i = pos_ + 1;
        while (true) {
            if (i >= src_.size()) fail(line, col, "string literal is never closed");
            const char c = src_[i];
            if (c == quote) break;
            if (c != '\\') {
                value += c;
                ++i;
                continue;
            }
            if (i + 1 >= src_.size()) fail(line, col, "string literal is never closed");
            const char e = src_[i + 1];
            i += 2;
            switch (e) {
                case 'n': value += '\n'; break;
                case 't': value += '\t'; break;
                case 'r': value += '\r'; break;
                case '0': value += '\0'; break;
                case '\\': value += '\\'; break;
                case '\'': value += '\''; break;
                case '"': value += '"'; break;
                case '\n': break;  // line continuation
                case 'x': case 'u': case 'U': {
                    const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + digits > src_.size()) fail(line, col, "truncated \\" + std::string(1, e) + " escape");
                    const std::string hex(src_.substr(i, digits));
                    for (char h : hex)
                        if (!std::isxdigit(static_cast<unsigned char>(h)))
                            fail(line, col, "bad \\" + std::string(1, e) + " escape '" + hex + "'");
                    append_utf8(value, std::stoul(hex, nullptr, 16));
                    i += digits;
                    break;
                }
                default: value += '\\'; value += e; break;  // Python keeps unknown escapes as written
            }
        }
        tokens_.push_back({TokenKind::String, std::move(value), line, col});
        advance_to(i + 1);
    }

    void lex_operator(int line, int col) {
        static const char* const kOperators[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~",
                                                 "<",  ">",  "=",  ".",  ",",  ":",  "|", "(", ")", "[", "]", "{", "}"};
        for (const char* op : kOperators) {
            const std::string_view o(op);
            if (src_.compare(pos_, o.size(), o) == 0) {
                tokens_.push_back({TokenKind::Operator, std::string(o), line, col});
                advance_to(pos_ + o.size());
                return;
            }
        }
        fail(line, col, std::string("unexpected character '") + src_[pos_] + "'");
    }

    std::string_view src_;
    size_t pos_ = 0;
    int line_ = 1;
    int col_ = 1;
    std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize_template(std::string_view source) { return Lexer(source).run(); }

}  // namespace llmatc::jinja
