// core/tokenizer/jinja/parser.h — builds the syntax tree of a template from its tokens.
#pragma once

#include <string_view>

#include "tokenizer/jinja/ast.h"

namespace llmatc::jinja {

// Parses a whole template. Throws llmatc::Error(INVALID_ARGUMENT) "chat template syntax error at line L, column C:
// ..." for anything outside the supported subset (unknown tag, unclosed block, bad expression).
Body parse_template(std::string_view source);

}  // namespace llmatc::jinja
