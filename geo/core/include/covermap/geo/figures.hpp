#pragma once
/// \file The figures covermap counts, keeps and reports, as plain values: an area's coverage
/// counts (CoverageRow), the scopes and metrics of the monthly report, dated history rows and
/// snapshots, and targets. The store keeps them; analysis computes them; io and report write them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "covermap/geo/model.hpp"

namespace covermap::geo {

/// Counts and rates for one area (or the total of a level).
struct CoverageRow {
    std::string code;
    std::string name;
    long long orgs = 0;                ///< every organization located in the area
    long long operating = 0;           ///< of which operating: the denominator of every rate
    long long org_covered = 0;         ///< operating with a branch of any type (组织覆盖)
    long long standalone = 0;          ///< operating with a standalone branch (单独组建)
    long long work_covered = 0;        ///< operating with a branch or an instructor (工作覆盖)
    long long instructor_covered = 0;  ///< operating with an instructor
    long long ledger_verified = 0;     ///< operating whose 五清 ledger a visit confirmed this quarter

    double org_coverage() const { return rate(org_covered); }
    double standalone_rate() const { return rate(standalone); }
    double work_coverage() const { return rate(work_covered); }
    double instructor_coverage() const { return rate(instructor_covered); }
    double ledger_verified_rate() const { return rate(ledger_verified); }

    /// Counts organization o; standalone: its branch is a standalone one (单独组建); verified:
    /// a visit confirmed its ledger this quarter. The one counting rule of every coverage
    /// figure (tables, history, reports).
    void count(const Organization& o, bool standalone, bool verified = false);

    /// What count() counts of o, as bits (0: nothing, o is not counted here): a cache that keeps
    /// each organization's signature updates its rows by one organization's change with add()
    /// (remove the old signature, add the new), by the same rule as count().
    static std::uint8_t signature(const Organization& o, bool standalone, bool verified);
    /// Adds (sign 1) or removes (sign −1) what a signature counts.
    void add(std::uint8_t signature, int sign);

private:
    double rate(long long n) const { return operating ? static_cast<double>(n) / operating : 0.0; }
};

/// Each branch's type, by branch id.
using BranchTypes = std::unordered_map<std::int64_t, BranchType>;
BranchTypes branch_types(const Dataset& d);
/// True when o's branch is a standalone one (单独组建).
bool in_standalone_branch(const Organization& o, const BranchTypes& types);

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

}  // namespace covermap::geo
