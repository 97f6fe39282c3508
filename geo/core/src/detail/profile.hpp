#pragma once
/// \file Stage times on stderr when COVERMAP_PROFILE is set: what the benchmarks and tuning
/// read, silent otherwise.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace covermap::geo::detail {

/// Prints "<what>: <stage> <ms> ms" per lap, the time since the previous lap (or since made).
class ProfileLaps {
public:
    explicit ProfileLaps(const char* what) : what_(what), on_(std::getenv("COVERMAP_PROFILE") != nullptr) {}

    bool on() const { return on_; }

    void lap(const std::string& stage) {
        auto now = std::chrono::steady_clock::now();
        if (on_)
            std::fprintf(stderr, "%s: %s %.0f ms (resident %ld MB)\n", what_, stage.c_str(),
                         std::chrono::duration<double, std::milli>(now - start_).count(), resident_mb());
        start_ = now;
    }

private:
    // The process's resident memory now (from /proc/self/statm), 0 where that is not there.
    static long resident_mb() {
        long pages = 0, resident = 0;
        if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
            if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
            std::fclose(f);
        }
        return resident * ::sysconf(_SC_PAGESIZE) / (1 << 20);
    }

    const char* what_;
    bool on_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace covermap::geo::detail
