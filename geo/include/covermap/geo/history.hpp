#pragma once
/// \file Coverage history (月报告制度): dated snapshots of every area's coverage, and targets
/// (目标) the rates are measured against. Plain values; the store keeps them (store.hpp).

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "covermap/geo/coverage.hpp"
#include "covermap/geo/model.hpp"

namespace covermap::geo {

/// Which organizations a figure counts: all, one kind, above-scale enterprises (规模以上),
/// or organizations with 50 or more employees.
enum class Scope { all, enterprise, social, above_scale, employees50 };
/// A rate that can be reported and targeted.
enum class Metric { org_coverage, standalone_rate, work_coverage, instructor_coverage, member_rate };

std::string_view to_string(Scope s);
std::string_view to_string(Metric m);
std::optional<Scope> parse_scope(std::string_view s);
std::optional<Metric> parse_metric(std::string_view s);
/// Chinese names for reports: "组织覆盖率", "规模以上企业".
std::string_view chinese_name(Scope s);
std::string_view chinese_name(Metric m);
extern const std::vector<Scope> kScopes;
extern const std::vector<Metric> kMetrics;

/// True when organization o is counted by scope s.
bool in_scope(const Organization& o, Scope s);

/// One area's (or the whole data set's) figures on one date, for one scope.
struct HistoryRow {
    std::string date;   ///< YYYY-MM-DD
    std::string level;  ///< "total" for the whole data set, else a Level's name
    Scope scope = Scope::all;
    CoverageRow figures;         ///< code and name of the area ("total" / 合计 for the whole)
    long long with_members = 0;  ///< operating organizations with at least one party member
    long long branches_standalone = 0, branches_joint = 0, branches_affiliated = 0;  ///< distinct, by type
    long long instructors = 0;  ///< distinct instructors covering organizations here

    /// The metric's value, 0–1 (0 without operating organizations).
    double rate(Metric m) const;
    long long branches() const { return branches_standalone + branches_joint + branches_affiliated; }
};

/// Every row of one date: each area of every level and the total; every scope for the total,
/// districts, streets and parks, the "all" scope for communities and grid cells.
struct Snapshot {
    std::string date;
    std::vector<HistoryRow> rows;
    /// The row of (level, code, scope); level "total" with code "total" for the whole.
    const HistoryRow* find(std::string_view level, std::string_view code, Scope scope = Scope::all) const;
    /// Builds the index find uses (take_snapshot and Store::snapshot call it); without it find
    /// walks every row.
    void index();

private:
    std::unordered_map<std::string, std::size_t> index_;  // "level/code/scope" -> row
};

/// The figures of d today, dated date. Counting rules are compute_coverage's; the total
/// counts the organizations inside a district, as compute_coverage(d, district).total does.
Snapshot take_snapshot(const Dataset& d, const std::string& date);

/// One area's figures in d now, for one scope: organizations i with where[i] == area count
/// (where from locate_orgs; area −1: every organization with where[i] ≥ 0). Same rules as
/// take_snapshot.
HistoryRow figures_of(const Dataset& d, const std::vector<int>& where, int area, Scope scope);

/// A goal for a rate: absolute ("90 % by 2026-12-31") or relative to a baseline snapshot
/// ("double the rate of 2026-01-01 by 2026-12-31": factor 2, capped at 100 %).
struct Target {
    std::string id;  ///< made by the store: t-N
    Metric metric = Metric::org_coverage;
    Scope scope = Scope::all;
    std::string level;     ///< applies to every area of this level ("total" or empty: the whole)
    std::string area;      ///< or to this one area (code); wins over a level-wide target
    double value = 0;      ///< absolute: the rate 0–1; relative: the factor
    std::string baseline;  ///< relative only: the baseline snapshot's date
    std::string deadline;  ///< YYYY-MM-DD
    std::string note;

    bool relative() const { return !baseline.empty(); }
    /// True when it applies to the area (level, code); the whole is ("total", "total").
    bool applies_to(std::string_view level, std::string_view code) const;
};

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

/// A date "YYYY-MM-DD" checked (real calendar day); throws invalid_argument.
std::string checked_date(const std::string& date);

}  // namespace covermap::geo
