// core/tokenizer/jinja/evaluator.cpp — walks the template tree: scopes, loops, operators, calls.
#include "tokenizer/jinja/evaluator.h"

#include <cmath>
#include <stdexcept>

#include "tokenizer/jinja/builtins.h"
#include "util/error.h"

namespace llmatc::jinja {

namespace {

// raise_exception(msg): reported with the template's message as it stands.
struct TemplateRaised {
    std::string message;
};

// A runtime error already carrying its template position.
struct PositionedError {
    std::string message;
};

enum class Flow { Normal, Break, Continue };

// A prompt is at most a model context of text; a template producing more than this is looping out of control.
constexpr size_t kMaxOutputBytes = 64u << 20;

class Renderer {
public:
    explicit Renderer(const std::unordered_map<std::string, Value>& variables) : globals_(variables) {
        scopes_.emplace_back();
    }

    std::string run(const Body& body) {
        exec_body(body);
        return std::move(out_);
    }

private:
    [[noreturn]] static void fail_at(int line, int column, const std::string& what) {
        throw PositionedError{"chat template error at line " + std::to_string(line) + ", column " +
                              std::to_string(column) + ": " + what};
    }

    const Value* lookup(const std::string& name) const {
        for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
            auto found = it->find(name);
            if (found != it->end()) return &found->second;
        }
        auto g = globals_.find(name);
        return g == globals_.end() ? nullptr : &g->second;
    }

    Flow exec_body(const Body& body) {
        for (const auto& node : body) {
            const Flow flow = exec(*node);
            if (flow != Flow::Normal) return flow;
        }
        return Flow::Normal;
    }

    Flow exec(const Node& n) {
        if (out_.size() > kMaxOutputBytes)
            fail_at(n.line, n.column, "the rendered prompt exceeds " + std::to_string(kMaxOutputBytes >> 20) + " MiB");
        switch (n.kind) {
            case Node::Kind::Text: out_ += n.text; return Flow::Normal;
            case Node::Kind::Output: out_ += eval(*n.expr).to_output(); return Flow::Normal;
            case Node::Kind::If:
                for (size_t i = 0; i < n.conditions.size(); ++i)
                    if (eval(*n.conditions[i]).truthy()) return exec_body(n.bodies[i]);
                return exec_body(n.else_body);
            case Node::Kind::For: return exec_for(n);
            case Node::Kind::Set: exec_set(n); return Flow::Normal;
            case Node::Kind::Break: return Flow::Break;
            case Node::Kind::Continue: return Flow::Continue;
            case Node::Kind::Passthrough: return exec_body(n.body);
        }
        return Flow::Normal;
    }

    void bind(std::unordered_map<std::string, Value>& scope, const std::vector<std::string>& targets,
              const Value& value, int line, int column) {
        if (targets.size() == 1) {
            scope[targets[0]] = value;
            return;
        }
        if (!value.is_list() || value.as_list().size() != targets.size())
            fail_at(line, column, "cannot unpack " + std::string(value.type_name()) + " into " +
                                      std::to_string(targets.size()) + " names");
        for (size_t i = 0; i < targets.size(); ++i) scope[targets[i]] = value.as_list()[i];
    }

