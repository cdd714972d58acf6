// core/engine/stop_matcher.h — finds stop strings in a stream of text deltas, holding back what might start one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmatc::engine {

// Watches the text a sequence generates for any of its stop strings, across token boundaries. Text that could
// be the beginning of a stop string is held back until it is known not to be; text already returned is final.
// One per sequence; not thread-safe.
class StopMatcher {
public:
    StopMatcher(std::vector<std::string> stops, bool include_stop_in_output);

    struct Result {
        std::string text;   // final text to send now
        bool stopped = false;
    };

    // Adds generated text. When `may_stop` is false (min_tokens not reached yet) nothing matches and nothing is
    // held back. On a match, `text` ends where the earliest stop string begins (or ends, when it is to be kept)
    // and `stopped` is set; later pushes are not expected.
    Result push(std::string_view delta, bool may_stop);
    // Returns the held-back text when the sequence ends for another reason.
    std::string flush();

    const std::string& held() const { return held_; }

private:
    std::vector<std::string> stops_;
    bool include_stop_;
    std::string held_;
};

}  // namespace llmatc::engine
