// core/tokenizer/jinja/parser.cpp — recursive-descent parser for the Jinja subset chat templates use.
#include "tokenizer/jinja/parser.h"

#include <set>

#include "tokenizer/jinja/lexer.h"
#include "util/error.h"

namespace llmatc::jinja {

namespace {

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

    Body parse_all() {
        std::string closer;
        Body body = parse_body({}, closer);
        if (!closer.empty()) fail(peek(), "unexpected '{% " + closer + " %}'");
        return body;
    }

private:
    [[noreturn]] static void fail(const Token& at, const std::string& what) {
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "chat template syntax error at line " + std::to_string(at.line) +
                                                     ", column " + std::to_string(at.column) + ": " + what);
    }

    const Token& peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
    const Token& next() {
        const Token& t = tokens_[pos_];
        if (pos_ + 1 < tokens_.size()) ++pos_;
        return t;
    }
    bool at_op(std::string_view op, size_t ahead = 0) const {
        return peek(ahead).kind == TokenKind::Operator && peek(ahead).value == op;
    }
    bool at_name(std::string_view name, size_t ahead = 0) const {
        return peek(ahead).kind == TokenKind::Name && peek(ahead).value == name;
    }
    static std::string describe(const Token& t) {
        switch (t.kind) {
            case TokenKind::End: return "end of template";
            case TokenKind::BlockEnd: return "'%}'";
            case TokenKind::OutputEnd: return "'}}'";
            case TokenKind::Text: return "text";
            default: return "'" + t.value + "'";
        }
    }
    void expect_op(std::string_view op) {
        if (!at_op(op)) fail(peek(), "expected '" + std::string(op) + "', found " + describe(peek()));
        next();
    }
    std::string expect_name(const char* what) {
        if (peek().kind != TokenKind::Name) fail(peek(), std::string("expected ") + what + ", found " + describe(peek()));
        return next().value;
    }
    void expect_block_end() {
        if (peek().kind != TokenKind::BlockEnd) fail(peek(), "expected '%}', found " + describe(peek()));
        next();
    }

    static NodePtr make_node(Node::Kind kind, const Token& at) {
        auto n = std::make_unique<Node>();
        n->kind = kind;
        n->line = at.line;
        n->column = at.column;
        return n;
    }
    static ExprPtr make_expr(Expr::Kind kind, const Token& at) {
        auto e = std::make_unique<Expr>();
        e->kind = kind;
        e->line = at.line;
        e->column = at.column;
        return e;
    }

    // Parses nodes until a block tag named in `closers` (left unconsumed after its name; returned in `closer`).
    Body parse_body(const std::set<std::string>& closers, std::string& closer) {
        Body body;
        closer.clear();
        while (true) {
            const Token& t = peek();
            if (t.kind == TokenKind::End) return body;
            if (t.kind == TokenKind::Text) {
                auto n = make_node(Node::Kind::Text, t);
                n->text = next().value;
                body.push_back(std::move(n));
            } else if (t.kind == TokenKind::OutputBegin) {
                next();
                auto n = make_node(Node::Kind::Output, t);
                n->expr = parse_expression();
                if (peek().kind != TokenKind::OutputEnd) fail(peek(), "expected '}}', found " + describe(peek()));
                next();
                body.push_back(std::move(n));
            } else if (t.kind == TokenKind::BlockBegin) {
                const Token& name = peek(1);
                if (name.kind == TokenKind::Name && closers.count(name.value)) {
                    next();
                    closer = next().value;
                    return body;
                }
                const Token& tag_open = next();
                body.push_back(parse_statement(tag_open));
            } else {
                fail(t, "unexpected " + describe(t));
            }
        }
    }

    Body parse_block_body(const std::set<std::string>& closers, std::string& closer, const Token& opener,
                          const std::string& what) {
        Body body = parse_body(closers, closer);
        if (closer.empty()) fail(opener, "'{% " + what + " %}' is never closed");
        return body;
    }

    // `t` is the tag's "{%", which errors about the whole block point at.
    NodePtr parse_statement(const Token& t) {
        if (peek().kind != TokenKind::Name) fail(peek(), "expected a tag name, found " + describe(peek()));
        const Token& name = peek();
        const std::string tag = next().value;
        if (tag == "if") return parse_if(t);
        if (tag == "for") return parse_for(t);
        if (tag == "set") return parse_set(t);
        if (tag == "break" || tag == "continue") {
            auto n = make_node(tag == "break" ? Node::Kind::Break : Node::Kind::Continue, t);
            if (loop_depth_ == 0) fail(t, "'" + tag + "' outside a for loop");
            expect_block_end();
            return n;
        }
        if (tag == "generation") {
            expect_block_end();
            auto n = make_node(Node::Kind::Passthrough, t);
            std::string closer;
            n->body = parse_block_body({"endgeneration"}, closer, t, "generation");
            expect_block_end();
            return n;
        }
        fail(name, "unknown or unsupported tag '" + tag + "'");
    }

