// core/tokenizer/jinja/value.h — the values a chat template computes with (Jinja/Python semantics).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <rapidjson/document.h>

namespace llmatc::jinja {

class Value;
using List = std::vector<Value>;
// Insertion-ordered, like a Python dict; templates only ever see string keys (JSON objects, dict literals).
using Dict = std::vector<std::pair<std::string, Value>>;

// A Jinja value. Lists and dicts are shared by reference, as in Python; a namespace() object is a dict whose
// attributes may be assigned with {% set ns.x = ... %}.
class Value {
public:
    struct Undefined {};
    struct None {};
    struct DictBox {
        Dict items;
        bool is_namespace = false;
    };

    Value() : data_(Undefined{}) {}
    static Value none() { return Value(None{}); }
    Value(bool b) : data_(b) {}
    Value(int64_t i) : data_(i) {}
    Value(int i) : data_(static_cast<int64_t>(i)) {}
    Value(double d) : data_(d) {}
    Value(std::string s) : data_(std::move(s)) {}
    Value(const char* s) : data_(std::string(s)) {}
    Value(List list) : data_(std::make_shared<List>(std::move(list))) {}
    Value(Dict dict, bool is_namespace = false)
        : data_(std::make_shared<DictBox>(DictBox{std::move(dict), is_namespace})) {}

    // JSON (the OpenAI messages array) to a value: objects become dicts, arrays lists.
    static Value from_json(const rapidjson::Value& json);

    bool is_undefined() const { return std::holds_alternative<Undefined>(data_); }
    bool is_none() const { return std::holds_alternative<None>(data_); }
    bool is_bool() const { return std::holds_alternative<bool>(data_); }
    bool is_int() const { return std::holds_alternative<int64_t>(data_); }
    bool is_float() const { return std::holds_alternative<double>(data_); }
    bool is_number() const { return is_int() || is_float(); }
    bool is_string() const { return std::holds_alternative<std::string>(data_); }
    bool is_list() const { return std::holds_alternative<std::shared_ptr<List>>(data_); }
    bool is_dict() const { return std::holds_alternative<std::shared_ptr<DictBox>>(data_); }
    bool is_namespace() const { return is_dict() && std::get<std::shared_ptr<DictBox>>(data_)->is_namespace; }

    bool as_bool() const { return std::get<bool>(data_); }
    int64_t as_int() const { return std::get<int64_t>(data_); }
    double as_double() const { return is_int() ? static_cast<double>(as_int()) : std::get<double>(data_); }
    const std::string& as_string() const { return std::get<std::string>(data_); }
    List& as_list() const { return *std::get<std::shared_ptr<List>>(data_); }
    Dict& as_dict() const { return std::get<std::shared_ptr<DictBox>>(data_)->items; }

    // The dict entry for `key`, or nullptr.
    const Value* find(const std::string& key) const;
    // Sets or adds a dict entry (namespace attributes).
    void set(const std::string& key, Value value) const;

    // Python's truthiness: empty/zero/none/undefined are false.
    bool truthy() const;
    // Python's name for the type, for error messages ("str", "int", "list", "dict", "NoneType", "undefined").
    const char* type_name() const;
    // str(value) as Jinja prints it: True/False/None, repr() inside lists and dicts, "" for undefined.
    std::string to_output() const;
    // Python repr(): quotes strings.
    std::string repr() const;
    // json.dumps(value, ensure_ascii=False, indent=indent) — indent < 0 means one line with ", " and ": ".
    std::string to_json(int indent = -1) const;

    // Python ==, across int/float/bool.
    bool equals(const Value& other) const;
    // Python <; throws std::invalid_argument for values that do not order.
    bool less_than(const Value& other) const;

private:
    explicit Value(None) : data_(None{}) {}
    std::variant<Undefined, None, bool, int64_t, double, std::string, std::shared_ptr<List>, std::shared_ptr<DictBox>>
        data_;
};

// Python float repr: shortest text that reads back the same, with ".0" on whole numbers.
std::string format_float(double d);

}  // namespace llmatc::jinja
