#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/planner.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/report/report.hpp"

namespace covermap::report {

namespace {

using geo::first_of_month;

// The latest snapshot date in (from, to]; empty when there is none.
std::string latest_in(const std::vector<std::string>& dates, const std::string& from, const std::string& to) {
    std::string best;
    for (const auto& d : dates)
        if (d > from && d <= to) best = d;
    return best;
}

const char* child_title(geo::Level l) {
    switch (l) {
        case geo::Level::district:
            return "区县";
        case geo::Level::street:
            return "街道（乡镇）";
        case geo::Level::community:
            return "社区（村）";
        case geo::Level::grid:
            return "网格";
        case geo::Level::park:
            return "园区";
    }
    return "";
}

}  // namespace

Period parse_period(const std::string& key) {
    int y = 0, n = 0;
    char tail = 0;
    Period p;
    p.key = key;
    if (key.size() == 7 && key[4] == '-' && key[5] != 'Q' &&
        std::sscanf(key.c_str(), "%4d-%2d%c", &y, &n, &tail) == 2 && y >= 1900 && n >= 1 && n <= 12) {
        p.label = std::to_string(y) + "年" + std::to_string(n) + "月";
        p.first = first_of_month(y, n);
        p.after = first_of_month(y, n + 1);
        p.before = first_of_month(y, n - 1);
        return p;
    }
    if (key.size() == 7 && key[4] == '-' && key[5] == 'Q' &&
        std::sscanf(key.c_str(), "%4d-Q%1d%c", &y, &n, &tail) == 2 && y >= 1900 && n >= 1 && n <= 4) {
        p.label = std::to_string(y) + "年第" + std::to_string(n) + "季度";
        int m = 3 * (n - 1) + 1;
        p.first = first_of_month(y, m);
        p.after = first_of_month(y, m + 3);
        p.before = first_of_month(y, m - 3);
        return p;
    }
    throw geo::invalid_argument("the period is a month YYYY-MM (e.g. 2026-11) or a quarter YYYY-Qn (e.g. 2026-Q4)");
}

namespace {

// 台账核实 for the organizations inside the reported area (inside[i]), counted in the quarter
// up to the period's last day (today at the latest), China's calendar.
LedgerSection ledger_section(const geo::Dataset& d, const geo::Store& store, const std::vector<char>& inside,
                             const Period& period, const std::string& today) {
    LedgerSection out;
    out.to = std::min(today, geo::add_days(period.after, -1));
    out.from = geo::quarter_start(out.to);
    geo::VisitQuery q;
    q.from = out.from;
    q.to = out.to;
    auto visits = store.visits(q);
    std::unordered_map<geo::Id, std::size_t> index;
    for (std::size_t i = 0; i < d.orgs.size(); ++i) index[d.orgs[i].id] = i;
    std::vector<char> verified(d.orgs.size(), 0);
    std::map<geo::Id, std::pair<int, int>> per_instructor;  // period, quarter
    for (const auto& v : visits) {
        auto it = index.find(v.org);
        if (it == index.end() || !inside[it->second]) continue;
        if (v.ledger_confirmed) verified[it->second] = 1;
        if (v.instructor.empty()) continue;
        auto& n = per_instructor[v.instructor];
        ++n.second;
        if (v.date >= period.first) ++n.first;
    }
    // Per district and park: operating organizations and those verified.
    for (auto level : {geo::Level::district, geo::Level::park}) {
        auto where = geo::locate_orgs(d, level);
        std::map<int, LedgerSection::Area> rows;
        for (std::size_t i = 0; i < d.orgs.size(); ++i) {
            if (!inside[i] || where[i] < 0 || !d.orgs[i].operating()) continue;
            auto& row = rows[where[i]];
            ++row.operating;
            row.verified += verified[i];
        }
        for (auto& [at, row] : rows) {
            const auto& a = d.areas[static_cast<std::size_t>(at)];
            row.code = a.code, row.name = a.name, row.level = std::string(geo::to_string(a.level));
            out.areas.push_back(row);
        }
    }
    for (std::size_t i = 0; i < d.orgs.size(); ++i)
        if (inside[i] && d.orgs[i].operating()) ++out.operating, out.verified += verified[i];
    for (const auto& in : d.instructors)
        if (auto n = per_instructor.find(in.id); n != per_instructor.end())
            out.instructors.push_back({in.id, in.name, n->second.first, n->second.second});
    std::stable_sort(out.instructors.begin(), out.instructors.end(),
                     [](const auto& a, const auto& b) { return a.quarter > b.quarter; });
    // Branches: one counts as meeting 五有 when the last check of any of its organizations did.
    std::map<std::int64_t, int> branch_state;  // -1 unchecked, 0 checked, 1 all five
    for (std::size_t i = 0; i < d.orgs.size(); ++i) {
        const auto& o = d.orgs[i];
        if (!inside[i] || !o.branch_id) continue;
        auto& st = branch_state.try_emplace(*o.branch_id, -1).first->second;
        if (auto c = d.branch_checks.find(o.id); c != d.branch_checks.end() && c->second.date <= out.to)
            st = std::max(st, c->second.wuyou == geo::kWuyouAll ? 1 : 0);
    }
    out.branches = static_cast<long long>(branch_state.size());
    for (const auto& [id, st] : branch_state) {
        if (st >= 0) ++out.branches_checked;
        if (st == 1) ++out.branches_all_five;
    }
    return out;
}

}  // namespace

ReportData gather(const geo::Dataset& d, const geo::Store& store, const Period& period, const std::string& area_code,
                  const std::string& today) {
    ReportData r;
    r.period = period;
    // The reported area and the level its map and table show.
    int area_index = -1;
    if (!area_code.empty() && area_code != "total") {
        for (std::size_t i = 0; i < d.areas.size(); ++i)
            if (d.areas[i].code == area_code) area_index = static_cast<int>(i);
        if (area_index < 0) throw geo::invalid_argument("no area with code " + area_code);
        const auto& a = d.areas[static_cast<std::size_t>(area_index)];
        r.area_code = a.code;
        r.area_level = std::string(geo::to_string(a.level));
        r.area_name = a.name;
        r.outline.push_back(a.shape);
    } else {
        r.area_name = "全部区县";
    }

    // The figures: the period's last snapshot, or the data now for the current period.
    if (period.first > today) throw geo::invalid_argument(period.label + " has not begun yet (today is " + today + ")");
    auto dates = store.snapshot_dates();
    geo::Snapshot snap;
    if (today < period.after) {
        r.live = true;
        snap = geo::take_snapshot(d, today);
    } else {
        auto date = latest_in(dates, period.first, period.after);
        if (date.empty())
            throw geo::invalid_argument("no snapshot for " + period.label + " (dated after " + period.first +
                                        " up to " + period.after + "): take one with covermap snapshot");
        snap = store.snapshot(date);
    }
    r.as_of = snap.date;
    geo::Snapshot prev;
    if (auto date = latest_in(dates, period.before, period.first); !date.empty() && date < r.as_of) {
        prev = store.snapshot(date);
        r.previous_as_of = date;
    }
    auto find_prev = [&](std::string_view level, std::string_view code, geo::Scope s) {
        const geo::HistoryRow* row = prev.find(level, code, s);
        return row ? std::optional<geo::HistoryRow>(*row) : std::nullopt;
    };

    for (geo::Scope s : geo::kScopes)
        if (const auto* row = snap.find(r.area_level, r.area_code, s)) {
            r.now.push_back(*row);
            r.previous.push_back(find_prev(r.area_level, r.area_code, s));
        }
    if (r.now.empty()) throw geo::invalid_argument("the snapshot of " + snap.date + " has no row for " + r.area_code);

    // Targets, relative ones resolved against their baseline snapshots.
    auto targets = store.targets();
    auto baselines = geo::baseline_snapshots(store, targets);
    for (const auto& row : r.now)
        for (geo::Metric m : geo::kMetrics)
            if (auto v = geo::target_for(targets, m, row.scope, r.area_level, r.area_code, baselines))
                r.targets.push_back({m, row.scope, row.rate(m), v->goal, v->baseline_rate, v->target->value,
                                     v->target->baseline, v->target->deadline, v->target->note});

    // Tables of the areas one level down, worst first.
    auto table = [&](geo::Level level, const std::string& parent) {
        AreaTable t;
        t.title = child_title(level);
        for (const auto& a : d.areas)
            if (a.level == level && (parent.empty() || a.parent_code == parent))
                if (const auto* row = snap.find(geo::to_string(level), a.code, geo::Scope::all)) t.rows.push_back(*row);
        std::stable_sort(t.rows.begin(), t.rows.end(), [](const geo::HistoryRow& a, const geo::HistoryRow& b) {
            double ra = a.figures.operating ? a.figures.org_coverage() : 2,
                   rb = b.figures.operating ? b.figures.org_coverage() : 2;
            if (ra != rb) return ra < rb;
            return a.figures.operating > b.figures.operating;
        });
        for (const auto& row : t.rows)
            t.previous.push_back(find_prev(geo::to_string(level), row.figures.code, geo::Scope::all));
        if (!t.rows.empty()) r.tables.push_back(std::move(t));
    };
    geo::Level area_level =
        area_index >= 0 ? d.areas[static_cast<std::size_t>(area_index)].level : geo::Level::district;
    if (area_index < 0) {
        table(geo::Level::street, "");
        table(geo::Level::park, "");
        r.map_level = geo::Level::street;
    } else if (area_level == geo::Level::district) {
        table(geo::Level::street, r.area_code);
        table(geo::Level::park, r.area_code);
        r.map_level = geo::Level::street;
    } else if (area_level == geo::Level::street) {
        table(geo::Level::community, r.area_code);
        r.map_level = geo::Level::community;
    } else {
        r.map_level = geo::Level::grid;
    }
    // The map's areas: the level below, inside the reported area (its children or, for a park,
    // the grid cells whose boxes overlap it), coloured by the snapshot.
    {
        geo::BBox frame =
            area_index >= 0 ? geo::bounds(d.areas[static_cast<std::size_t>(area_index)].shape) : geo::BBox{};
        for (const auto& a : d.areas) {
            if (a.level != r.map_level) continue;
            bool inside = area_index < 0 || (area_level == geo::Level::park ? geo::bounds(a.shape).intersects(frame)
                                                                            : a.parent_code == r.area_code);
            if (!inside) continue;
            const auto* row = snap.find(geo::to_string(r.map_level), a.code, geo::Scope::all);
            r.map_areas.push_back(a);
            r.map_rates.push_back(row && row->figures.operating ? row->figures.org_coverage() : -1);
        }
    }

    // The trend: the area's snapshots up to the figures' date, the last 12.
    for (auto& row : store.history(r.area_level, r.area_code, geo::Scope::all))
        if (row.date < r.as_of || (!r.live && row.date == r.as_of)) r.trend.push_back(row);
    if (r.live) r.trend.push_back(r.all());
    if (r.trend.size() > 12) r.trend.erase(r.trend.begin(), r.trend.end() - 12);

    // Flags on the data as it stands, for the organizations in the area.
    std::vector<char> inside(d.orgs.size(), 1);
    if (area_index >= 0) {
        auto where = geo::locate_orgs(d, area_level);
        for (std::size_t i = 0; i < d.orgs.size(); ++i) inside[i] = where[i] == area_index;
    }
    std::unordered_set<std::string> org_in, branch_in, instructor_in;
    for (std::size_t i = 0; i < d.orgs.size(); ++i)
        if (inside[i]) {
            const auto& o = d.orgs[i];
            org_in.insert(o.id);
            if (o.branch_id) branch_in.insert(std::to_string(*o.branch_id));
            if (o.instructor_id) instructor_in.insert(*o.instructor_id);
        }
    const std::vector<std::pair<std::string, std::string>> kinds = {
        {"shell_branch", "空壳党组织（党员不足3名或所在组织已停业、注销）"},
        {"no_members", "50人以上无党员的组织"},
        {"instructor_over_capacity", "超出指导能力的党建指导员"}};
    std::vector<FlagList> lists;
    for (const auto& [type, title] : kinds) lists.push_back({type, title, {}});
    for (const auto& f : geo::rule4_flags(d)) {
        const auto& set = f.type == "shell_branch" ? branch_in : f.type == "no_members" ? org_in : instructor_in;
        for (auto& l : lists)
            if (l.type == f.type && !f.ids.empty() && set.count(f.ids.front())) l.lines.push_back(f.message);
    }
    for (auto& l : lists) std::sort(l.lines.begin(), l.lines.end());
    r.flags = std::move(lists);

    // The open plan: the coverage if its proposals not yet accepted were.
    if (r.live) {
        auto plans = store.plans("", false);
        for (auto it = plans.rbegin(); it != plans.rend(); ++it) {
            if (it->status.rfind("open", 0) != 0 && it->status.rfind("accepted", 0) != 0) continue;
            auto full = store.plans(it->id, true);
            if (full.empty()) break;
            auto body = nlohmann::json::parse(full.front().body, nullptr, false);
            if (!body.is_object() || !body.contains("proposals")) break;
            std::unordered_set<std::string> done;
            if (body.contains("accepted") && body["accepted"].is_array())
                for (const auto& a : body["accepted"])
                    if (a.is_string()) done.insert(a.get<std::string>());
            std::unordered_map<std::string, std::string> change;  // org id -> proposal type
            for (const auto& p : body["proposals"]) {
                if (!p.is_object() || done.count(p.value("id", ""))) continue;
                for (const auto& o : p.value("orgs", nlohmann::json::array()))
                    if (o.is_string()) change[o.get<std::string>()] = p.value("type", "");
            }
            PlanReach reach{it->id, it->name, it->created, {}, {}};
            auto types = geo::branch_types(d);
            for (std::size_t i = 0; i < d.orgs.size(); ++i) {
                if (!inside[i]) continue;
                geo::Organization o = d.orgs[i];
                reach.now.count(o, geo::in_standalone_branch(o, types));
                if (auto c = change.find(o.id); c != change.end()) {
                    if (c->second == "instructor")
                        o.instructor_id = o.instructor_id.value_or("planned");
                    else
                        o.branch_id = o.branch_id.value_or(-1);
                }
                reach.after.count(o, geo::in_standalone_branch(o, types));
            }
            r.plan = reach;
            break;
        }
    }
    r.ledger = ledger_section(d, store, inside, period, today);
    return r;
}

}  // namespace covermap::report
