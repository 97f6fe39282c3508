#pragma once
// Number formats shared by the PDF and the workbook.

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

namespace covermap::report::detail {

/// "87.3%": one decimal, as the city's templates print rates.
inline std::string pct(double r) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", r * 100);
    return buf;
}

/// A change of a rate in percentage points: "+1.2", "−0.4", "0.0"; "—" without a before.
inline std::string points(std::optional<double> before, double now) {
    if (!before) return "—";
    double d = std::round((now - *before) * 1000) / 10;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.1f", d == 0 ? 0.0 : d);
    return d == 0 ? std::string("0.0") : std::string(buf);
}

/// A change of a count: "+12", "−3", "0"; "—" without a before.
inline std::string delta(std::optional<long long> before, long long now) {
    if (!before) return "—";
    long long d = now - *before;
    return d > 0 ? "+" + std::to_string(d) : std::to_string(d);
}

/// A relative target's factor: "2", "1.5".
inline std::string factor(double f) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", f);
    return buf;
}

}  // namespace covermap::report::detail
