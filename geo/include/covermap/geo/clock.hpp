#pragma once
/// \file The current time as ISO 8601 text (audit rows, tokens, export READMEs, OGC timestamps).

#include <chrono>
#include <ctime>
#include <string>

namespace covermap::geo {

/// Now, in UTC, to the second: "2026-11-23T20:38:00Z".
inline std::string iso8601_utc_now() {
    auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace covermap::geo
