#include "covermap/api/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace covermap::api {

TerminalProgress::TerminalProgress() : tty_(isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}

TerminalProgress::~TerminalProgress() {
    if (tty_ && last_percent_ >= 0) std::fputs("\n", stderr);
}

void TerminalProgress::operator()(std::string_view stage, double fraction) {
    if (!tty_) return;
    int percent = static_cast<int>(fraction * 100 + 0.5);
    if (stage == stage_ && percent == last_percent_) return;
    if (stage != stage_ && last_percent_ >= 0) std::fputs("\n", stderr);
    stage_ = std::string(stage);
    last_percent_ = percent;
    constexpr int width = 30;
    int filled = percent * width / 100;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "\r%-14s [%s%s] %3d%%  %5.1fs", stage_.c_str(), std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), percent, secs);
    std::fflush(stderr);
}

}  // namespace covermap::api
