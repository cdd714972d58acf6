// tests/core/engine/test_stop_matcher.cpp — stop strings across token boundaries, hold-back and min_tokens.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/stop_matcher.h"

using llmatc::engine::StopMatcher;

namespace {
// Feeds deltas; returns the concatenated final text and whether a stop matched.
std::pair<std::string, bool> feed(StopMatcher& m, const std::vector<std::string>& deltas) {
    std::string text;
    for (const auto& d : deltas) {
        auto r = m.push(d, true);
        text += r.text;
        if (r.stopped) return {text, true};
    }
    return {text + m.flush(), false};
}
}  // namespace

TEST_CASE("a stop string split over tokens is found and not included", "[stop_matcher]") {
    StopMatcher m({"END"}, false);
    auto [text, stopped] = feed(m, {"Hello E", "N", "D more"});
    CHECK(stopped);
    CHECK(text == "Hello ");
}

TEST_CASE("include_stop_str_in_output keeps the stop string", "[stop_matcher]") {
    StopMatcher m({"END"}, true);
    auto [text, stopped] = feed(m, {"Hello E", "ND tail"});
    CHECK(stopped);
    CHECK(text == "Hello END");
}

TEST_CASE("text that might begin a stop string is held back until decided", "[stop_matcher]") {
    StopMatcher m({"\n\nUser:"}, false);
    auto r = m.push("Answer.\n", true);
    CHECK(r.text == "Answer.");
    CHECK(m.held() == "\n");
    r = m.push("\nUs", true);
    CHECK(r.text.empty());
    CHECK(m.held() == "\n\nUs");
    r = m.push("ually", true);  // "\n\nUsually" is not the stop string: released
    CHECK_FALSE(r.stopped);
    CHECK(r.text == "\n\nUsually");
    CHECK(m.held().empty());
}

TEST_CASE("a false start releases the text, and a later match still stops", "[stop_matcher]") {
    StopMatcher m({"abc"}, false);
    auto [text, stopped] = feed(m, {"xa", "bx", "ab", "c!"});
    CHECK(stopped);
    CHECK(text == "xabx");
}

TEST_CASE("the earliest of several stop strings wins", "[stop_matcher]") {
    StopMatcher m({"world", "lo"}, false);
    auto [text, stopped] = feed(m, {"hello world"});
    CHECK(stopped);
    CHECK(text == "hel");
}

TEST_CASE("flush returns what was held back when generation ends otherwise", "[stop_matcher]") {
    StopMatcher m({"STOP"}, false);
    auto r = m.push("the ST", true);
    CHECK(r.text == "the ");
    CHECK(m.flush() == "ST");
}

TEST_CASE("before min_tokens nothing matches and nothing is held", "[stop_matcher]") {
    StopMatcher m({"x"}, false);
    auto r = m.push("axb", false);
    CHECK_FALSE(r.stopped);
    CHECK(r.text == "axb");
    r = m.push("cx", true);
    CHECK(r.stopped);
    CHECK(r.text == "c");
}

TEST_CASE("multi-byte UTF-8 stop strings are held whole and matched", "[stop_matcher]") {
    StopMatcher m({"\xE2\x80\x94" "end"}, false);  // "—end"
    auto r = m.push("a \xE2\x80\x94", true);
    CHECK(r.text == "a ");
    r = m.push("en", true);
    CHECK(r.text.empty());
    r = m.push("d", true);
    CHECK(r.stopped);
    CHECK(r.text.empty());
}

TEST_CASE("no stop strings: everything passes straight through", "[stop_matcher]") {
    StopMatcher m({}, false);
    auto r = m.push("anything", true);
    CHECK(r.text == "anything");
    CHECK_FALSE(r.stopped);
}
