// core/tokenizer/jinja/lexer.h — splits a template into text and tag tokens, applying Jinja's whitespace control.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmatc::jinja {

enum class TokenKind {
    Text,         // literal output between tags, whitespace control already applied
    OutputBegin,  // {{
    OutputEnd,    // }}
    BlockBegin,   // {%
    BlockEnd,     // %}
    Name,         // identifiers and keywords (if, for, and, true ...)
    String,       // value holds the unescaped text
    Integer,
    Float,
    Operator,     // + - * / // % ** ~ == != < <= > >= = . , : | ( ) [ ] { }
    End,          // end of template
};

struct Token {
    TokenKind kind;
    std::string value;
    int line;
    int column;
};

// Tokenizes `source` as Hugging Face configures Jinja for chat templates: trim_blocks and lstrip_blocks on, one
// trailing newline of the template dropped. Comments are removed. Throws llmatc::Error(INVALID_ARGUMENT) naming the
// line and column of a lexical error (unclosed tag or string, stray character).
std::vector<Token> tokenize_template(std::string_view source);

}  // namespace llmatc::jinja
