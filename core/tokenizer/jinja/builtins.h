// core/tokenizer/jinja/builtins.h — Jinja filters and tests, and Python str/dict methods, for chat templates.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace llmatc::jinja {

using Args = std::vector<Value>;
using KwArgs = std::vector<std::pair<std::string, Value>>;

// Each throws std::runtime_error with a message (no position) for an unknown name or bad arguments; the
// evaluator adds the template position.
Value apply_filter(const std::string& name, const Value& input, const Args& args, const KwArgs& kwargs);
bool apply_test(const std::string& name, const Value& input, const Args& args);
Value call_method(const Value& object, const std::string& name, const Args& args, const KwArgs& kwargs);
// What a for loop over `v` visits: list items, dict keys, string characters; nothing for undefined.
List iterate(const Value& v);
// Whether `object.name(...)` is a method call (rather than calling a dict entry).
bool has_method(const Value& object, const std::string& name);

// Strings as Python sees them: sequences of code points (UTF-8 here).
std::vector<std::string> split_code_points(const std::string& s);
// Python's obj[index] and obj[start:stop:step] for lists and strings; an index out of range gives undefined.
Value subscript(const Value& object, const Value& index);
Value slice(const Value& object, const Value& start, const Value& stop, const Value& step);

}  // namespace llmatc::jinja
