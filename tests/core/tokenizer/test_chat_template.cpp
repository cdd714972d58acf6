// tests/core/tokenizer/test_chat_template.cpp — real chat templates, Jinja constructs, whitespace control, errors.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <rapidjson/document.h>

#include "tokenizer/chat_template.h"
#include "util/error.h"

using llmatc::Error;
using llmatc::render_chat_template;

namespace {

std::string read_template(const std::string& name) {
    std::ifstream in(std::string(LLMATC_TOKENIZER_TEMPLATES) + "/" + name, std::ios::binary);
    REQUIRE(in.good());
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

rapidjson::Document parse(const std::string& json) {
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

std::string render(const std::string& tmpl, const std::string& messages_json, bool add_generation_prompt = true) {
    auto messages = parse(messages_json);
    return render_chat_template(tmpl, messages, add_generation_prompt, "<s>", "</s>");
}

// Renders a template that does not look at messages.
std::string render_plain(const std::string& tmpl) { return render(tmpl, "[]", false); }

std::string error_of(const std::string& tmpl, const std::string& messages_json = "[]") {
    try {
        render(tmpl, messages_json);
    } catch (const Error& e) {
        CHECK(e.status() == LLMATC_ERR_INVALID_ARGUMENT);
        return e.what();
    }
    return "";
}

const char* const kConversation = R"([
  {"role": "system", "content": "You are terse."},
  {"role": "user", "content": "Hi there"},
  {"role": "assistant", "content": " Hello! "},
  {"role": "user", "content": "Name a colour."}
])";

}  // namespace

TEST_CASE("Llama-2 chat template (meta-llama/Llama-2-7b-chat-hf)") {
    const std::string tmpl = read_template("llama2_chat.jinja");
    CHECK(render(tmpl, kConversation) ==
          "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there [/INST] Hello! </s><s>[INST] Name a colour. [/INST]");
    CHECK(render(tmpl, R"([{"role": "user", "content": "Hi"}])") == "<s>[INST] Hi [/INST]");
    CHECK(error_of(tmpl, R"([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])") ==
          "Conversation roles must alternate user/assistant/user/assistant/...");
    CHECK(error_of(tmpl, R"([{"role": "assistant", "content": "a"}])") ==
          "Conversation roles must alternate user/assistant/user/assistant/...");
}

TEST_CASE("Vicuna v1.1 template (FastChat's conversation format)") {
    const std::string tmpl = read_template("vicuna_v1_1.jinja");
    CHECK(render(tmpl, R"([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
                           {"role": "user", "content": "Bye"}])") ==
          "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
          "detailed, and polite answers to the user's questions. USER: Hi ASSISTANT: Hello</s>USER: Bye ASSISTANT:");
    CHECK(render(tmpl, R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])", false) ==
          "Be brief. USER: Hi ");
    CHECK(error_of(tmpl, R"([{"role": "assistant", "content": "x"}])") ==
          "Vicuna conversations alternate user and assistant, starting with user");
}

TEST_CASE("Zephyr template relies on trim_blocks and lstrip_blocks") {
    const std::string tmpl = read_template("zephyr.jinja");
    CHECK(render(tmpl, R"([{"role": "system", "content": "S"}, {"role": "user", "content": "hi"}])") ==
          "<|system|>\nS</s>\n<|user|>\nhi</s>\n<|assistant|>\n");
    CHECK(render(tmpl, R"([{"role": "user", "content": "hi"}])", false) == "<|user|>\nhi</s>\n");
}

TEST_CASE("ChatML template; content given as text parts is joined") {
    const std::string tmpl = read_template("chatml.jinja");
    CHECK(render(tmpl, R"([{"role": "user", "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]}])") ==
          "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n");
    auto bad = parse(R"([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}])");
    CHECK_THROWS_WITH(render_chat_template(tmpl, bad, true, "<s>", "</s>"),
                      Catch::Contains("messages[0]") && Catch::Contains("image_url"));
    auto no_role = parse(R"([{"content": "x"}])");
    CHECK_THROWS_WITH(render_chat_template(tmpl, no_role, true, "<s>", "</s>"), Catch::Contains("'role'"));
}

TEST_CASE("expressions follow Python: arithmetic, slices, comparisons, printing") {
    CHECK(render_plain("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }}") ==
          "3 -4 2 3.5 1024 7");
    CHECK(render_plain("{{ 'hello'[1:3] }} {{ [1, 2, 3][::-1] }} {{ 'abc'[-1] }} {{ [1, 2, 3][1:] }}") ==
          "el [3, 2, 1] c [2, 3]");
    CHECK(render_plain("{{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ 'b' in 'abc' }} {{ 3 not in [1, 2] }} {{ none }}") ==
          "True True True True None");
    CHECK(render_plain("{{ {'a': 1, 'b': [true, none, 'x']} }} {{ 'it' 's' }} {{ \"q\\\"t\" }} {{ 'a\\tb\\u00e9' }}") ==
          "{'a': 1, 'b': [True, None, 'x']} its q\"t a\tb\u00e9");
    CHECK(render_plain("{{ 'a' ~ 1 ~ none }} {{ 0.1 + 0.2 }} {{ 1e-5 }} {{ 'x' if false }}|") == "a1None 0.30000000000000004 1e-05 |");
    CHECK(render_plain("{{ not true or false and true }} {{ 0 or 'z' }} {{ '' and 'y' }}|") == "False z |");
}