    NodePtr parse_if(const Token& opener) {
        auto n = make_node(Node::Kind::If, opener);
        n->conditions.push_back(parse_expression());
        expect_block_end();
        std::string closer;
        n->bodies.push_back(parse_block_body({"elif", "else", "endif"}, closer, opener, "if"));
        while (closer == "elif") {
            n->conditions.push_back(parse_expression());
            expect_block_end();
            n->bodies.push_back(parse_block_body({"elif", "else", "endif"}, closer, opener, "if"));
        }
        if (closer == "else") {
            expect_block_end();
            n->else_body = parse_block_body({"endif"}, closer, opener, "if");
        }
        expect_block_end();
        return n;
    }

    NodePtr parse_for(const Token& opener) {
        auto n = make_node(Node::Kind::For, opener);
        const bool parenthesised = at_op("(");
        if (parenthesised) next();
        n->targets.push_back(expect_name("a loop variable"));
        while (at_op(",")) {
            next();
            n->targets.push_back(expect_name("a loop variable"));
        }
        if (parenthesised) expect_op(")");
        if (!at_name("in")) fail(peek(), "expected 'in', found " + describe(peek()));
        next();
        n->expr = parse_or();  // no conditional expression here: a trailing 'if' filters the loop
        if (at_name("if")) {
            next();
            n->filter = parse_expression();
        }
        if (at_name("recursive")) fail(peek(), "recursive loops are not supported");
        expect_block_end();
        ++loop_depth_;
        std::string closer;
        n->body = parse_block_body({"else", "endfor"}, closer, opener, "for");
        --loop_depth_;
        if (closer == "else") {
            expect_block_end();
            n->else_body = parse_block_body({"endfor"}, closer, opener, "for");
        }
        expect_block_end();
        return n;
    }

    NodePtr parse_set(const Token& opener) {
        auto n = make_node(Node::Kind::Set, opener);
        std::string first = expect_name("a variable name");
        if (at_op(".")) {
            next();
            n->target_object = first;
            n->targets.push_back(expect_name("an attribute name"));
        } else {
            n->targets.push_back(first);
            while (at_op(",")) {
                next();
                n->targets.push_back(expect_name("a variable name"));
            }
        }
        if (!at_op("=")) {
            if (peek().kind == TokenKind::BlockEnd) fail(peek(), "block assignments ({% set x %}...{% endset %}) are not supported");
            fail(peek(), "expected '=', found " + describe(peek()));
        }
        next();
        n->expr = parse_expression();
        if (at_op(",")) {  // {% set a, b = 1, 2 %}
            auto list = make_expr(Expr::Kind::ListLit, peek());
            list->items.push_back(std::move(n->expr));
            while (at_op(",")) {
                next();
                list->items.push_back(parse_expression());
            }
            n->expr = std::move(list);
        }
        expect_block_end();
        return n;
    }

    // ---- expressions, lowest precedence first (as Jinja's parser orders them) ----

    ExprPtr parse_expression() {
        ExprPtr value = parse_or();
        if (!at_name("if")) return value;
        const Token& t = next();
        auto cond = make_expr(Expr::Kind::Conditional, t);
        cond->items.push_back(parse_or());
        cond->items.push_back(std::move(value));
        if (at_name("else")) {
            next();
            cond->items.push_back(parse_expression());
        } else {
            cond->items.push_back(nullptr);
        }
        return cond;
    }

    ExprPtr binary(const Token& at, std::string op, ExprPtr left, ExprPtr right) {
        auto e = make_expr(Expr::Kind::Binary, at);
        e->name = std::move(op);
        e->items.push_back(std::move(left));
        e->items.push_back(std::move(right));
        return e;
    }

    ExprPtr parse_or() {
        ExprPtr left = parse_and();
        while (at_name("or")) {
            const Token& t = next();
            left = binary(t, "or", std::move(left), parse_and());
        }
        return left;
    }

    ExprPtr parse_and() {
        ExprPtr left = parse_not();
        while (at_name("and")) {
            const Token& t = next();
            left = binary(t, "and", std::move(left), parse_not());
        }
        return left;
    }

