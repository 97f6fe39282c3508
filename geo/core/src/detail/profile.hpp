#pragma once
/// \file Stage times on stderr when COVERMAP_PROFILE is set: what the benchmarks and tuning
/// read, silent otherwise.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace covermap::geo::detail {

/// Prints "<what>: <stage> <ms> ms" per lap, the time since the previous lap (or since made).
class ProfileLaps {
public:
    explicit ProfileLaps(const char* what) : what_(what), on_(std::getenv("COVERMAP_PROFILE") != nullptr) {}

    bool on() const { return on_; }

    void lap(const std::string& stage) {
        auto now = std::chrono::steady_clock::now();
        if (on_)
            std::fprintf(stderr, "%s: %s %.0f ms\n", what_, stage.c_str(),
                         std::chrono::duration<double, std::milli>(now - start_).count());
        start_ = now;
    }

private:
    const char* what_;
    bool on_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace covermap::geo::detail
