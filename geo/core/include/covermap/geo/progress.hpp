#pragma once
/// \file How long jobs (demo, plan, export) report how far they are, for a terminal's progress line.

#include <functional>
#include <string_view>

namespace covermap::geo {

/// Reports a long job's stage and its fraction done (0–1).
using Progress = std::function<void(std::string_view stage, double fraction)>;

}  // namespace covermap::geo
