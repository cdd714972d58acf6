// core/tokenizer/jinja/builtins.cpp — the filters, tests and methods real chat templates call.
#include "tokenizer/jinja/builtins.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

namespace llmatc::jinja {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

const Value& arg(const Args& args, const KwArgs& kwargs, size_t index, const char* name, const Value& fallback) {
    for (const auto& [k, v] : kwargs)
        if (k == name) return v;
    return index < args.size() ? args[index] : fallback;
}

const std::string& need_string(const Value& v, const std::string& what) {
    if (!v.is_string()) fail(what + " needs a string, got " + v.type_name());
    return v.as_string();
}

bool is_space_char(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string strip(const std::string& s, const Value& chars, bool left, bool right) {
    auto strip_it = [&](char c) {
        if (chars.is_undefined() || chars.is_none()) return is_space_char(c);
        return chars.as_string().find(c) != std::string::npos;
    };
    if (!chars.is_undefined() && !chars.is_none() && !chars.is_string()) fail("strip() chars must be a string");
    size_t b = 0, e = s.size();
    if (left) while (b < e && strip_it(s[b])) ++b;
    if (right) while (e > b && strip_it(s[e - 1])) --e;
    return s.substr(b, e - b);
}

std::string ascii_upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}
std::string ascii_lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}
std::string capitalize(const std::string& s) {
    std::string out = ascii_lower(s);
    if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    return out;
}
// Whether a code point is a cased letter in Python's sense. Case *mapping* here is ASCII-only, but knowing which
// scripts have case at all keeps title() right for the uncased ones (CJK, kana, Arabic, emoji ...).
bool is_cased(const std::string& ch) {
    const auto b0 = static_cast<unsigned char>(ch[0]);
    if (ch.size() == 1) return std::isalpha(b0) != 0;
    if (ch.size() != 2) return false;
    const unsigned cp = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(ch[1]) & 0x3Fu);
    return (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) || (cp >= 0x370 && cp <= 0x3FF) ||
           (cp >= 0x400 && cp <= 0x4FF);
}

// Python str.title(): a letter after an uncased character is upper-cased, one after a cased letter lower-cased.
std::string title(const std::string& s) {
    std::string out;
    bool prev_cased = false;
    for (const auto& ch : split_code_points(s)) {
        const auto u = static_cast<unsigned char>(ch[0]);
        if (ch.size() == 1 && std::isalpha(u)) out += static_cast<char>(prev_cased ? std::tolower(u) : std::toupper(u));
        else out += ch;
        prev_cased = is_cased(ch);
    }
    return out;
}

std::string replace(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
    std::string out;
    if (from.empty()) {  // Python inserts `to` between every character
        const auto chars = split_code_points(s);
        int64_t done = 0;
        for (const auto& ch : chars) {
            if (count < 0 || done < count) { out += to; ++done; }
            out += ch;
        }
        if (count < 0 || done < count) out += to;
        return out;
    }
    size_t pos = 0;
    int64_t done = 0;
    while (count < 0 || done < count) {
        const size_t hit = s.find(from, pos);
        if (hit == std::string::npos) break;
        out.append(s, pos, hit - pos);
        out += to;
        pos = hit + from.size();
        ++done;
    }
    out.append(s, pos, std::string::npos);
    return out;
}

Value split(const std::string& s, const Value& sep, int64_t maxsplit) {
    List parts;
    if (sep.is_undefined() || sep.is_none()) {  // runs of whitespace, no empty parts
        size_t i = 0;
        while (i < s.size()) {
            while (i < s.size() && is_space_char(s[i])) ++i;
            if (i >= s.size()) break;
            if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
                size_t e = s.size();
                while (e > i && is_space_char(s[e - 1])) --e;
                parts.emplace_back(s.substr(i, e - i));
                break;
            }
            size_t j = i;
            while (j < s.size() && !is_space_char(s[j])) ++j;
            parts.emplace_back(s.substr(i, j - i));
            i = j;
        }
        return Value(std::move(parts));
    }
    const std::string& d = need_string(sep, "split()");
    if (d.empty()) fail("split(): empty separator");
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
        const size_t hit = s.find(d, pos);
        if (hit == std::string::npos) break;
        parts.emplace_back(s.substr(pos, hit - pos));
        pos = hit + d.size();
    }
    parts.emplace_back(s.substr(pos));
    return Value(std::move(parts));
}

