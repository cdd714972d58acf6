// core/deploy/progress_bar.h — a download progress bar on stderr (redrawn in place on a terminal, one line per
// file otherwise, so logs of non-interactive runs stay readable).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace llmatc::deploy {

class ProgressBar {
public:
    // `total_bytes` 0 = unknown. `label` names what is downloading (a file name).
    ProgressBar(std::string label, uint64_t total_bytes, uint64_t already_done = 0);
    void add(uint64_t bytes);
    void finish();  // prints the final state and a newline; idempotent

private:
    void draw(bool final_line);
    std::string label_;
    uint64_t total_, done_;
    bool tty_, finished_ = false;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace llmatc::deploy
