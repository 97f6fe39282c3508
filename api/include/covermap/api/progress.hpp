#pragma once
/// \file A progress bar for long jobs, drawn on stderr only when it is a terminal.

#include <chrono>
#include <string>
#include <string_view>

namespace covermap::api {

/// Callable as a geo::Progress: (stage, fraction 0–1).
class TerminalProgress {
public:
    TerminalProgress();
    ~TerminalProgress();
    void operator()(std::string_view stage, double fraction);

private:
    bool tty_;
    std::string stage_;
    int last_percent_ = -1;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace covermap::api
