// core/tokenizer/jinja/evaluator.h — renders a parsed template against a set of variables.
#pragma once

#include <string>
#include <unordered_map>

#include "tokenizer/jinja/ast.h"

namespace llmatc::jinja {

// Renders `body` with `variables` as globals (plus raise_exception, namespace and range). Throws
// llmatc::Error(INVALID_ARGUMENT): with the template's own message for raise_exception(msg), otherwise
// "chat template error at line L, column C: ..." (undefined value used as an object, bad operand types, ...).
std::string render(const Body& body, const std::unordered_map<std::string, Value>& variables);

}  // namespace llmatc::jinja
