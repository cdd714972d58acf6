// core/tokenizer/jinja/value.cpp — conversions, printing and comparison of template values, as Python does them.
#include "tokenizer/jinja/value.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace llmatc::jinja {

namespace {

void append_json_string(std::string& out, const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

// Python's repr of a str: single quotes unless the text has a single quote and no double quote.
std::string python_string_repr(const std::string& s) {
    const bool use_double = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
    const char quote = use_double ? '"' : '\'';
    std::string out(1, quote);
    for (unsigned char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == static_cast<unsigned char>(quote)) out += std::string("\\") + quote;
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += quote;
    return out;
}

void to_json_into(const Value& v, int indent, int depth, std::string& out) {
    auto newline = [&](int d) {
        out += '\n';
        out.append(static_cast<size_t>(indent * d), ' ');
    };
    if (v.is_undefined() || v.is_none()) {
        out += "null";
    } else if (v.is_bool()) {
        out += v.as_bool() ? "true" : "false";
    } else if (v.is_int()) {
        out += std::to_string(v.as_int());
    } else if (v.is_float()) {
        const double d = v.as_double();
        out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : format_float(d);
    } else if (v.is_string()) {
        append_json_string(out, v.as_string());
    } else if (v.is_list()) {
        const auto& list = v.as_list();
        if (list.empty()) {
            out += "[]";
            return;
        }
        out += '[';
        for (size_t i = 0; i < list.size(); ++i) {
            if (i > 0) out += indent < 0 ? ", " : ",";
            if (indent >= 0) newline(depth + 1);
            to_json_into(list[i], indent, depth + 1, out);
        }
        if (indent >= 0) newline(depth);
        out += ']';
    } else {
        const auto& dict = v.as_dict();
        if (dict.empty()) {
            out += "{}";
            return;
        }
        out += '{';
        for (size_t i = 0; i < dict.size(); ++i) {
            if (i > 0) out += indent < 0 ? ", " : ",";
            if (indent >= 0) newline(depth + 1);
            append_json_string(out, dict[i].first);
            out += ": ";
            to_json_into(dict[i].second, indent, depth + 1, out);
        }
        if (indent >= 0) newline(depth);
        out += '}';
    }
}

}  // namespace

std::string format_float(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    char buf[40];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, d);
        if (std::strtod(buf, nullptr) == d) break;
    }
    std::string s(buf);
    // Python writes exponents with at least two digits ("1e-05") and whole numbers with ".0".
    const size_t e = s.find('e');
    if (e != std::string::npos) {
        std::string mantissa = s.substr(0, e);
        std::string exponent = s.substr(e + 1);
        const char sign = exponent[0] == '-' ? '-' : '+';
        if (exponent[0] == '-' || exponent[0] == '+') exponent.erase(0, 1);
        while (exponent.size() > 1 && exponent[0] == '0') exponent.erase(0, 1);
        if (exponent.size() < 2) exponent.insert(0, "0");
        return mantissa + "e" + sign + exponent;
    }
    if (s.find('.') == std::string::npos && s.find("inf") == std::string::npos) s += ".0";
    return s;
}

Value Value::from_json(const rapidjson::Value& json) {
    if (json.IsNull()) return none();
    if (json.IsBool()) return Value(json.GetBool());
    if (json.IsInt64()) return Value(static_cast<int64_t>(json.GetInt64()));
    if (json.IsNumber()) return Value(json.GetDouble());
    if (json.IsString()) return Value(std::string(json.GetString(), json.GetStringLength()));
    if (json.IsArray()) {
        List list;
        for (const auto& item : json.GetArray()) list.push_back(from_json(item));
        return Value(std::move(list));
    }
    Dict dict;
    for (const auto& m : json.GetObject())
        dict.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()), from_json(m.value));
    return Value(std::move(dict));
}

const Value* Value::find(const std::string& key) const {
    for (const auto& [k, v] : as_dict())
        if (k == key) return &v;
    return nullptr;
}

