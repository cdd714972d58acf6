// core/engine/stop_matcher.cpp — stop-string matching over streamed text with hold-back.
#include "engine/stop_matcher.h"

#include <algorithm>

namespace llmatc::engine {

StopMatcher::StopMatcher(std::vector<std::string> stops, bool include_stop_in_output)
    : stops_(std::move(stops)), include_stop_(include_stop_in_output) {
    stops_.erase(std::remove(stops_.begin(), stops_.end(), std::string()), stops_.end());
}

StopMatcher::Result StopMatcher::push(std::string_view delta, bool may_stop) {
    held_.append(delta);
    Result r;
    if (stops_.empty() || !may_stop) {
        r.text.swap(held_);
        return r;
    }
    // The earliest match wins; among matches at the same place, the longest.
    size_t best_pos = std::string::npos, best_len = 0;
    for (const std::string& s : stops_) {
        size_t pos = held_.find(s);
        if (pos == std::string::npos) continue;
        if (pos < best_pos || (pos == best_pos && s.size() > best_len)) {
            best_pos = pos;
            best_len = s.size();
        }
    }
    if (best_pos != std::string::npos) {
        r.text = held_.substr(0, include_stop_ ? best_pos + best_len : best_pos);
        r.stopped = true;
        held_.clear();
        return r;
    }
    // Hold back the longest tail of the text that is a proper prefix of some stop string. Such a tail starts
    // where a stop string starts, so the cut never splits a UTF-8 character.
    size_t hold = 0;
    for (const std::string& s : stops_) {
        for (size_t n = std::min(s.size() - 1, held_.size()); n > hold; --n) {
            if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
                hold = n;
                break;
            }
        }
    }
    r.text = held_.substr(0, held_.size() - hold);
    held_.erase(0, held_.size() - hold);
    return r;
}

std::string StopMatcher::flush() {
    std::string out;
    out.swap(held_);
    return out;
}

}  // namespace llmatc::engine