    Flow exec_for(const Node& n) {
        const Value iterable = eval(*n.expr);
        List items;
        try {
            items = iterate(iterable);
        } catch (const std::runtime_error& e) {
            fail_at(n.line, n.column, e.what());
        }
        scopes_.emplace_back();
        if (n.filter) {  // `for x in xs if cond`: the loop (and loop.length) sees only the items that pass
            List kept;
            for (const auto& item : items) {
                bind(scopes_.back(), n.targets, item, n.line, n.column);
                if (eval(*n.filter).truthy()) kept.push_back(item);
            }
            items = std::move(kept);
        }
        const int64_t length = static_cast<int64_t>(items.size());
        for (int64_t i = 0; i < length; ++i) {
            auto& scope = scopes_.back();
            bind(scope, n.targets, items[static_cast<size_t>(i)], n.line, n.column);
            Dict loop{{"index", Value(i + 1)},
                      {"index0", Value(i)},
                      {"revindex", Value(length - i)},
                      {"revindex0", Value(length - i - 1)},
                      {"first", Value(i == 0)},
                      {"last", Value(i == length - 1)},
                      {"length", Value(length)},
                      {"previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value()},
                      {"nextitem", i + 1 < length ? items[static_cast<size_t>(i + 1)] : Value()}};
            scope["loop"] = Value(std::move(loop));
            if (exec_body(n.body) == Flow::Break) break;
        }
        scopes_.pop_back();
        if (items.empty()) return exec_body(n.else_body);
        return Flow::Normal;
    }

    void exec_set(const Node& n) {
        Value value = eval(*n.expr);
        if (!n.target_object.empty()) {
            const Value* object = lookup(n.target_object);
            if (!object || !object->is_namespace())
                fail_at(n.line, n.column, "can only set attributes of a namespace(), and '" + n.target_object +
                                              "' is not one");
            object->set(n.targets[0], std::move(value));
            return;
        }
        bind(scopes_.back(), n.targets, value, n.line, n.column);
    }

    std::string describe(const Expr& e) const {
        if (e.kind == Expr::Kind::Name) return "'" + e.name + "'";
        if (e.kind == Expr::Kind::Attribute) return describe(*e.items[0]) + "." + e.name;
        return "the value";
    }

    Value eval(const Expr& e) {
        try {
            return eval_unchecked(e);
        } catch (const std::runtime_error& err) {
            fail_at(e.line, e.column, err.what());
        } catch (const std::invalid_argument& err) {
            fail_at(e.line, e.column, err.what());
        }
    }

    Value eval_unchecked(const Expr& e) {
        switch (e.kind) {
            case Expr::Kind::Literal: return e.value;
            case Expr::Kind::Name: {
                const Value* v = lookup(e.name);
                return v ? *v : Value();
            }
            case Expr::Kind::ListLit: {
                List items;
                for (const auto& item : e.items) items.push_back(eval(*item));
                return Value(std::move(items));
            }
            case Expr::Kind::DictLit: {
                Value dict{Dict{}};
                for (size_t i = 0; i < e.keys.size(); ++i) {
                    const Value key = eval(*e.keys[i]);
                    if (!key.is_string()) fail_at(e.line, e.column, "dict keys must be strings");
                    dict.set(key.as_string(), eval(*e.items[i]));
                }
                return dict;
            }
            case Expr::Kind::Attribute: {
                const Value object = eval(*e.items[0]);
                if (object.is_undefined()) fail_at(e.line, e.column, describe(*e.items[0]) + " is undefined");
                if (object.is_dict()) {
                    const Value* v = object.find(e.name);
                    return v ? *v : Value();
                }
                return Value();
            }
            case Expr::Kind::Subscript: {
                const Value object = eval(*e.items[0]);
                if (object.is_undefined()) fail_at(e.line, e.column, describe(*e.items[0]) + " is undefined");
                return subscript(object, eval(*e.items[1]));
            }
            case Expr::Kind::Slice: {
                const Value object = eval(*e.items[0]);
                if (object.is_undefined()) fail_at(e.line, e.column, describe(*e.items[0]) + " is undefined");
                auto part = [&](size_t i) { return e.items[i] ? eval(*e.items[i]) : Value(); };
                return slice(object, part(1), part(2), part(3));
            }
            case Expr::Kind::Call: return eval_call(e);
            case Expr::Kind::Filter: {
                Args args;
                for (size_t i = 1; i < e.items.size(); ++i) args.push_back(eval(*e.items[i]));
                return apply_filter(e.name, eval(*e.items[0]), args, eval_kwargs(e));
            }
            case Expr::Kind::Test: {
                Args args;
                for (size_t i = 1; i < e.items.size(); ++i) args.push_back(eval(*e.items[i]));
                return Value(apply_test(e.name, eval(*e.items[0]), args) != e.negated);
            }
            case Expr::Kind::Unary: {
                const Value v = eval(*e.items[0]);
                if (e.name == "not") return Value(!v.truthy());
                if (v.is_int()) return Value(e.name == "-" ? -v.as_int() : v.as_int());
                if (v.is_float()) return Value(e.name == "-" ? -v.as_double() : v.as_double());
                fail_at(e.line, e.column, "bad operand type for unary " + e.name + ": '" + v.type_name() + "'");
            }
            case Expr::Kind::Binary: return eval_binary(e);
            case Expr::Kind::Conditional:
                if (eval(*e.items[0]).truthy()) return eval(*e.items[1]);
                return e.items[2] ? eval(*e.items[2]) : Value();
        }
        return Value();
    }

    KwArgs eval_kwargs(const Expr& e) {
        KwArgs out;
        for (const auto& [k, v] : e.kwargs) out.emplace_back(k, eval(*v));
        return out;
    }

    Value eval_call(const Expr& e) {
        const Expr& callee = *e.items[0];
        Args args;
        for (size_t i = 1; i < e.items.size(); ++i) args.push_back(eval(*e.items[i]));
        KwArgs kwargs = eval_kwargs(e);
        if (callee.kind == Expr::Kind::Attribute) {
            const Value object = eval(*callee.items[0]);
            if (object.is_undefined()) fail_at(e.line, e.column, describe(*callee.items[0]) + " is undefined");
            if (!has_method(object, callee.name))
                fail_at(e.line, e.column, std::string("'") + object.type_name() + "' object has no method '" +
                                              callee.name + "'");
            return call_method(object, callee.name, args, kwargs);
        }
        if (callee.kind == Expr::Kind::Name && !lookup(callee.name)) {
            if (callee.name == "raise_exception")
                throw TemplateRaised{args.empty() ? std::string("raise_exception() was called") : args[0].to_output()};
            if (callee.name == "namespace") {
                Value ns(Dict{}, true);
                for (auto& [k, v] : kwargs) ns.set(k, v);
                return ns;
            }
            if (callee.name == "range") return call_range(e, args);
        }
        fail_at(e.line, e.column, describe(callee) + " is not a function this renderer supports");
    }

    Value call_range(const Expr& e, const Args& args) {
        for (const auto& a : args)
            if (!a.is_int()) fail_at(e.line, e.column, "range() takes integers");
        if (args.empty() || args.size() > 3) fail_at(e.line, e.column, "range() takes 1 to 3 arguments");
        const int64_t start = args.size() > 1 ? args[0].as_int() : 0;
        const int64_t stop = args.size() > 1 ? args[1].as_int() : args[0].as_int();
        const int64_t step = args.size() > 2 ? args[2].as_int() : 1;
        if (step == 0) fail_at(e.line, e.column, "range() step must not be zero");
        if ((stop - start) / step > 100000) fail_at(e.line, e.column, "range() is too long");
        List out;
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.emplace_back(i);
        return Value(std::move(out));
    }

    Value eval_binary(const Expr& e) {
        const std::string& op = e.name;
        if (op == "and") {
            Value left = eval(*e.items[0]);
            return left.truthy() ? eval(*e.items[1]) : left;
        }
        if (op == "or") {
            Value left = eval(*e.items[0]);
            return left.truthy() ? left : eval(*e.items[1]);
        }
        const Value a = eval(*e.items[0]);
        const Value b = eval(*e.items[1]);
        if (op == "~") return Value(a.to_output() + b.to_output());
        if (op == "==") return Value(a.equals(b));
        if (op == "!=") return Value(!a.equals(b));
        if (op == "<") return Value(a.less_than(b));
        if (op == ">") return Value(b.less_than(a));
        if (op == "<=") return Value(!b.less_than(a));
        if (op == ">=") return Value(!a.less_than(b));
        if (op == "in" || op == "not in") {
            bool found = false;
            if (b.is_string()) {
                if (!a.is_string()) fail_at(e.line, e.column, "'in <string>' requires a string on the left");
                found = b.as_string().find(a.as_string()) != std::string::npos;
            } else if (b.is_dict()) {
                found = a.is_string() && b.find(a.as_string());
            } else if (b.is_list()) {
                for (const auto& item : b.as_list())
                    if (item.equals(a)) found = true;
            } else if (!b.is_undefined()) {
                fail_at(e.line, e.column, std::string("argument of type '") + b.type_name() + "' is not iterable");
            }
            return Value(found == (op == "in"));
        }
        return arithmetic(e, op, a, b);
    }

    Value arithmetic(const Expr& e, const std::string& op, const Value& a, const Value& b) {
        auto numeric = [](const Value& v) { return v.is_number() || v.is_bool(); };
        auto as_num = [](const Value& v) { return v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_double(); };
        auto as_int = [](const Value& v) { return v.is_bool() ? (v.as_bool() ? 1 : 0) : v.as_int(); };
        if (op == "+") {
            if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
            if (a.is_list() && b.is_list()) {
                List out = a.as_list();
                out.insert(out.end(), b.as_list().begin(), b.as_list().end());
                return Value(std::move(out));
            }
        }
        if (op == "*" && (a.is_string() || a.is_list() || b.is_string() || b.is_list())) {
            const Value& seq = (a.is_string() || a.is_list()) ? a : b;
            const Value& count = (a.is_string() || a.is_list()) ? b : a;
            if (count.is_int() || count.is_bool()) {
                const int64_t n = as_int(count);
                if (n * static_cast<int64_t>(seq.is_string() ? seq.as_string().size() : seq.as_list().size()) > 10'000'000)
                    fail_at(e.line, e.column, "repetition result is too large");
                if (seq.is_string()) {
                    std::string out;
                    for (int64_t i = 0; i < n; ++i) out += seq.as_string();
                    return Value(out);
                }
                List out;
                for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.as_list().begin(), seq.as_list().end());
                return Value(std::move(out));
            }
        }
        if (!numeric(a) || !numeric(b))
            fail_at(e.line, e.column, "unsupported operand types for " + op + ": '" + a.type_name() + "' and '" +
                                          b.type_name() + "'");
        const bool ints = !a.is_float() && !b.is_float();
        if (op == "/") {
            if (as_num(b) == 0.0) fail_at(e.line, e.column, "division by zero");
            return Value(as_num(a) / as_num(b));
        }
        if (op == "**") {
            if (ints && as_int(b) >= 0) return Value(static_cast<int64_t>(std::llround(std::pow(as_num(a), as_num(b)))));
            return Value(std::pow(as_num(a), as_num(b)));
        }
        if (ints) {
            const int64_t x = as_int(a), y = as_int(b);
            if (op == "+") return Value(x + y);
            if (op == "-") return Value(x - y);
            if (op == "*") return Value(x * y);
            if (y == 0) fail_at(e.line, e.column, "integer division or modulo by zero");
            // Python floors: -7 // 2 == -4 and -7 % 2 == 1.
            int64_t q = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
            if (op == "//") return Value(q);
            return Value(x - q * y);
        }
        const double x = as_num(a), y = as_num(b);
        if (op == "+") return Value(x + y);
        if (op == "-") return Value(x - y);
        if (op == "*") return Value(x * y);
        if (y == 0.0) fail_at(e.line, e.column, "float division or modulo by zero");
        if (op == "//") return Value(std::floor(x / y));
        double m = std::fmod(x, y);
        if (m != 0.0 && ((m < 0) != (y < 0))) m += y;
        return Value(m);
    }

    const std::unordered_map<std::string, Value>& globals_;
    std::vector<std::unordered_map<std::string, Value>> scopes_;
    std::string out_;
};

}  // namespace

std::string render(const Body& body, const std::unordered_map<std::string, Value>& variables) {
    try {
        return Renderer(variables).run(body);
    } catch (const TemplateRaised& raised) {
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, raised.message);
    } catch (const PositionedError& err) {
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, err.message);
    }
}

}  // namespace llmatc::jinja