void Value::set(const std::string& key, Value value) const {
    for (auto& [k, v] : as_dict())
        if (k == key) {
            v = std::move(value);
            return;
        }
    as_dict().emplace_back(key, std::move(value));
}

bool Value::truthy() const {
    if (is_undefined() || is_none()) return false;
    if (is_bool()) return as_bool();
    if (is_int()) return as_int() != 0;
    if (is_float()) return as_double() != 0.0;
    if (is_string()) return !as_string().empty();
    if (is_list()) return !as_list().empty();
    return is_namespace() || !as_dict().empty();
}

const char* Value::type_name() const {
    if (is_undefined()) return "undefined";
    if (is_none()) return "NoneType";
    if (is_bool()) return "bool";
    if (is_int()) return "int";
    if (is_float()) return "float";
    if (is_string()) return "str";
    if (is_list()) return "list";
    return is_namespace() ? "Namespace" : "dict";
}

std::string Value::to_output() const {
    if (is_undefined()) return "";
    if (is_string()) return as_string();
    return repr();
}

std::string Value::repr() const {
    if (is_undefined()) return "";
    if (is_none()) return "None";
    if (is_bool()) return as_bool() ? "True" : "False";
    if (is_int()) return std::to_string(as_int());
    if (is_float()) return format_float(as_double());
    if (is_string()) return python_string_repr(as_string());
    std::string out;
    if (is_list()) {
        out = "[";
        const auto& list = as_list();
        for (size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + list[i].repr();
        return out + "]";
    }
    out = is_namespace() ? "<Namespace {" : "{";
    const auto& dict = as_dict();
    for (size_t i = 0; i < dict.size(); ++i)
        out += (i ? ", " : "") + python_string_repr(dict[i].first) + ": " + dict[i].second.repr();
    return out + (is_namespace() ? "}>" : "}");
}

std::string Value::to_json(int indent) const {
    std::string out;
    to_json_into(*this, indent, 0, out);
    return out;
}

bool Value::equals(const Value& other) const {
    const bool numeric = (is_number() || is_bool()) && (other.is_number() || other.is_bool());
    if (numeric) {
        auto num = [](const Value& v) { return v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_double(); };
        if (is_int() && other.is_int()) return as_int() == other.as_int();
        return num(*this) == num(other);
    }
    if (is_undefined() || other.is_undefined()) return is_undefined() && other.is_undefined();
    if (is_none() || other.is_none()) return is_none() && other.is_none();
    if (is_string() && other.is_string()) return as_string() == other.as_string();
    if (is_list() && other.is_list()) {
        const auto &a = as_list(), &b = other.as_list();
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i)
            if (!a[i].equals(b[i])) return false;
        return true;
    }
    if (is_dict() && other.is_dict()) {
        const auto &a = as_dict(), &b = other.as_dict();
        if (a.size() != b.size()) return false;
        for (const auto& [k, v] : a) {
            const Value* w = other.find(k);
            if (!w || !v.equals(*w)) return false;
        }
        return true;
    }
    return false;
}

bool Value::less_than(const Value& other) const {
    if ((is_number() || is_bool()) && (other.is_number() || other.is_bool())) {
        auto num = [](const Value& v) { return v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_double(); };
        if (is_int() && other.is_int()) return as_int() < other.as_int();
        return num(*this) < num(other);
    }
    if (is_string() && other.is_string()) return as_string() < other.as_string();
    if (is_list() && other.is_list()) {
        const auto &a = as_list(), &b = other.as_list();
        for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
            if (a[i].less_than(b[i])) return true;
            if (b[i].less_than(a[i])) return false;
        }
        return a.size() < b.size();
    }
    throw std::invalid_argument(std::string("'<' not supported between instances of '") + type_name() + "' and '" +
                                other.type_name() + "'");
}

}  // namespace llmatc::jinja
