// core/deploy/progress_bar.cpp — text progress bar with rate.
#include "deploy/progress_bar.h"

#include <unistd.h>

#include <cstdio>

namespace llmatc::deploy {

ProgressBar::ProgressBar(std::string label, uint64_t total_bytes, uint64_t already_done)
    : label_(std::move(label)), total_(total_bytes), done_(already_done), tty_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {
    if (tty_) draw(false);
}

void ProgressBar::add(uint64_t bytes) {
    done_ += bytes;
    const auto now = std::chrono::steady_clock::now();
    if (tty_ && now - last_draw_ > std::chrono::milliseconds(100)) {
        last_draw_ = now;
        draw(false);
    }
}

void ProgressBar::finish() {
    if (finished_) return;
    finished_ = true;
    draw(true);
}

void ProgressBar::draw(bool final_line) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double mb = static_cast<double>(done_) / 1e6;
    const double rate = seconds > 0 ? mb / seconds : 0;
    char line[256];
    if (total_ > 0) {
        const double frac = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
        char bar[31];
        const int filled = static_cast<int>(frac * 30);
        for (int i = 0; i < 30; ++i) bar[i] = i < filled ? '#' : '.';
        bar[30] = 0;
        std::snprintf(line, sizeof line, "[%s] %3d%% %8.1f/%.1f MB %6.1f MB/s  %s", bar, static_cast<int>(frac * 100), mb,
                      static_cast<double>(total_) / 1e6, rate, label_.c_str());
    } else {
        std::snprintf(line, sizeof line, "%8.1f MB %6.1f MB/s  %s", mb, rate, label_.c_str());
    }
    if (tty_) std::fprintf(stderr, "\r\033[K%s%s", line, final_line ? "\n" : "");
    else if (final_line) std::fprintf(stderr, "%s\n", line);
    std::fflush(stderr);
}

}  // namespace llmatc::deploy