TEST_CASE("filters, tests and methods") {
    CHECK(render_plain("{{ '  x y  ' | trim }}|{{ 'abc' | length }}|{{ 'aBc' | upper }}{{ 'aBc' | lower }}") ==
          "x y|3|ABCabc");
    CHECK(render_plain("{{ [3, 4] | first }}{{ [3, 4] | last }}|{{ ['a', 'b'] | join(', ') }}|{{ undefined_x | default('d') }}") ==
          "34|a, b|d");
    CHECK(render_plain("{{ '' | default('e', true) }}|{{ 'hello world' | capitalize }}|{{ 'a-b' | replace('-', '+') }}") ==
          "e|Hello world|a+b");
    CHECK(render_plain("{{ {'k': [1, 'é'], 'n': none} | tojson }}|{{ [1] | tojson(indent=2) }}") ==
          "{\"k\": [1, \"é\"], \"n\": null}|[\n  1\n]");
    CHECK(render_plain("{{ ' ab '.strip() }}|{{ 'xxab'.lstrip('x') }}|{{ 'ab  '.rstrip() }}|{{ 'abc'.startswith('ab') }}"
                       "{{ 'abc'.endswith(('x', 'c')) }}|{{ 'a b  c'.split() }}|{{ 'a,b'.split(',') }}") ==
          "ab|ab|ab|TrueTrue|['a', 'b', 'c']|['a', 'b']");
    CHECK(render_plain("{{ 'hello wORLD'.title() }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}") == "Hello World|ABab");
    CHECK(render_plain("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}{{ v }}{% endfor %}") == "a1b2");
    CHECK(render_plain("{{ x is defined }}{{ x is not defined }}{{ none is none }}{{ 'a' is string }}{{ 1 is not string }}"
                       "{{ 4 is divisibleby 2 }}{{ 3 is odd }}") ==
          "FalseTrueTrueTrueTrueTrueTrue");
}

TEST_CASE("for loops: loop variables, filters, else, break/continue, scoping, namespace") {
    CHECK(render_plain("{% for x in [5, 6, 7] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}"
                       "{{ loop.length }},{% endfor %}") ==
          "10TrueFalse3,21FalseFalse3,32FalseTrue3,");
    CHECK(render_plain("{% for x in range(10) if x is odd %}{{ x }}/{{ loop.length }} {% endfor %}") ==
          "1/5 3/5 5/5 7/5 9/5 ");
    CHECK(render_plain("{% for x in [] %}a{% else %}empty{% endfor %}") == "empty");
    CHECK(render_plain("{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}"
                       "{% endif %}{{ x }}{% endfor %}") == "13");
    CHECK(render_plain("{% set y = 1 %}{% for x in [1] %}{% set y = 2 %}{% endfor %}{{ y }}") == "1");
    CHECK(render_plain("{% set ns = namespace(y=1) %}{% for x in [1, 2] %}{% set ns.y = ns.y + x %}{% endfor %}{{ ns.y }}") ==
          "4");
}

TEST_CASE("whitespace control: -, trim_blocks, lstrip_blocks, comments, final newline") {
    CHECK(render_plain("a  {%- if true -%}  b  {%- endif %}  c") == "ab  c");
    CHECK(render_plain("  {% if true %}\nx\n  {% endif %}\ny") == "x\ny");
    CHECK(render_plain("{{ 'a' }}\n{{ 'b' -}}\n  c") == "a\nbc");
    CHECK(render_plain("a {# note #}\nb\n{#- gone #} c\n") == "a b c");
    CHECK(render_plain("x  {%+ if true %}y{% endif %}") == "x  y");
}

TEST_CASE("template errors name the line and column") {
    CHECK(error_of("{% if x %}open") == "chat template syntax error at line 1, column 1: '{% if %}' is never closed");
    CHECK_THAT(error_of("ok\n\n  {{ 1 + }}"), Catch::StartsWith("chat template syntax error at line 3, column 10"));
    CHECK_THAT(error_of("{{ 'abc }}"), Catch::Contains("string literal is never closed"));
    CHECK_THAT(error_of("{% macro m() %}{% endmacro %}"), Catch::Contains("unknown or unsupported tag 'macro'"));
    CHECK_THAT(error_of("line one\n{{ x | frobnicate }}"),
               Catch::StartsWith("chat template error at line 2") && Catch::Contains("unknown filter 'frobnicate'"));
    CHECK_THAT(error_of("{{ missing.attr }}"), Catch::Contains("'missing' is undefined"));
    CHECK_THAT(error_of("{{ 'a' + 1 }}"), Catch::Contains("unsupported operand types for +: 'str' and 'int'"));
    CHECK_THAT(error_of("{{ 1 // 0 }}"), Catch::Contains("division"));
    CHECK_THAT(error_of("{% break %}"), Catch::Contains("outside a for loop"));
    CHECK(error_of("{{ raise_exception('custom ' ~ 42) }}") == "custom 42");
}

TEST_CASE("a runaway template fails instead of eating memory") {
    CHECK_THAT(error_of("{% for a in range(100000) %}{% for b in range(100000) %}{{ 'xxxxxxxxxxxxxxxx' }}"
                        "{% endfor %}{% endfor %}"),
               Catch::Contains("exceeds 64 MiB"));
}