bool affix_matches(const std::string& s, const Value& affix, bool prefix) {
    auto one = [&](const Value& a) {
        const std::string& t = need_string(a, prefix ? "startswith()" : "endswith()");
        if (t.size() > s.size()) return false;
        return prefix ? s.compare(0, t.size(), t) == 0 : s.compare(s.size() - t.size(), t.size(), t) == 0;
    };
    if (affix.is_list()) return std::any_of(affix.as_list().begin(), affix.as_list().end(), one);
    return one(affix);
}

int64_t need_int(const Value& v, const std::string& what) {
    if (v.is_int()) return v.as_int();
    if (v.is_bool()) return v.as_bool() ? 1 : 0;
    fail(what + " needs an integer, got " + v.type_name());
}

int64_t length_of(const Value& v) {
    if (v.is_string()) return static_cast<int64_t>(split_code_points(v.as_string()).size());
    if (v.is_list()) return static_cast<int64_t>(v.as_list().size());
    if (v.is_dict()) return static_cast<int64_t>(v.as_dict().size());
    if (v.is_undefined()) return 0;
    fail(std::string("object of type '") + v.type_name() + "' has no len()");
}

List items_of(const Value& v) {
    List out;
    for (const auto& [k, val] : v.as_dict()) out.emplace_back(List{Value(k), val});
    return out;
}

// What iterating a value yields (lists: items, dicts: keys, strings: characters).
List iterate_values(const Value& v) {
    if (v.is_list()) return v.as_list();
    if (v.is_undefined()) return {};
    List out;
    if (v.is_dict()) {
        for (const auto& [k, val] : v.as_dict()) out.emplace_back(k);
        return out;
    }
    if (v.is_string()) {
        for (auto& ch : split_code_points(v.as_string())) out.emplace_back(std::move(ch));
        return out;
    }
    fail(std::string("'") + v.type_name() + "' object is not iterable");
}

}  // namespace

List iterate(const Value& v) { return iterate_values(v); }

std::vector<std::string> split_code_points(const std::string& s) {
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        size_t len = 1;
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0xF0) len = 4;
        else if (c >= 0xE0) len = 3;
        else if (c >= 0xC0) len = 2;
        len = std::min(len, s.size() - i);
        out.push_back(s.substr(i, len));
        i += len;
    }
    return out;
}

Value subscript(const Value& object, const Value& index) {
    if (object.is_dict()) {
        if (!index.is_string()) return Value();
        const Value* v = object.find(index.as_string());
        return v ? *v : Value();
    }
    if (object.is_list() || object.is_string()) {
        if (!index.is_int()) fail(std::string("indices must be integers, not ") + index.type_name());
        const auto chars = object.is_string() ? split_code_points(object.as_string()) : std::vector<std::string>{};
        const int64_t n = object.is_list() ? static_cast<int64_t>(object.as_list().size()) : static_cast<int64_t>(chars.size());
        int64_t i = index.as_int();
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value();
        return object.is_list() ? object.as_list()[static_cast<size_t>(i)] : Value(chars[static_cast<size_t>(i)]);
    }
    if (object.is_undefined()) fail("cannot subscript an undefined value");
    fail(std::string("'") + object.type_name() + "' object is not subscriptable");
}

Value slice(const Value& object, const Value& start_v, const Value& stop_v, const Value& step_v) {
    if (!object.is_list() && !object.is_string())
        fail(std::string("'") + object.type_name() + "' object cannot be sliced");
    const auto chars = object.is_string() ? split_code_points(object.as_string()) : std::vector<std::string>{};
    const int64_t n = object.is_list() ? static_cast<int64_t>(object.as_list().size()) : static_cast<int64_t>(chars.size());
    auto bound = [](const Value& v) { return v.is_undefined() || v.is_none(); };
    const int64_t step = bound(step_v) ? 1 : need_int(step_v, "slice step");
    if (step == 0) fail("slice step cannot be zero");
    auto clamp = [&](const Value& v, int64_t dflt) {
        if (bound(v)) return dflt;
        int64_t i = need_int(v, "slice index");
        if (i < 0) i += n;
        if (step > 0) return std::clamp<int64_t>(i, 0, n);
        return std::clamp<int64_t>(i, -1, n - 1);
    };
    const int64_t start = clamp(start_v, step > 0 ? 0 : n - 1);
    const int64_t stop = clamp(stop_v, step > 0 ? n : -1);
    List items;
    std::string text;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (object.is_list()) items.push_back(object.as_list()[static_cast<size_t>(i)]);
        else text += chars[static_cast<size_t>(i)];
    }
    return object.is_list() ? Value(std::move(items)) : Value(std::move(text));
}

