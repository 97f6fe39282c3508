#pragma once
/// \file The monthly report (月报告制度): figures for a month or a quarter, for the whole data
/// set or one area, with the change since the period before, the distance to each target, the
/// trend, the flags and what the open plan would reach; written as a PDF (Cairo + Pango, the
/// map by Mapnik's Cairo renderer) or an XLSX workbook (libxlsxwriter).

#include <optional>
#include <string>
#include <vector>

#include "covermap/geo/history.hpp"
#include "covermap/geo/model.hpp"
#include "covermap/geo/store.hpp"

namespace covermap::report {

/// A report period: a month "2026-11" or a quarter "2026-Q4".
struct Period {
    std::string key;     ///< as given
    std::string label;   ///< "2026年11月", "2026年第4季度"
    std::string first;   ///< its first day, YYYY-MM-DD
    std::string after;   ///< the first day after it
    std::string before;  ///< the first day of the period before it
};
/// Parses "YYYY-MM" or "YYYY-Qn"; throws geo::invalid_argument.
Period parse_period(const std::string& key);

/// A rate beside its target.
struct TargetLine {
    geo::Metric metric = geo::Metric::org_coverage;
    geo::Scope scope = geo::Scope::all;
    double now = 0;
    double goal = 0;
    std::optional<double> baseline_rate;  ///< relative targets
    double factor = 1;                    ///< relative targets: goal = min(100 %, factor × baseline)
    std::string baseline, deadline, note;
};

/// A table of areas, worst organizational coverage first.
struct AreaTable {
    std::string title;  ///< "街道", "园区", "社区"
    std::vector<geo::HistoryRow> rows;
    std::vector<std::optional<geo::HistoryRow>> previous;  ///< same order; nullopt: no earlier figure
};

struct FlagList {
    std::string type;   ///< shell_branch, no_members, instructor_over_capacity
    std::string title;  ///< Chinese heading
    std::vector<std::string> lines;
};

/// What accepting the open plan would do to the area's coverage.
struct PlanReach {
    std::string id, name, created;
    geo::CoverageRow now, after;
};

/// 台账核实: how many operating organizations' 五清 ledgers a visit confirmed in the quarter up
/// to the period's end, per district and park; visits per instructor in the period and the
/// quarter; branches whose last check met all five of the 五有 standard.
struct LedgerSection {
    std::string from, to;  ///< the quarter's first day and the period's last day counted
    struct Area {
        std::string code, name, level;
        long long operating = 0, verified = 0;
        double rate() const { return operating ? static_cast<double>(verified) / operating : 0.0; }
    };
    std::vector<Area> areas;  ///< districts, then parks
    struct Instructor {
        std::string id, name;
        int period = 0, quarter = 0;
    };
    std::vector<Instructor> instructors;  ///< most visits this quarter first
    long long operating = 0, verified = 0;
    long long branches = 0, branches_checked = 0, branches_all_five = 0;
};

struct ReportData {
    Period period;
    std::string area_code = "total", area_level = "total", area_name;  ///< the whole: "total"
    std::string as_of;                                                 ///< the figures' date
    bool live = false;                                     ///< figures computed from the data now (the current period)
    std::string previous_as_of;                            ///< the date of the figures compared with; empty: none
    std::vector<geo::HistoryRow> now;                      ///< the area, one row per scope
    std::vector<std::optional<geo::HistoryRow>> previous;  ///< same order
    std::vector<TargetLine> targets;
    std::vector<AreaTable> tables;
    std::vector<geo::HistoryRow> trend;  ///< the area, scope all, up to 12 dates, oldest first
    std::vector<FlagList> flags;
    std::optional<PlanReach> plan;
    LedgerSection ledger;
    // The map: the areas one level down, coloured by their coverage at as_of.
    geo::Level map_level = geo::Level::street;
    std::vector<geo::Area> map_areas;
    std::vector<double> map_rates;
    std::vector<geo::MultiPolygon> outline;  ///< the reported area's border (empty for the whole)
    std::string generated_by = "covermap";

    const geo::HistoryRow& all() const { return now.front(); }
    const std::optional<geo::HistoryRow>& previous_all() const { return previous.front(); }
};

/// Gathers a report: figures from the history (the latest snapshot dated after the period's
/// first day and up to the first day after it: a snapshot taken on the 1st closes the month
/// before), or from d now when the period holds today; the previous period's the same way.
/// today: YYYY-MM-DD. Throws geo::invalid_argument for an unknown area or a period without
/// figures.
ReportData gather(const geo::Dataset& d, const geo::Store& store, const Period& period, const std::string& area_code,
                  const std::string& today);

/// "铁岭高新技术产业开发区两新组织党建工作月报" (季报 for a quarter).
std::string title_of(const ReportData& r);

/// The report as PDF bytes (A4, fonts embedded); deterministic for the same data.
std::string render_pdf(const ReportData& r);
/// The report as XLSX bytes; deterministic for the same data.
std::string render_xlsx(const ReportData& r);

/// One sheet of text cells under a bold heading row (a list to report: demonstration sites,
/// contact points), as workbook bytes. Cells that read as numbers stay text.
std::string table_xlsx(const std::string& sheet, const std::vector<std::string>& head,
                       const std::vector<std::vector<std::string>>& rows);


/// A street's (or community's, park's) sheet for the people in the field: its map with every
/// organization as a dot of its state, and its instructors with their organizations.
struct StreetSheet {
    struct Org {
        std::string name, address, person, phone, state;  ///< state in Chinese
    };
    struct Instructor {
        std::string name, unit;
        int load = 0, capacity = 0;
        std::vector<Org> orgs;
    };
    std::string area_code, area_name, level_name;  ///< level_name: 街道（乡镇）, 社区（村）, 园区…
    std::string date;                              ///< YYYY-MM-DD, China time
    long operating = 0, branch = 0, instructor = 0, uncovered = 0;
    geo::Level map_level = geo::Level::community;
    std::vector<geo::Area> map_areas;  ///< the level below, inside the area
    std::vector<double> map_rates;     ///< their organizational coverage now (−1: none operating)
    geo::MultiPolygon outline;
    std::vector<std::pair<geo::Point, std::string>> dots;  ///< organizations: place, state colour
    std::vector<Instructor> instructors;  ///< by name
    std::vector<Org> without;             ///< operating organizations with neither branch nor instructor
};

/// The sheet of the area with this code from the data now. Throws geo::invalid_argument for an
/// unknown area.
StreetSheet gather_sheet(const geo::Dataset& d, const std::string& area_code, const std::string& today);
/// The sheet as an A4 portrait PDF (fonts embedded); deterministic for the same data.
std::string render_sheet_pdf(const StreetSheet& sheet);

}  // namespace covermap::report
