#pragma once
/// \file Coverage rates per area, over operating organizations.

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "covermap/geo/figures.hpp"
#include "covermap/geo/model.hpp"

namespace covermap::geo {

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

/// The rows of compute_coverage(d, level) alone: what an export of areas writes beside each area
/// (ExportParams::coverage).
std::vector<CoverageRow> coverage_rows(const Dataset& d, Level level);

/// The contract JSON: {"level", "areas": [row…], "total": row}.
nlohmann::json to_json(const CoverageTable& t);
/// One area's figures as JSON: code, name, the counts and the four rates (the one wording of a
/// coverage row for /api/coverage, area cards and OGC area items).
nlohmann::json to_json(const CoverageRow& r);
/// One header line and one line per row, then the total; UTF-8.
std::string to_csv(const CoverageTable& t);

}  // namespace covermap::geo
