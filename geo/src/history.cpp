#include "covermap/geo/history.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/text.hpp"
#include "detail/enum_names.hpp"

namespace covermap::geo {

const std::vector<Scope> kScopes = {Scope::all, Scope::enterprise, Scope::social, Scope::above_scale,
                                    Scope::employees50};
const std::vector<Metric> kMetrics = {Metric::org_coverage, Metric::standalone_rate, Metric::work_coverage,
                                      Metric::instructor_coverage, Metric::member_rate};

namespace {

using detail::EnumName;
constexpr EnumName<Scope> kScopeNames[] = {{Scope::all, "all", "全部"},
                                           {Scope::enterprise, "enterprise", "非公企业"},
                                           {Scope::social, "social", "社会组织"},
                                           {Scope::above_scale, "above_scale", "规模以上企业"},
                                           {Scope::employees50, "employees50", "50人以上"}};
constexpr EnumName<Metric> kMetricNames[] = {{Metric::org_coverage, "org_coverage", "组织覆盖率"},
                                             {Metric::standalone_rate, "standalone_rate", "单独组建率"},
                                             {Metric::work_coverage, "work_coverage", "工作覆盖率"},
                                             {Metric::instructor_coverage, "instructor_coverage", "指导员覆盖率"},
                                             {Metric::member_rate, "member_rate", "有党员比例"}};

}  // namespace

std::string_view to_string(Scope s) { return detail::name_of(kScopeNames, s); }
std::string_view to_string(Metric m) { return detail::name_of(kMetricNames, m); }
std::string_view chinese_name(Scope s) { return detail::chinese_of(kScopeNames, s); }
std::string_view chinese_name(Metric m) { return detail::chinese_of(kMetricNames, m); }

std::optional<Scope> parse_scope(std::string_view s) {
    if (auto v = detail::value_of(kScopeNames, s)) return v;
    if (s == "规模以上" || s == "规上") return Scope::above_scale;
    return std::nullopt;
}

std::optional<Metric> parse_metric(std::string_view s) { return detail::value_of(kMetricNames, s); }

bool in_scope(const Organization& o, Scope s) {
    switch (s) {
        case Scope::all:
            return true;
        case Scope::enterprise:
            return o.kind == OrgKind::enterprise;
        case Scope::social:
            return o.kind == OrgKind::social;
        case Scope::above_scale:
            return o.kind == OrgKind::enterprise && o.above_scale;
        case Scope::employees50:
            return o.employees >= 50;
    }
    return false;
}

double HistoryRow::rate(Metric m) const {
    switch (m) {
        case Metric::org_coverage:
            return figures.org_coverage();
        case Metric::standalone_rate:
            return figures.standalone_rate();
        case Metric::work_coverage:
            return figures.work_coverage();
        case Metric::instructor_coverage:
            return figures.instructor_coverage();
        case Metric::member_rate:
            return figures.operating ? static_cast<double>(with_members) / figures.operating : 0.0;
    }
    return 0;
}

namespace {
std::string row_key(std::string_view level, std::string_view code, Scope scope) {
    std::string k(level);
    k += '/';
    k += code;
    k += '/';
    k += to_string(scope);
    return k;
}
}  // namespace

void Snapshot::index() {
    index_.clear();
    index_.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
        index_[row_key(rows[i].level, rows[i].figures.code, rows[i].scope)] = i;
}

const HistoryRow* Snapshot::find(std::string_view level, std::string_view code, Scope scope) const {
    if (!index_.empty()) {
        auto it = index_.find(row_key(level, code, scope));
        return it == index_.end() ? nullptr : &rows[it->second];
    }
    for (const auto& r : rows)
        if (r.scope == scope && r.level == level && r.figures.code == code) return &r;
    return nullptr;
}

namespace {

// What one row accumulates besides the coverage counts: the distinct branches and instructors.
struct Tally {
    HistoryRow row;
    std::vector<std::int64_t> branches;
    std::vector<const Id*> instructors;
};

void add(Tally& t, const Organization& o, bool standalone) {
    t.row.figures.count(o, standalone);
    if (o.operating() && o.party_members > 0) ++t.row.with_members;
    if (o.branch_id) t.branches.push_back(*o.branch_id);
    if (o.instructor_id) t.instructors.push_back(&*o.instructor_id);
}

void finish(Tally& t, const BranchTypes& types) {
    std::sort(t.branches.begin(), t.branches.end());
    t.branches.erase(std::unique(t.branches.begin(), t.branches.end()), t.branches.end());
    for (auto id : t.branches) {
        auto it = types.find(id);
        if (it == types.end()) continue;
        (it->second == BranchType::standalone ? t.row.branches_standalone
         : it->second == BranchType::joint    ? t.row.branches_joint
                                              : t.row.branches_affiliated)++;
    }
    std::sort(t.instructors.begin(), t.instructors.end(), [](const Id* a, const Id* b) { return *a < *b; });
    t.row.instructors =
        std::unique(t.instructors.begin(), t.instructors.end(), [](const Id* a, const Id* b) { return *a == *b; }) -
        t.instructors.begin();
}

}  // namespace

Snapshot take_snapshot(const Dataset& d, const std::string& date) {
    Snapshot snap;
    snap.date = checked_date(date);
    auto types = branch_types(d);
    std::vector<char> standalone(d.orgs.size(), 0);
    for (std::size_t i = 0; i < d.orgs.size(); ++i) standalone[i] = in_standalone_branch(d.orgs[i], types);

    // Every scope for the whole, districts, streets and parks (what reports break down); the
    // many communities and grid cells keep the "all" scope only.
    auto run = [&](const std::string& level, const std::vector<std::pair<std::string, std::string>>& areas,
                   const std::vector<int>& row_of_org) {
        const std::size_t nscopes = level == "community" || level == "grid" ? 1 : kScopes.size();
        std::vector<Tally> tallies(areas.size() * nscopes);
        for (std::size_t a = 0; a < areas.size(); ++a)
            for (std::size_t s = 0; s < nscopes; ++s) {
                auto& r = tallies[a * nscopes + s].row;
                r.date = snap.date;
                r.level = level;
                r.scope = kScopes[s];
                r.figures.code = areas[a].first;
                r.figures.name = areas[a].second;
            }
        for (std::size_t i = 0; i < d.orgs.size(); ++i) {
            int a = row_of_org[i];
            if (a < 0) continue;
            for (std::size_t s = 0; s < nscopes; ++s)
                if (in_scope(d.orgs[i], kScopes[s]))
                    add(tallies[static_cast<std::size_t>(a) * nscopes + s], d.orgs[i], standalone[i]);
        }
        for (auto& t : tallies) {
            finish(t, types);
            snap.rows.push_back(std::move(t.row));
        }
    };

    bool any_district = false;
    for (Level level : {Level::district, Level::street, Level::community, Level::grid, Level::park}) {
        std::vector<std::pair<std::string, std::string>> areas;
        std::unordered_map<int, int> row_of_area;
        std::vector<int> order;
        for (std::size_t i = 0; i < d.areas.size(); ++i)
            if (d.areas[i].level == level) order.push_back(static_cast<int>(i));
        if (order.empty()) continue;
        std::sort(order.begin(), order.end(), [&](int a, int b) { return d.areas[a].code < d.areas[b].code; });
        for (int i : order) {
            row_of_area[i] = static_cast<int>(areas.size());
            areas.emplace_back(d.areas[i].code, d.areas[i].name);
        }
        auto where = locate_orgs(d, level);
        for (auto& w : where)
            if (w >= 0) w = row_of_area[w];
        run(std::string(to_string(level)), areas, where);
        if (level == Level::district) {
            any_district = true;
            for (auto& w : where) w = w >= 0 ? 0 : -1;
            run("total", {{"total", "合计"}}, where);
        }
    }
    if (!any_district) run("total", {{"total", "合计"}}, std::vector<int>(d.orgs.size(), 0));
    snap.index();
    return snap;
}

HistoryRow figures_of(const Dataset& d, const std::vector<int>& where, int area, Scope scope) {
    auto types = branch_types(d);
    Tally t;
    t.row.scope = scope;
    for (std::size_t i = 0; i < d.orgs.size(); ++i) {
        if (where[i] < 0 || (area >= 0 && where[i] != area) || !in_scope(d.orgs[i], scope)) continue;
        add(t, d.orgs[i], in_standalone_branch(d.orgs[i], types));
    }
    finish(t, types);
    return t.row;
}

bool Target::applies_to(std::string_view lvl, std::string_view code) const {
    if (!area.empty()) return area == code;
    if (level.empty() || level == "total") return lvl == "total";
    return level == lvl;
}

std::optional<TargetValue> target_for(const std::vector<Target>& targets, Metric metric, Scope scope,
                                      std::string_view level, std::string_view code,
                                      const std::vector<Snapshot>& baselines) {
    const Target* best = nullptr;
    for (const auto& t : targets) {
        if (t.metric != metric || t.scope != scope || !t.applies_to(level, code)) continue;
        // An area's own target wins over a level-wide one; among equals, the nearest deadline.
        bool specific = !t.area.empty(), best_specific = best && !best->area.empty();
        if (!best || (specific && !best_specific) || (specific == best_specific && t.deadline < best->deadline))
            best = &t;
    }
    if (!best) return std::nullopt;
    TargetValue v{best, best->value, std::nullopt};
    if (best->relative()) {
        const HistoryRow* base = nullptr;
        for (const auto& s : baselines)
            if (s.date == best->baseline) base = s.find(level, code, scope);
        if (!base) return std::nullopt;
        v.baseline_rate = base->rate(metric);
        v.goal = std::min(1.0, best->value * *v.baseline_rate);
    }
    return v;
}

std::string checked_date(const std::string& date) {
    if (!valid_date(date) || date < "1900-01-01")
        throw invalid_argument("date must be a calendar day YYYY-MM-DD, e.g. 2026-11-30 (got '" +
                               replace_invalid_utf8(date.substr(0, 20)) + "')");
    return date;
}

}  // namespace covermap::geo