bool has_method(const Value& object, const std::string& name) {
    static const char* const kStringMethods[] = {"strip", "lstrip", "rstrip", "startswith", "endswith", "split",
                                                 "upper", "lower", "title", "capitalize", "replace"};
    static const char* const kDictMethods[] = {"items", "keys", "values", "get"};
    if (object.is_string())
        return std::any_of(std::begin(kStringMethods), std::end(kStringMethods), [&](const char* m) { return name == m; });
    if (object.is_dict() && !object.is_namespace())
        return std::any_of(std::begin(kDictMethods), std::end(kDictMethods), [&](const char* m) { return name == m; });
    return false;
}

Value call_method(const Value& object, const std::string& name, const Args& args, const KwArgs& kwargs) {
    static const Value kNone;
    if (object.is_string()) {
        const std::string& s = object.as_string();
        if (name == "strip") return Value(strip(s, arg(args, kwargs, 0, "chars", kNone), true, true));
        if (name == "lstrip") return Value(strip(s, arg(args, kwargs, 0, "chars", kNone), true, false));
        if (name == "rstrip") return Value(strip(s, arg(args, kwargs, 0, "chars", kNone), false, true));
        if (name == "startswith" || name == "endswith") {
            if (args.empty()) fail(name + "() needs an argument");
            return Value(affix_matches(s, args[0], name == "startswith"));
        }
        if (name == "split") {
            const Value& maxsplit = arg(args, kwargs, 1, "maxsplit", kNone);
            return split(s, arg(args, kwargs, 0, "sep", kNone), maxsplit.is_undefined() ? -1 : need_int(maxsplit, "split()"));
        }
        if (name == "upper") return Value(ascii_upper(s));
        if (name == "lower") return Value(ascii_lower(s));
        if (name == "title") return Value(title(s));
        if (name == "capitalize") return Value(capitalize(s));
        if (name == "replace") {
            if (args.size() < 2) fail("replace() needs two arguments");
            const Value& count = arg(args, kwargs, 2, "count", kNone);
            return Value(replace(s, need_string(args[0], "replace()"), need_string(args[1], "replace()"),
                                 count.is_undefined() ? -1 : need_int(count, "replace()")));
        }
    }
    if (object.is_dict() && !object.is_namespace()) {
        if (name == "items") return Value(items_of(object));
        if (name == "keys") return Value(iterate_values(object));
        if (name == "values") {
            List out;
            for (const auto& [k, v] : object.as_dict()) out.push_back(v);
            return Value(std::move(out));
        }
        if (name == "get") {
            if (args.empty()) fail("get() needs a key");
            const Value* v = args[0].is_string() ? object.find(args[0].as_string()) : nullptr;
            return v ? *v : (args.size() > 1 ? args[1] : Value::none());
        }
    }
    fail(std::string("'") + object.type_name() + "' object has no method '" + name + "'");
}

