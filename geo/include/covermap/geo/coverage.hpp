#pragma once
/// \file Coverage rates per area, over operating organizations.

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
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

    double org_coverage() const { return rate(org_covered); }
    double standalone_rate() const { return rate(standalone); }
    double work_coverage() const { return rate(work_covered); }
    double instructor_coverage() const { return rate(instructor_covered); }

    /// Counts organization o; standalone: its branch is a standalone one (单独组建). The one
    /// counting rule of every coverage figure (tables, history, reports).
    void count(const Organization& o, bool standalone);

private:
    double rate(long long n) const { return operating ? static_cast<double>(n) / operating : 0.0; }
};

/// Each branch's type, by branch id.
using BranchTypes = std::unordered_map<std::int64_t, BranchType>;
BranchTypes branch_types(const Dataset& d);
/// True when o's branch is a standalone one (单独组建).
bool in_standalone_branch(const Organization& o, const BranchTypes& types);

/// Coverage per area of one level, plus the total over every organization those areas hold.
struct CoverageTable {
    Level level = Level::district;
    std::optional<OrgKind> kind;
    std::vector<CoverageRow> areas;  ///< in area-code order
    CoverageRow total;
};

/// Computes coverage per area of level; parks count the organizations inside their polygon.
CoverageTable compute_coverage(const Dataset& d, Level level, std::optional<OrgKind> kind = std::nullopt);
/// The same with the organizations already located (locate_orgs(d, level)): only counting,
/// which is what a server does after an edit that moved nobody.
CoverageTable compute_coverage(const Dataset& d, Level level, std::optional<OrgKind> kind,
                               const std::vector<int>& where);

/// For each organization, the index in d.areas of the area of level holding it, or -1.
std::vector<int> locate_orgs(const Dataset& d, Level level);

/// The contract JSON: {"level", "areas": [row…], "total": row}.
nlohmann::json to_json(const CoverageTable& t);
/// One area's figures as JSON: code, name, the counts and the four rates (the one wording of a
/// coverage row for /api/coverage, area cards and OGC area items).
nlohmann::json to_json(const CoverageRow& r);
/// One header line and one line per row, then the total; UTF-8.
std::string to_csv(const CoverageTable& t);

}  // namespace covermap::geo
