#pragma once
/// \file Coverage history (月报告制度): dated snapshots of every area's coverage, and targets
/// (目标) the rates are measured against: snapshots taken from the data, targets resolved for an
/// area. The values themselves are in figures.hpp.

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "covermap/geo/figures.hpp"
#include "covermap/geo/model.hpp"

namespace covermap::geo {

/// The figures of d today, dated date. Counting rules are compute_coverage's; the total
/// counts the organizations inside a district, as compute_coverage(d, district).total does.
Snapshot take_snapshot(const Dataset& d, const std::string& date);

/// One area's figures in d now, for one scope: organizations i with where[i] == area count
/// (where from locate_orgs; area −1: every organization with where[i] ≥ 0). Same rules as
/// take_snapshot.
HistoryRow figures_of(const Dataset& d, const std::vector<int>& where, int area, Scope scope);

/// A target resolved for one area: the rate to reach, and the baseline's when relative.
struct TargetValue {
    const Target* target = nullptr;
    double goal = 0;  ///< 0–1
    std::optional<double> baseline_rate;
};

/// The most specific target for (metric, scope) at the area, resolved against history
/// (baseline rows found by date in snapshots); nullopt when none applies or a relative
/// target's baseline snapshot has no row for the area.
std::optional<TargetValue> target_for(const std::vector<Target>& targets, Metric metric, Scope scope,
                                      std::string_view level, std::string_view code,
                                      const std::vector<Snapshot>& baselines);

}  // namespace covermap::geo