    ExprPtr parse_not() {
        if (at_name("not")) {
            const Token& t = next();
            auto e = make_expr(Expr::Kind::Unary, t);
            e->name = "not";
            e->items.push_back(parse_not());
            return e;
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        ExprPtr left = parse_math1();
        while (true) {
            const Token& t = peek();
            std::string op;
            if (t.kind == TokenKind::Operator &&
                (t.value == "==" || t.value == "!=" || t.value == "<" || t.value == "<=" || t.value == ">" ||
                 t.value == ">=")) {
                op = next().value;
            } else if (at_name("in")) {
                next();
                op = "in";
            } else if (at_name("not") && at_name("in", 1)) {
                next();
                next();
                op = "not in";
            } else {
                return left;
            }
            left = binary(t, op, std::move(left), parse_math1());
        }
    }

    ExprPtr parse_math1() {
        ExprPtr left = parse_concat();
        while (at_op("+") || at_op("-")) {
            const Token& t = next();
            left = binary(t, t.value, std::move(left), parse_concat());
        }
        return left;
    }

    ExprPtr parse_concat() {
        ExprPtr left = parse_math2();
        while (at_op("~")) {
            const Token& t = next();
            left = binary(t, "~", std::move(left), parse_math2());
        }
        return left;
    }

    ExprPtr parse_math2() {
        ExprPtr left = parse_pow();
        while (at_op("*") || at_op("/") || at_op("//") || at_op("%")) {
            const Token& t = next();
            left = binary(t, t.value, std::move(left), parse_pow());
        }
        return left;
    }

    ExprPtr parse_pow() {
        ExprPtr left = parse_unary(true);
        while (at_op("**")) {
            const Token& t = next();
            left = binary(t, "**", std::move(left), parse_unary(true));
        }
        return left;
    }

    ExprPtr parse_unary(bool with_filter) {
        ExprPtr node;
        if (at_op("-") || at_op("+")) {
            const Token& t = next();
            node = make_expr(Expr::Kind::Unary, t);
            node->name = t.value;
            node->items.push_back(parse_unary(false));
        } else {
            node = parse_postfix(parse_primary());
        }
        return with_filter ? parse_filter_expr(std::move(node)) : std::move(node);
    }

    ExprPtr parse_primary() {
        const Token& t = peek();
        switch (t.kind) {
            case TokenKind::Name: {
                next();
                auto e = make_expr(Expr::Kind::Literal, t);
                if (t.value == "true" || t.value == "True") e->value = Value(true);
                else if (t.value == "false" || t.value == "False") e->value = Value(false);
                else if (t.value == "none" || t.value == "None") e->value = Value::none();
                else {
                    e->kind = Expr::Kind::Name;
                    e->name = t.value;
                }
                return e;
            }
            case TokenKind::String: {
                std::string s = next().value;
                while (peek().kind == TokenKind::String) s += next().value;  // adjacent literals concatenate
                auto e = make_expr(Expr::Kind::Literal, t);
                e->value = Value(std::move(s));
                return e;
            }
            case TokenKind::Integer: {
                next();
                auto e = make_expr(Expr::Kind::Literal, t);
                try {
                    e->value = Value(static_cast<int64_t>(std::stoll(t.value)));
                } catch (const std::exception&) {
                    fail(t, "integer literal " + t.value + " is out of range");
                }
                return e;
            }
            case TokenKind::Float: {
                next();
                auto e = make_expr(Expr::Kind::Literal, t);
                e->value = Value(std::stod(t.value));
                return e;
            }
            case TokenKind::Operator:
                if (t.value == "(") {
                    next();
                    if (at_op(")")) {
                        next();
                        auto e = make_expr(Expr::Kind::ListLit, t);
                        return e;
                    }
                    ExprPtr inner = parse_expression();
                    if (at_op(",")) {  // a tuple, which we treat as a list
                        auto list = make_expr(Expr::Kind::ListLit, t);
                        list->items.push_back(std::move(inner));
                        while (at_op(",")) {
                            next();
                            if (at_op(")")) break;
                            list->items.push_back(parse_expression());
                        }
                        inner = std::move(list);
                    }
                    expect_op(")");
                    return inner;
                }
                if (t.value == "[") {
                    next();
                    auto list = make_expr(Expr::Kind::ListLit, t);
                    while (!at_op("]")) {
                        list->items.push_back(parse_expression());
                        if (!at_op(",")) break;
                        next();
                    }
                    expect_op("]");
                    return list;
                }
                if (t.value == "{") {
                    next();
                    auto dict = make_expr(Expr::Kind::DictLit, t);
                    while (!at_op("}")) {
                        dict->keys.push_back(parse_expression());
                        expect_op(":");
                        dict->items.push_back(parse_expression());
                        if (!at_op(",")) break;
                        next();
                    }
                    expect_op("}");
                    return dict;
                }
                break;
            default: break;
        }
        fail(t, "expected an expression, found " + describe(t));
    }

    ExprPtr parse_postfix(ExprPtr node) {
        while (true) {
            const Token& t = peek();
            if (at_op(".")) {
                next();
                auto e = make_expr(Expr::Kind::Attribute, t);
                if (peek().kind == TokenKind::Integer) e->name = next().value;
                else e->name = expect_name("an attribute name");
                e->items.push_back(std::move(node));
                node = std::move(e);
            } else if (at_op("[")) {
                next();
                node = parse_subscript(t, std::move(node));
            } else if (at_op("(")) {
                node = parse_call(std::move(node));
            } else {
                return node;
            }
        }
    }

    ExprPtr parse_subscript(const Token& at, ExprPtr object) {
        ExprPtr parts[3];
        bool is_slice = false;
        if (!at_op(":")) parts[0] = parse_expression();
        if (at_op(":")) {
            is_slice = true;
            next();
            if (!at_op(":") && !at_op("]")) parts[1] = parse_expression();
            if (at_op(":")) {
                next();
                if (!at_op("]")) parts[2] = parse_expression();
            }
        }
        expect_op("]");
        auto e = make_expr(is_slice ? Expr::Kind::Slice : Expr::Kind::Subscript, at);
        e->items.push_back(std::move(object));
        if (!is_slice && !parts[0]) fail(at, "empty subscript");
        for (int i = 0; i < (is_slice ? 3 : 1); ++i) e->items.push_back(std::move(parts[i]));
        return e;
    }

    // Arguments in parentheses: positional then name=value; appended to e->items (after the callee) and e->kwargs.
    void parse_arguments(Expr& e) {
        expect_op("(");
        while (!at_op(")")) {
            if (peek().kind == TokenKind::Name && at_op("=", 1)) {
                std::string key = next().value;
                next();
                e.kwargs.emplace_back(std::move(key), parse_expression());
            } else {
                if (!e.kwargs.empty()) fail(peek(), "positional argument after a keyword argument");
                e.items.push_back(parse_expression());
            }
            if (!at_op(",")) break;
            next();
        }
        expect_op(")");
    }

    ExprPtr parse_call(ExprPtr callee) {
        auto e = make_expr(Expr::Kind::Call, peek());
        e->items.push_back(std::move(callee));
        parse_arguments(*e);
        return e;
    }

    ExprPtr parse_filter_expr(ExprPtr node) {
        while (true) {
            if (at_op("|")) {
                const Token& t = next();
                auto e = make_expr(Expr::Kind::Filter, t);
                e->name = expect_name("a filter name");
                e->items.push_back(std::move(node));
                if (at_op("(")) parse_arguments(*e);
                node = std::move(e);
            } else if (at_name("is")) {
                const Token& t = next();
                auto e = make_expr(Expr::Kind::Test, t);
                if (at_name("not")) {
                    next();
                    e->negated = true;
                }
                e->name = expect_name("a test name");
                e->items.push_back(std::move(node));
                if (at_op("(")) {
                    parse_arguments(*e);
                } else if (starts_test_argument()) {
                    e->items.push_back(parse_postfix(parse_primary()));
                }
                node = std::move(e);
            } else if (at_op("(")) {
                node = parse_call(std::move(node));
            } else {
                return node;
            }
        }
    }

    // `x is divisibleby 3`, `x is sameas none`: one bare argument, unless the next word is an operator keyword.
    bool starts_test_argument() const {
        const Token& t = peek();
        if (t.kind == TokenKind::String || t.kind == TokenKind::Integer || t.kind == TokenKind::Float) return true;
        if (t.kind == TokenKind::Operator) return t.value == "[" || t.value == "{";
        if (t.kind != TokenKind::Name) return false;
        static const std::set<std::string> kKeywords = {"and", "or", "not", "in", "is", "if", "else"};
        return !kKeywords.count(t.value);
    }

    std::vector<Token> tokens_;
    size_t pos_ = 0;
    int loop_depth_ = 0;
};

}  // namespace

Body parse_template(std::string_view source) { return Parser(tokenize_template(source)).parse_all(); }

}  // namespace llmatc::jinja
