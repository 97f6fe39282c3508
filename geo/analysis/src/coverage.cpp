#include "covermap/geo/coverage.hpp"

#include "covermap/geo/text.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/spatial_index.hpp"

namespace covermap::geo {

CoverageTable compute_coverage(const Dataset& d, Level level, std::optional<OrgKind> kind) {
    return compute_coverage(d, level, kind, locate_orgs(d, level));
}

CoverageTable compute_coverage(const Dataset& d, Level level, std::optional<OrgKind> kind,
                               const std::vector<int>& where) {
    CoverageTable t;
    t.level = level;
    t.kind = kind;
    auto types = branch_types(d);

    std::unordered_map<int, std::size_t> row_of;  // area index -> row
    std::vector<int> order;
    for (std::size_t i = 0; i < d.areas.size(); ++i)
        if (d.areas[i].level == level) order.push_back(static_cast<int>(i));
    std::sort(order.begin(), order.end(), [&](int a, int b) { return d.areas[a].code < d.areas[b].code; });
    for (int i : order) {
        row_of[i] = t.areas.size();
        t.areas.push_back(CoverageRow{d.areas[i].code, d.areas[i].name});
    }
    t.total.code = "total";
    t.total.name = "合计";

    // Ledgers a visit confirmed since this quarter began (China's calendar).
    const std::string since = quarter_start(china_date());
    for (std::size_t i = 0; i < d.orgs.size() && i < where.size(); ++i) {
        const auto& o = d.orgs[i];
        if (where[i] < 0 || (kind && o.kind != *kind)) continue;
        bool standalone = in_standalone_branch(o, types);
        auto v = d.ledger_verified.find(o.id);
        bool verified = v != d.ledger_verified.end() && v->second >= since;
        t.areas[row_of[where[i]]].count(o, standalone, verified);
        t.total.count(o, standalone, verified);
    }
    return t;
}

std::vector<CoverageRow> coverage_rows(const Dataset& d, Level level) { return compute_coverage(d, level).areas; }

nlohmann::json to_json(const CoverageRow& r) {
    return {{"code", r.code},
            {"name", r.name},
            {"orgs", r.orgs},
            {"operating", r.operating},
            {"org_covered", r.org_covered},
            {"standalone", r.standalone},
            {"work_covered", r.work_covered},
            {"instructor_covered", r.instructor_covered},
            {"org_coverage", r.org_coverage()},
            {"standalone_rate", r.standalone_rate()},
            {"work_coverage", r.work_coverage()},
            {"instructor_coverage", r.instructor_coverage()},
            {"ledger_verified", r.ledger_verified},
            {"ledger_verified_rate", r.ledger_verified_rate()}};
}

nlohmann::json to_json(const CoverageTable& t) {
    nlohmann::json j;
    j["level"] = std::string(to_string(t.level));
    if (t.kind) j["kind"] = std::string(to_string(*t.kind));
    j["areas"] = nlohmann::json::array();
    for (const auto& r : t.areas) j["areas"].push_back(to_json(r));
    j["total"] = to_json(t.total);
    return j;
}

std::string to_csv(const CoverageTable& t) {
    std::ostringstream out;
    out << "code,name,orgs,operating,org_covered,standalone,work_covered,instructor_covered,"
           "org_coverage,standalone_rate,work_coverage,instructor_coverage\n";
    auto line = [&](const CoverageRow& r) {
        out << csv_field(r.code) << ',' << csv_field(r.name) << ',' << r.orgs << ',' << r.operating << ',' << r.org_covered << ','
            << r.standalone << ',' << r.work_covered << ',' << r.instructor_covered << ',' << r.org_coverage() << ','
            << r.standalone_rate() << ',' << r.work_coverage() << ',' << r.instructor_coverage() << '\n';
    };
    for (const auto& r : t.areas) line(r);
    line(t.total);
    return out.str();
}

}  // namespace covermap::geo
