// core/tokenizer/jinja/ast.h — the syntax tree of a parsed template: expressions and statements.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace llmatc::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum class Kind {
        Literal,    // value
        Name,       // name
        ListLit,    // items
        DictLit,    // keys[i] -> items[i]
        Attribute,  // items[0].name
        Subscript,  // items[0][items[1]]
        Slice,      // items[0][items[1]:items[2]:items[3]] (null parts are omitted bounds)
        Call,       // items[0](items[1..], kwargs)
        Filter,     // items[0] | name(items[1..], kwargs)
        Test,       // items[0] is [not] name(items[1..])
        Unary,      // op items[0]: "not", "-", "+"
        Binary,     // items[0] op items[1]: arithmetic, comparison, and/or, in/not in
        Conditional // items[1] if items[0] else items[2] (items[2] may be null)
    };
    Kind kind;
    int line = 0;
    int column = 0;
    Value value;
    std::string name;  // name, attribute, filter, test, or operator
    bool negated = false;
    std::vector<ExprPtr> items;
    std::vector<ExprPtr> keys;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
    enum class Kind {
        Text,      // text
        Output,    // {{ expr }}
        If,        // conditions[i] -> bodies[i]; else_body
        For,       // for targets in expr [if filter]: body; else_body
        Set,       // set targets[0] (or target_object.targets[0]) = expr
        Break,
        Continue,
        Passthrough  // {% generation %} ... {% endgeneration %}: renders its body
    };
    Kind kind;
    int line = 0;
    int column = 0;
    std::string text;
    ExprPtr expr;
    ExprPtr filter;
    std::vector<std::string> targets;
    std::string target_object;  // for {% set ns.attr = ... %}
    std::vector<ExprPtr> conditions;
    std::vector<Body> bodies;
    Body body;
    Body else_body;
};

}  // namespace llmatc::jinja