Value apply_filter(const std::string& name, const Value& input, const Args& args, const KwArgs& kwargs) {
    static const Value kUndefined;
    if (name == "trim") return Value(strip(need_string(input, "trim"), arg(args, kwargs, 0, "chars", kUndefined), true, true));
    if (name == "length" || name == "count") return Value(length_of(input));
    if (name == "upper") return Value(ascii_upper(input.to_output()));
    if (name == "lower") return Value(ascii_lower(input.to_output()));
    if (name == "capitalize") return Value(capitalize(input.to_output()));
    if (name == "title") return Value(title(input.to_output()));
    if (name == "string") return Value(input.to_output());
    if (name == "safe") return input;
    if (name == "list") return Value(iterate_values(input));
    if (name == "items") {
        if (input.is_undefined()) return Value(List{});
        if (!input.is_dict()) fail(std::string("items needs a dict, got ") + input.type_name());
        return Value(items_of(input));
    }
    if (name == "first" || name == "last") {
        const List items = iterate_values(input);
        if (items.empty()) return Value();
        return name == "first" ? items.front() : items.back();
    }
    if (name == "reverse") {
        if (input.is_string()) {
            auto chars = split_code_points(input.as_string());
            std::string out;
            for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
            return Value(out);
        }
        List items = iterate_values(input);
        std::reverse(items.begin(), items.end());
        return Value(std::move(items));
    }
    if (name == "join") {
        const Value& sep = arg(args, kwargs, 0, "d", Value(""));
        std::string out;
        bool first = true;
        for (const auto& item : iterate_values(input)) {
            if (!first) out += sep.to_output();
            out += item.to_output();
            first = false;
        }
        return Value(out);
    }
    if (name == "default" || name == "d") {
        const Value& fallback = arg(args, kwargs, 0, "default_value", Value(""));
        const bool boolean = arg(args, kwargs, 1, "boolean", Value(false)).truthy();
        if (input.is_undefined() || (boolean && !input.truthy())) return fallback;
        return input;
    }
    if (name == "tojson") {
        const Value& indent = arg(args, kwargs, 0, "indent", Value::none());
        return Value(input.to_json(indent.is_none() ? -1 : static_cast<int>(need_int(indent, "tojson indent"))));
    }
    if (name == "replace") {
        if (args.size() < 2) fail("replace needs two arguments");
        const Value& count = arg(args, kwargs, 2, "count", Value::none());
        return Value(replace(input.to_output(), need_string(args[0], "replace"), need_string(args[1], "replace"),
                             count.is_none() ? -1 : need_int(count, "replace")));
    }
    if (name == "int") {
        if (input.is_int()) return input;
        if (input.is_float()) return Value(static_cast<int64_t>(input.as_double()));
        if (input.is_string()) {
            try {
                size_t used = 0;
                const std::string t = strip(input.as_string(), Value(), true, true);
                const int64_t v = std::stoll(t, &used);
                if (used == t.size()) return Value(v);
            } catch (const std::exception&) {
            }
        }
        return arg(args, kwargs, 0, "default", Value(0));
    }
    if (name == "abs") {
        if (input.is_int()) return Value(input.as_int() < 0 ? -input.as_int() : input.as_int());
        if (input.is_float()) return Value(std::fabs(input.as_double()));
        fail(std::string("abs needs a number, got ") + input.type_name());
    }
    fail("unknown filter '" + name + "'");
}

bool apply_test(const std::string& name, const Value& input, const Args& args) {
    auto need_arg = [&]() -> const Value& {
        if (args.empty()) fail("test '" + name + "' needs an argument");
        return args[0];
    };
    if (name == "defined") return !input.is_undefined();
    if (name == "undefined") return input.is_undefined();
    if (name == "none") return input.is_none();
    if (name == "string") return input.is_string();
    if (name == "number") return input.is_number();
    if (name == "integer") return input.is_int();
    if (name == "float") return input.is_float();
    if (name == "boolean") return input.is_bool();
    if (name == "true") return input.is_bool() && input.as_bool();
    if (name == "false") return input.is_bool() && !input.as_bool();
    if (name == "mapping") return input.is_dict();
    if (name == "sequence") return input.is_list() || input.is_string() || input.is_dict();
    if (name == "iterable") return input.is_list() || input.is_string() || input.is_dict();
    if (name == "callable") return false;
    if (name == "odd" || name == "even") return (need_int(input, name) % 2 != 0) == (name == "odd");
    if (name == "divisibleby") {
        const int64_t d = need_int(need_arg(), "divisibleby");
        return d != 0 && need_int(input, "divisibleby") % d == 0;
    }
    if (name == "eq" || name == "equalto" || name == "sameas") return input.equals(need_arg());
    if (name == "ne") return !input.equals(need_arg());
    if (name == "lt" || name == "lessthan") return input.less_than(need_arg());
    if (name == "gt" || name == "greaterthan") return need_arg().less_than(input);
    if (name == "le") return !need_arg().less_than(input);
    if (name == "ge") return !input.less_than(need_arg());
    if (name == "lower") return input.is_string() && ascii_lower(input.as_string()) == input.as_string();
    if (name == "upper") return input.is_string() && ascii_upper(input.as_string()) == input.as_string();
    if (name == "in") {
        const Value& container = need_arg();
        if (container.is_string()) return input.is_string() && container.as_string().find(input.as_string()) != std::string::npos;
        for (const auto& item : iterate_values(container))
            if (item.equals(input)) return true;
        return false;
    }
    fail("unknown test '" + name + "'");
}

}  // namespace llmatc::jinja
