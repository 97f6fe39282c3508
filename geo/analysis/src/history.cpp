#include "covermap/geo/history.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/text.hpp"

namespace covermap::geo {

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

}  // namespace covermap::geo
