#include "coverage_cache.hpp"

#include "covermap/geo/clock.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/editor.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/text.hpp"

#include <algorithm>

namespace covermap::api {

std::shared_ptr<const std::vector<int>> CoverageCache::located(geo::Level level) {
    {
        std::lock_guard lock(mutex_);
        if (located_places_ != editor_.places_version()) {
            located_.clear();
            located_places_ = editor_.places_version();
        }
        if (auto it = located_.find(level); it != located_.end()) return it->second;
    }
    std::shared_ptr<const std::vector<int>> where;
    {
        auto view = editor_.view();
        where = std::make_shared<const std::vector<int>>(geo::locate_orgs(view.data(), level));
    }
    std::lock_guard lock(mutex_);
    located_[level] = where;
    return where;
}

namespace {

// Whether a visit confirmed o's ledger since `since` (the quarter's first day).
bool verified_since(const geo::Dataset& d, const geo::Organization& o, const std::string& since) {
    auto v = d.ledger_verified.find(o.id);
    return v != d.ledger_verified.end() && v->second >= since;
}

}  // namespace

void CoverageCache::changed(const geo::Change& c, const geo::Dataset& data) {
    std::lock_guard lock(mutex_);
    if (c.scope != geo::Change::Scope::orgs) {
        for (auto& [key, t] : tables_) t.whole = true;
        index_.clear();
        return;
    }
    std::vector<geo::Id> ids = c.org_ids;
    for (const auto& [before, after] : c.orgs) ids.push_back(after.id);
    for (auto& [key, t] : tables_) {
        if (t.whole) continue;
        const auto& [level, kind] = key;
        if (count_again(t, kind, data, ids)) write_body(t, level, kind);
    }
}

// Every organization counted: the rows in area-code order, as compute_coverage makes them
// (its rule, CoverageRow::count, is the signatures' rule).
void CoverageCache::count_all(Table& t, geo::Level level, std::optional<geo::OrgKind> kind, const geo::Dataset& d) {
    t.rows.clear();
    t.row_of.assign(d.areas.size(), -1);
    std::vector<int> order;
    for (std::size_t i = 0; i < d.areas.size(); ++i)
        if (d.areas[i].level == level) order.push_back(static_cast<int>(i));
    std::sort(order.begin(), order.end(), [&](int a, int b) { return d.areas[a].code < d.areas[b].code; });
    for (int i : order) {
        t.row_of[static_cast<std::size_t>(i)] = static_cast<int>(t.rows.size());
        t.rows.push_back(geo::CoverageRow{d.areas[i].code, d.areas[i].name});
    }
    t.total = geo::CoverageRow{"total", "合计"};
    auto types = geo::branch_types(d);
    const auto& where = *t.where;
    t.signature.assign(d.orgs.size(), 0);
    for (std::size_t i = 0; i < d.orgs.size() && i < where.size(); ++i) {
        const auto& o = d.orgs[i];
        if (where[i] < 0 || (kind && o.kind != *kind)) continue;
        auto s = geo::CoverageRow::signature(o, geo::in_standalone_branch(o, types), verified_since(d, o, t.quarter));
        t.signature[i] = s;
        t.rows[static_cast<std::size_t>(t.row_of[static_cast<std::size_t>(where[i])])].add(s, 1);
        t.total.add(s, 1);
    }
    t.row_json.clear();
    for (const auto& r : t.rows) t.row_json.push_back(geo::dump_json(geo::to_json(r)));
    t.whole = false;
    if (index_.size() != d.orgs.size()) {
        index_.clear();
        for (std::size_t i = 0; i < d.orgs.size(); ++i) index_.emplace(d.orgs[i].id, i);
    }
}

// The organizations of a change taken out of their rows as they were counted and put back as
// they are; only their rows' JSON is written again. Whether anything changed (an organization
// new to the table makes it count everything at the next read).
bool CoverageCache::count_again(Table& t, std::optional<geo::OrgKind> kind, const geo::Dataset& d,
                                const std::vector<geo::Id>& ids) {
    std::vector<std::size_t> dirty;
    std::optional<geo::BranchTypes> types;  // only when a changed organization has a branch
    const auto& where = *t.where;
    if (where.size() != d.orgs.size() || t.signature.size() != d.orgs.size()) {
        t.whole = true;
        return false;
    }
    for (const auto& id : ids) {
        auto at = index_.find(id);
        if (at == index_.end() || at->second >= d.orgs.size() || d.orgs[at->second].id != id) {
            t.whole = true;
            return false;
        }
        auto i = at->second;
        const auto& o = d.orgs[i];
        if (where[i] < 0 || (kind && o.kind != *kind)) continue;
        if (o.branch_id && !types) types = geo::branch_types(d);
        auto s = geo::CoverageRow::signature(o, o.branch_id && geo::in_standalone_branch(o, *types),
                                             verified_since(d, o, t.quarter));
        if (s == t.signature[i]) continue;
        auto row = static_cast<std::size_t>(t.row_of[static_cast<std::size_t>(where[i])]);
        t.rows[row].add(t.signature[i], -1);
        t.rows[row].add(s, 1);
        t.total.add(t.signature[i], -1);
        t.total.add(s, 1);
        t.signature[i] = s;
        dirty.push_back(row);
    }
    for (auto row : dirty) t.row_json[row] = geo::dump_json(geo::to_json(t.rows[row]));
    return !dirty.empty();
}

// The table's JSON as geo::to_json(CoverageTable) writes it: the rows' text spliced into the
// rest, which is written again (it holds the total).
void CoverageCache::write_body(Table& t, geo::Level level, std::optional<geo::OrgKind> kind) {
    geo::CoverageTable shell;
    shell.level = level;
    shell.kind = kind;
    shell.total = t.total;
    auto outer = geo::dump_json(geo::to_json(shell));
    const std::string slot = "\"areas\":[]";
    auto at = outer.find(slot) + slot.size() - 1;  // just before the closing bracket
    std::size_t bytes = outer.size();
    for (const auto& r : t.row_json) bytes += r.size() + 1;
    t.body.clear();
    t.body.reserve(bytes);
    t.body.append(outer, 0, at);
    for (std::size_t k = 0; k < t.row_json.size(); ++k) {
        if (k) t.body += ',';
        t.body += t.row_json[k];
    }
    t.body.append(outer, at, std::string::npos);
    t.by_code.reset();
}

CoverageCache::Table& CoverageCache::fresh(geo::Level level, std::optional<geo::OrgKind> kind,
                                           const geo::Editor::View& view,
                                           const std::shared_ptr<const std::vector<int>>& where) {
    const auto& data = view.data();
    // The quarter: the ledger figures roll over on its first day with no edit.
    auto quarter = geo::quarter_start(geo::china_date());
    auto& t = tables_[{level, kind}];
    if (t.whole || t.quarter != quarter || t.where != where || t.signature.size() != data.orgs.size() ||
        where->size() != data.orgs.size()) {
        t.quarter = quarter;
        t.where = where;
        count_all(t, level, kind, data);
        write_body(t, level, kind);
    }
    return t;
}

std::string CoverageCache::table_json(geo::Level level, std::optional<geo::OrgKind> kind) {
    auto where = located(level);
    // The data first, then the cache's lock: the order of the editor's listener, which calls
    // changed() with the data read-locked.
    auto view = editor_.view();
    std::lock_guard lock(mutex_);
    return fresh(level, kind, view, where).body;
}

std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> CoverageCache::by_code(geo::Level level) {
    auto where = located(level);
    auto view = editor_.view();
    std::lock_guard lock(mutex_);
    auto& t = fresh(level, std::nullopt, view, where);
    if (!t.by_code) {
        auto rows = std::make_shared<std::unordered_map<std::string, geo::CoverageRow>>();
        for (const auto& r : t.rows) rows->emplace(r.code, r);
        t.by_code = std::move(rows);
    }
    return t.by_code;
}

}  // namespace covermap::api
