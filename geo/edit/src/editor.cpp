#include "covermap/geo/editor.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/text.hpp"

namespace covermap::geo {

using nlohmann::json;

json to_json(const Organization& o) {
    json j = {{"id", o.id},
              {"name", o.name},
              {"kind", std::string(to_string(o.kind))},
              {"credit_code", o.credit_code},
              {"industry", o.industry},
              {"employees", o.employees},
              {"party_members", o.party_members},
              {"status", std::string(to_string(o.status))},
              {"above_scale", o.above_scale},
              {"version", o.version},
              {"lon", o.location.x},
              {"lat", o.location.y}};
    j["branch_id"] = o.branch_id ? json(*o.branch_id) : json();
    j["instructor_id"] = o.instructor_id ? json(*o.instructor_id) : json();
    const Ledger& ledger = o.ledger();
    j["address"] = ledger.address;
    j["location_precision"] = ledger.location_precision.empty() ? "exact" : ledger.location_precision;
    j["ledger"] = {{"person_in_charge", ledger.person_in_charge},
                   {"phone", ledger.phone},
                   {"no_branch_reason", ledger.no_branch_reason},
                   {"measure", ledger.measure}};
    return j;
}

namespace {

// The assignment part of a record, as the audit keeps it for assignments and accepted plans.
std::string assignment_json(const Organization& o) {
    return dump_json(json{{"branch_id", o.branch_id ? json(*o.branch_id) : json()},
                          {"instructor_id", o.instructor_id ? json(*o.instructor_id) : json()},
                          {"version", o.version}});
}

Organization org_from_json(const json& j) {
    Organization o;
    o.id = j.at("id").get<std::string>();
    o.name = j.value("name", std::string());
    o.kind = parse_org_kind(j.value("kind", std::string("enterprise"))).value_or(OrgKind::enterprise);
    o.credit_code = j.value("credit_code", std::string());
    o.industry = j.value("industry", std::string());
    o.employees = j.value("employees", 0);
    o.party_members = j.value("party_members", 0);
    o.status = parse_org_status(j.value("status", std::string("operating"))).value_or(OrgStatus::operating);
    o.above_scale = j.value("above_scale", false);
    o.version = j.value("version", std::int64_t{1});
    o.location = {j.value("lon", 0.0), j.value("lat", 0.0)};
    if (j.contains("branch_id") && j["branch_id"].is_number_integer()) o.branch_id = j["branch_id"].get<std::int64_t>();
    if (j.contains("instructor_id") && j["instructor_id"].is_string())
        o.instructor_id = j["instructor_id"].get<std::string>();
    Ledger ledger;
    ledger.address = j.value("address", std::string());
    ledger.location_precision = j.value("location_precision", std::string());
    if (ledger.location_precision == "exact") ledger.location_precision.clear();
    if (j.contains("ledger") && j["ledger"].is_object()) {
        const auto& l = j["ledger"];
        ledger.person_in_charge = l.value("person_in_charge", std::string());
        ledger.phone = l.value("phone", std::string());
        ledger.no_branch_reason = l.value("no_branch_reason", std::string());
        ledger.measure = l.value("measure", std::string());
    }
    o.set_ledger(std::move(ledger));
    return o;
}

json branch_json(const Branch& b) {
    return {{"id", b.id},
            {"name", b.name},
            {"type", std::string(to_string(b.type))},
            {"members", b.members},
            {"org_ids", b.org_ids}};
}

Branch branch_from_json(const json& j) {
    Branch b;
    b.id = j.at("id").get<std::int64_t>();
    b.name = j.value("name", std::string());
    b.type = parse_branch_type(j.value("type", std::string("standalone"))).value_or(BranchType::standalone);
    b.members = j.value("members", 0);
    b.org_ids = j.value("org_ids", std::vector<std::string>());
    return b;
}

ChangeRow new_change(const std::string& kind, const std::string& who, std::string summary) {
    ChangeRow c;
    c.time = iso8601_utc_now();
    c.token_name = who;
    c.kind = kind;
    c.summary = std::move(summary);
    return c;
}

// One organization's change, before and after.
void record(ChangeRow& c, const Organization* before, const Organization* after) {
    auto add = [](std::string& arr, const json& v) {
        json a = json::parse(arr);
        a.push_back(v);
        arr = dump_json(a);
    };
    c.orgs.push_back(before ? before->id : after->id);
    add(c.orgs_before, before ? to_json(*before) : json());
    add(c.orgs_after, after ? to_json(*after) : json());
}

// Many organizations' changes at once (a JSON array built once, not re-parsed per row).
void record_all(ChangeRow& c, const std::vector<std::pair<const Organization*, const Organization*>>& pairs) {
    json before = json::array(), after = json::array();
    for (const auto& [b, a] : pairs) {
        c.orgs.push_back(b ? b->id : a->id);
        before.push_back(b ? to_json(*b) : json());
        after.push_back(a ? to_json(*a) : json());
    }
    c.orgs_before = dump_json(before);
    c.orgs_after = dump_json(after);
}

void check_version(const Organization& o, std::int64_t expected) {
    if (o.version != expected)
        throw edit_error(edit_error::Kind::stale, "version " + std::to_string(expected) +
                                                      " is stale; the organization is at version " +
                                                      std::to_string(o.version));
}

}  // namespace

const Organization* Editor::View::org(const Id& id) const {
    auto it = e_->org_index_.find(id);
    return it == e_->org_index_.end() ? nullptr : &e_->data_.orgs[it->second];
}

const Instructor* Editor::View::instructor(const Id& id) const {
    auto it = e_->instructor_index_.find(id);
    return it == e_->instructor_index_.end() ? nullptr : &e_->data_.instructors[it->second];
}

int Editor::View::load(const Id& instructor) const {
    auto it = e_->load_.find(instructor);
    return it == e_->load_.end() ? 0 : it->second;
}

void Editor::check_author(const View& v, const Author& who, const std::vector<const Organization*>& orgs,
                          bool assigns) const {
    if (!who.instructor.empty()) {
        if (assigns) throw edit_error(edit_error::Kind::out_of_scope, "指导员账号不能指派或取消指导员");
        for (const auto* o : orgs)
            if (o->instructor_id != who.instructor)
                throw edit_error(edit_error::Kind::out_of_scope, o->name + "不是本指导员联系的组织");
    }
    if (who.area.empty() || orgs.empty()) return;
    auto at = v.area(who.area);
    if (!at) throw edit_error(edit_error::Kind::out_of_area, "账号的区域" + who.area + "已不存在");
    const Area& area = v.data().areas[*at];
    std::vector<Point> points;
    points.reserve(orgs.size());
    for (const auto* o : orgs) points.push_back(o->location);
    auto hits = locate_points({&area.shape}, points);
    for (std::size_t k = 0; k < orgs.size(); ++k)
        if (hits[k] < 0)
            throw edit_error(edit_error::Kind::out_of_area, orgs[k]->name + "不在本账号的区域" + area.name + "内");
}

std::optional<std::size_t> Editor::View::area(const std::string& code) const {
    const auto& areas = e_->data_.areas;
    for (std::size_t i = 0; i < areas.size(); ++i)
        if (areas[i].code == code) return i;
    return std::nullopt;
}

bool Editor::View::has_branch(std::int64_t id) const {
    const auto& bs = e_->data_.branches;
    return std::any_of(bs.begin(), bs.end(), [&](const Branch& b) { return b.id == id; });
}

Editor::Editor(std::unique_ptr<Store> store) : store_(std::move(store)) {
    std::lock_guard writer(write_mutex_);
    load();
}

Editor::~Editor() = default;

void Editor::load() {
    auto d = store_->load();
    std::unique_lock lock(data_mutex_);
    data_ = std::move(d);
    area_bounds_.clear();
    for (const auto& a : data_.areas) area_bounds_.push_back(bounds(a.shape));
    org_index_.clear();
    instructor_index_.clear();
    load_.clear();
    for (std::size_t i = 0; i < data_.orgs.size(); ++i) {
        org_index_[data_.orgs[i].id] = i;
        if (data_.orgs[i].instructor_id) ++load_[*data_.orgs[i].instructor_id];
    }
    for (std::size_t j = 0; j < data_.instructors.size(); ++j) instructor_index_[data_.instructors[j].id] = j;
    next_branch_id_ = 1;
    for (const auto& b : data_.branches) next_branch_id_ = std::max(next_branch_id_, b.id + 1);
    ++version_;
    ++places_version_;
}

void Editor::notify(const Change& c) {
    if (!listener_) return;
    std::shared_lock lock(data_mutex_);
    listener_(c, data_);
}

std::pair<Dataset, std::uint64_t> Editor::snapshot() const {
    std::shared_lock lock(data_mutex_);
    return {data_, version_.load()};
}

std::unordered_map<Id, std::pair<Point, std::int64_t>> Editor::org_versions() const {
    std::shared_lock lock(data_mutex_);
    std::unordered_map<Id, std::pair<Point, std::int64_t>> was;
    for (const auto& o : data_.orgs) was[o.id] = {o.location, o.version};
    return was;
}

std::uint64_t Editor::places_signature() const {
    std::shared_lock lock(data_mutex_);
    // FNV-1a over what an import of areas or of instructors can change.
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&](const void* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<const unsigned char*>(p)[i]) * 1099511628211ULL;
    };
    auto text = [&](const std::string& t) { mix(t.data(), t.size() + 1); };  // with its end
    auto point = [&](const Point& pt) { mix(&pt.x, sizeof pt.x), mix(&pt.y, sizeof pt.y); };
    for (const auto& a : data_.areas) {
        text(a.code), text(a.name), text(a.parent_code);
        mix(&a.level, sizeof a.level);
        for (const auto& poly : a.shape) {
            for (const auto& pt : poly.exterior) point(pt);
            for (const auto& ring : poly.holes)
                for (const auto& pt : ring) point(pt);
        }
    }
    for (const auto& in : data_.instructors) {
        text(in.id), text(in.name), text(in.industries), text(in.unit);
        mix(&in.capacity, sizeof in.capacity);
        point(in.home);
    }
    return h;
}

std::vector<Point> Editor::touched_since(const std::unordered_map<Id, std::pair<Point, std::int64_t>>& was) const {
    std::shared_lock lock(data_mutex_);
    std::vector<Point> touched;
    for (const auto& o : data_.orgs) {
        auto it = was.find(o.id);
        if (it == was.end() || it->second.second != o.version) {
            touched.push_back(o.location);
            if (it != was.end()) touched.push_back(it->second.first);  // where it was
        }
    }
    return touched;
}

Edited Editor::set_instructor(const Id& org_id, const std::optional<Id>& instructor_id, std::int64_t expected,
                              const Author& who) {
    std::lock_guard writer(write_mutex_);  // one writer at a time in this process: check, store, memory
    Organization before;
    std::vector<CapacityCheck> checks;
    std::string summary;
    {
        auto v = view();
        auto* o = v.org(org_id);
        if (!o) throw edit_error(edit_error::Kind::not_found, "no organization " + org_id);
        check_author(v, who, {o}, true);
        before = *o;
        const Instructor* in = instructor_id ? v.instructor(*instructor_id) : nullptr;
        if (instructor_id && !in) throw edit_error(edit_error::Kind::not_found, "no instructor " + *instructor_id);
        check_version(before, expected);
        const Instructor* had = before.instructor_id ? v.instructor(*before.instructor_id) : nullptr;
        auto name = [](const Instructor* i, const std::optional<Id>& id) { return i ? i->name : id.value_or(""); };
        summary = in ? "指派指导员" + in->name + "联系" + before.name
                     : "取消" + before.name + "的指导员" + name(had, before.instructor_id);
        if (in && before.instructor_id != instructor_id) {
            int load = v.load(in->id);
            if (load >= in->capacity)
                throw edit_error(edit_error::Kind::over_capacity,
                                 in->name + " already covers " + std::to_string(load) + " organizations (capacity " +
                                     std::to_string(in->capacity) + ")");
            checks.push_back({in->id, in->capacity});
        }
    }
    Organization after = before;
    after.instructor_id = instructor_id;
    after.version = before.version + 1;
    AuditEntry audit{iso8601_utc_now(), who.name, instructor_id ? "assign_instructor" : "remove_instructor", org_id,
                     assignment_json(before), assignment_json(after)};
    auto change = new_change(instructor_id ? "assign" : "unassign", who.name, summary);
    record(change, &before, &after);
    // The store first: an acknowledged edit is committed before the answer. The version and the
    // capacity are checked again inside the store's transaction (another process may share it).
    try {
        store_->commit_changes({{org_id, after.branch_id, after.instructor_id, after.version, before.version}}, {},
                               {audit}, checks, &change);
    } catch (const conflict_error& e) {
        throw edit_error(e.kind == conflict_error::Kind::over_capacity ? edit_error::Kind::over_capacity
                                                                       : edit_error::Kind::stale,
                         e.what());
    }
    {
        std::unique_lock lock(data_mutex_);
        data_.orgs[org_index_.at(org_id)] = after;
        if (before.instructor_id) --load_[*before.instructor_id];
        if (after.instructor_id) ++load_[*after.instructor_id];
        ++version_;
    }
    Change c;
    c.id = change.id;
    c.org_ids = change.orgs;
    c.orgs.emplace_back(before, after);
    notify(c);  // store, memory, then the tiles it touched
    return {after, change.id};
}

namespace {

// A record with a correction applied, one version on. Throws edit_error (invalid) for a field
// that cannot be corrected or text that cannot be stored.
Organization corrected(const Organization& before, const Correction& c) {
    Organization after = before;
    if (c.status) after.status = *c.status;
    if (c.employees) after.employees = *c.employees;
    if (c.party_members) after.party_members = *c.party_members;
    if (c.branch_id) after.branch_id = *c.branch_id;
    for (const auto& [key, text] : c.ledger) {
        if (auto why = text_problem(key, text)) throw edit_error(edit_error::Kind::invalid, key + " is " + *why);
        Ledger& ledger = after.edit_ledger();
        std::string* field = key == "no_branch_reason"   ? &ledger.no_branch_reason
                             : key == "measure"          ? &ledger.measure
                             : key == "person_in_charge" ? &ledger.person_in_charge
                             : key == "phone"            ? &ledger.phone
                             : key == "address"          ? &ledger.address
                                                         : nullptr;
        if (!field) throw edit_error(edit_error::Kind::invalid, "field '" + key + "' cannot be corrected here");
        *field = text;
    }
    if (c.lon) after.location.x = *c.lon;
    if (c.lat) after.location.y = *c.lat;
    if (c.lon || c.lat) after.edit_ledger().location_precision = "exact";
    after.version = before.version + 1;
    return after;
}

void check_instructor_fields(const Author& who, const Correction& c) {
    if (!who.instructor.empty() && (c.status || c.branch_id || c.lon || c.lat))
        throw edit_error(edit_error::Kind::out_of_scope, "指导员账号只能修改台账（人员、党员、负责人、电话、地址、未建原因、措施）");
}

}  // namespace

Edited Editor::correct(const Id& org_id, const Correction& c, std::int64_t expected, const Author& who) {
    std::lock_guard writer(write_mutex_);
    Organization before;
    bool moved = c.lon || c.lat;
    {
        auto v = view();
        auto* o = v.org(org_id);
        if (!o) throw edit_error(edit_error::Kind::not_found, "no organization " + org_id);
        check_author(v, who, {o}, false);
        check_instructor_fields(who, c);
        before = *o;
        check_version(before, expected);
        if (c.branch_id && *c.branch_id && !v.has_branch(**c.branch_id))
            throw edit_error(edit_error::Kind::invalid, "branch_id must be null or the id of an existing branch");
    }
    Organization after = corrected(before, c);
    AuditEntry audit{iso8601_utc_now(), who.name, "correct_record", before.id, dump_json(to_json(before)),
                     dump_json(to_json(after))};
    auto record_change = new_change("correct", who.name, "修改" + before.name + "的记录");
    record(record_change, &before, &after);
    try {
        store_->update_org(after, before.version, audit, &record_change);
    } catch (const conflict_error& e) {
        throw edit_error(edit_error::Kind::stale, e.what());
    }
    {
        std::unique_lock lock(data_mutex_);
        data_.orgs[org_index_.at(after.id)] = after;
        ++version_;
        if (moved) ++places_version_;  // who lies in which area changes
    }
    Change change;
    change.id = record_change.id;
    change.org_ids = record_change.orgs;
    if (moved) {
        // A moved point changes which areas hold it: only what is around where it was and
        // where it is now is touched (with the areas it left and entered).
        change.scope = Change::Scope::places;
        change.places = {before.location, after.location};
    } else {
        change.orgs.emplace_back(before, after);
    }
    notify(change);
    return {after, record_change.id};
}

Visited Editor::record_visit(Visit visit, const std::optional<Correction>& fix, std::int64_t expected,
                             const Author& who) {
    if (!valid_date(visit.date)) throw edit_error(edit_error::Kind::invalid, "date must be a calendar day, YYYY-MM-DD");
    if (visit.date > china_date()) throw edit_error(edit_error::Kind::invalid, "走访日期不能晚于今天（北京时间）");
    if (visit.kind != "走访" && visit.kind != "电话" && visit.kind != "实地查看" && visit.kind != "蹲点")
        throw edit_error(edit_error::Kind::invalid, "kind must be 走访, 电话, 实地查看 or 蹲点");
    if (auto why = text_problem("note", visit.note)) throw edit_error(edit_error::Kind::invalid, "note is " + *why);
    if (visit.wuyou > kWuyouAll || visit.stars < 0 || visit.stars > 5)
        throw edit_error(edit_error::Kind::invalid, "stars are 1–5");
    std::lock_guard writer(write_mutex_);
    // Sent again (an answer lost on a bad line): the visit already kept, nothing written twice.
    if (!visit.visit_key.empty()) {
        VisitQuery same;
        same.org = visit.org;
        same.visit_key = visit.visit_key;
        for (const auto& kept : store_->visits(same))
            if (kept.by == who.name) {
                auto v = view();
                auto* o = v.org(visit.org);
                return {kept, o ? *o : Organization{}};
            }
    }
    Organization before;
    {
        auto v = view();
        auto* o = v.org(visit.org);
        if (!o) throw edit_error(edit_error::Kind::not_found, "no organization " + visit.org);
        check_author(v, who, {o}, false);
        if (fix) check_instructor_fields(who, *fix);
        if ((visit.wuyou >= 0 || visit.stars > 0) && !o->branch_id)
            throw edit_error(edit_error::Kind::invalid, o->name + "尚未建立党组织，不能记录五有和星级");
        before = *o;
        if (fix) check_version(before, expected);
    }
    std::optional<Organization> after;
    if (fix) after = corrected(before, *fix);
    visit.by = who.name;
    visit.instructor = who.instructor;
    visit.time = iso8601_utc_now();
    std::vector<AuditEntry> audit;
    if (after)
        audit.push_back({visit.time, who.name, "visit_correct", before.id, dump_json(to_json(before)),
                         dump_json(to_json(*after))});
    auto change = new_change("visit", who.name, visit.kind + before.name + (after ? "并修改台账" : ""));
    record(change, &before, after ? &*after : &before);
    try {
        store_->add_visit(visit, after ? &*after : nullptr, before.version, audit, change);
    } catch (const conflict_error& e) {
        throw edit_error(edit_error::Kind::stale, e.what());
    }
    {
        std::unique_lock lock(data_mutex_);
        if (after) data_.orgs[org_index_.at(after->id)] = *after;
        if (visit.ledger_confirmed) {
            auto& day = data_.ledger_verified[before.id];
            day = std::max(day, visit.date);
        }
        if (visit.wuyou >= 0)
            if (auto& check = data_.branch_checks[before.id]; visit.date >= check.date)
                check = {visit.date, visit.wuyou, visit.stars};
        ++version_;
    }
    Change c;
    c.id = change.id;
    c.org_ids = change.orgs;
    c.orgs.emplace_back(before, after.value_or(before));
    notify(c);
    return {visit, after.value_or(before)};
}

// Sites and contact points are rows of their own beside the organization they name: a change
// with that organization unchanged (the area's change log lists it; open pages hear of it).
namespace {

Change unchanged(const ChangeRow& row, const Organization& o) {
    Change c;
    c.id = row.id;
    c.org_ids = row.orgs;
    c.orgs.emplace_back(o, o);
    return c;
}

}  // namespace

Recorded Editor::add_site(Site site, const Author& who) {
    if (site.level != "county" && site.level != "city")
        throw edit_error(edit_error::Kind::invalid, "level must be county or city");
    if (site.year < 2000 || site.year > 2100) throw edit_error(edit_error::Kind::invalid, "year must be 2000–2100");
    std::lock_guard writer(write_mutex_);
    Organization org;
    {
        auto v = view();
        auto* o = v.org(site.org);
        if (!o) throw edit_error(edit_error::Kind::not_found, "no organization " + site.org);
        check_author(v, who, {o}, false);
        if (!o->branch_id) throw edit_error(edit_error::Kind::invalid, o->name + "尚未建立党组织，不能设为示范点");
        org = *o;
    }
    for (const auto& s : store_->sites())
        if (s.org == site.org && s.level == site.level && s.year == site.year)
            throw edit_error(edit_error::Kind::invalid, org.name + "已是" + std::to_string(site.year) + "年的示范点");
    site.since = china_date();
    site.by = who.name;
    auto change = new_change("site", who.name,
                             "设" + org.name + "为" + (site.level == "city" ? "市级" : "县级") + "党建工作示范点");
    record(change, &org, &org);
    store_->add_site(site, &change);
    ++version_;
    notify(unchanged(change, org));
    return {site.id, change.id};
}

std::int64_t Editor::remove_site(std::int64_t id, const Author& who) {
    std::lock_guard writer(write_mutex_);
    std::optional<Site> site;
    for (const auto& s : store_->sites())
        if (s.id == id) site = s;
    if (!site) throw edit_error(edit_error::Kind::not_found, "no site " + std::to_string(id));
    Organization org;
    {
        auto v = view();
        auto* o = v.org(site->org);
        if (o) check_author(v, who, {o}, false), org = *o;
        else org.id = site->org, org.name = site->org;
    }
    auto change = new_change("site_removed", who.name, "取消" + org.name + "的示范点");
    record(change, &org, &org);
    if (!store_->remove_site(id, change)) throw edit_error(edit_error::Kind::not_found, "no site " + std::to_string(id));
    ++version_;
    notify(unchanged(change, org));
    return change.id;
}

Recorded Editor::add_contact_point(ContactPoint point, const Author& who) {
    for (auto [name, text] : {std::pair{"leader", &point.leader}, std::pair{"post", &point.post},
                              std::pair{"liaison", &point.liaison}}) {
        if (auto why = text_problem(name, *text)) throw edit_error(edit_error::Kind::invalid, std::string(name) + " is " + *why);
    }
    if (point.leader.empty() || point.post.empty())
        throw edit_error(edit_error::Kind::invalid, "联系点须写明领导干部姓名和职务");
    std::lock_guard writer(write_mutex_);
    Organization org;
    {
        auto v = view();
        auto* o = v.org(point.org);
        if (!o) throw edit_error(edit_error::Kind::not_found, "no organization " + point.org);
        check_author(v, who, {o}, false);
        org = *o;
    }
    point.since = china_date();
    point.by = who.name;
    auto change = new_change("contact_point", who.name, point.post + point.leader + "联系" + org.name);
    record(change, &org, &org);
    store_->add_contact_point(point, &change);
    ++version_;
    notify(unchanged(change, org));
    return {point.id, change.id};
}

std::int64_t Editor::remove_contact_point(std::int64_t id, const Author& who) {
    std::lock_guard writer(write_mutex_);
    std::optional<ContactPoint> point;
    for (const auto& p : store_->contact_points())
        if (p.id == id) point = p;
    if (!point) throw edit_error(edit_error::Kind::not_found, "no contact point " + std::to_string(id));
    Organization org;
    {
        auto v = view();
        auto* o = v.org(point->org);
        if (o) check_author(v, who, {o}, false), org = *o;
        else org.id = point->org, org.name = point->org;
    }
    auto change = new_change("contact_point_removed", who.name, "取消" + point->leader + "的联系点" + org.name);
    record(change, &org, &org);
    if (!store_->remove_contact_point(id, change))
        throw edit_error(edit_error::Kind::not_found, "no contact point " + std::to_string(id));
    ++version_;
    notify(unchanged(change, org));
    return change.id;
}

Accepted Editor::accept(const std::vector<Proposal>& proposals, const Author& who, const std::string& action) {
    std::lock_guard writer(write_mutex_);
    Accepted result;
    std::vector<Branch> branches;
    std::vector<AuditEntry> audit;
    std::map<Id, Organization> changed;  // org id -> new state within this request
    std::map<Id, int> extra_load;
    std::map<Id, std::int64_t> read_version;  // the version each change was made from
    std::vector<CapacityCheck> checks;
    std::int64_t next_branch = next_branch_id_;
    {
        auto v = view();
        auto current = [&](const Id& id) -> const Organization* {
            if (auto c = changed.find(id); c != changed.end()) return &c->second;
            return v.org(id);
        };
        std::vector<const Organization*> all;  // the author may touch every one, or nothing is applied
        for (const auto& p : proposals)
            for (const auto& id : p.orgs)
                if (auto* o = v.org(id)) all.push_back(o);
        check_author(v, who, all, true);
        for (const auto& p : proposals) {
            // The rules as they hold now: each organization still there, operating, without a
            // branch (and without an instructor, for an instructor); enough members for a
            // branch; room with the instructor.
            std::vector<const Organization*> orgs;
            std::string reason;
            Id reason_org;
            for (const auto& id : p.orgs) {
                auto* o = current(id);
                std::string why;
                if (!o)
                    why = "组织" + id + "已不存在";
                else if (o->branch_id)
                    why = o->name + "已有党组织";
                else if (!o->operating())
                    why = o->name + "已停业或注销";
                else if (p.type == "instructor" && o->instructor_id)
                    why = o->name + "已有指导员";
                else if (p.type == "move" && o->instructor_id != p.from)
                    why = o->name + "的指导员已变更";
                else
                    orgs.push_back(o);
                if (!why.empty() && reason.empty()) reason = why, reason_org = id;
            }
            if (reason.empty() && orgs.empty()) reason = "建议中没有组织";
            bool assigns = p.type == "instructor" || p.type == "move";
            if (reason.empty() && assigns) {
                const Instructor* in = p.instructor_id ? v.instructor(*p.instructor_id) : nullptr;
                if (!in) {
                    reason = "指导员" + p.instructor_id.value_or("?") + "已不存在";
                } else {
                    int load = v.load(in->id) + extra_load[in->id];
                    if (load + static_cast<int>(orgs.size()) > in->capacity)
                        reason = "指导员已满：" + in->name + "只能再联系 " +
                                 std::to_string(std::max(0, in->capacity - load)) + " 家，建议 " +
                                 std::to_string(orgs.size()) + " 家";
                }
            }
            int members = 0;
            for (auto* o : orgs) members += o->party_members;
            if (reason.empty() && p.type == "joint" && members < 3)
                reason = "党员合计 " + std::to_string(members) + " 名，不足 3 名";
            if (reason.empty() && p.type == "standalone" && members < 3)
                reason = "党员不足 3 名";
            if (!reason.empty()) {
                result.conflicts.push_back({p.id, reason_org, reason});
                continue;
            }
            std::optional<std::int64_t> branch_id;
            if (!assigns) {
                Branch b;
                b.id = next_branch++;
                b.type = p.type == "standalone" ? BranchType::standalone
                         : p.type == "joint"    ? BranchType::joint
                                                : BranchType::affiliated;
                b.name = branch_name(b.type, orgs.front()->name, orgs.size());
                for (auto* o : orgs) {
                    b.org_ids.push_back(o->id);
                    b.members += o->party_members;
                }
                branch_id = b.id;
                branches.push_back(std::move(b));
            }
            for (auto* o : orgs) {
                Organization after = *o;
                if (branch_id) {
                    after.branch_id = branch_id;
                } else {
                    after.instructor_id = p.instructor_id;
                    ++extra_load[*p.instructor_id];
                    if (p.type == "move") --extra_load[*p.from];
                }
                if (!read_version.count(o->id)) read_version[o->id] = o->version;
                after.version = o->version + 1;
                audit.push_back(
                    {iso8601_utc_now(), who.name, action + " " + p.id, o->id, assignment_json(*o), assignment_json(after)});
                changed[o->id] = after;
            }
            result.applied.push_back(p.id);
        }
        for (const auto& [id, n] : extra_load)
            if (n > 0) checks.push_back({id, v.instructor(id)->capacity});
    }
    std::vector<OrgUpdate> updates;
    for (auto& [id, o] : changed) updates.push_back({id, o.branch_id, o.instructor_id, o.version, read_version[id]});
    std::string what;
    if (action.rfind("accept_plan ", 0) == 0)
        what = "采纳方案" + action.substr(12) + "的" + std::to_string(result.applied.size()) + "项建议：新建" +
               std::to_string(branches.size()) + "个党组织，涉及" + std::to_string(changed.size()) + "家组织";
    else
        what = "圈选指派：" + std::to_string(changed.size()) + "家组织指派指导员";
    auto change = new_change("accept", who.name, what);
    {
        auto v = view();
        std::vector<std::pair<const Organization*, const Organization*>> pairs;
        for (auto& [id, o] : changed) pairs.emplace_back(v.org(id), &o);
        record_all(change, pairs);
    }
    json made = json::array(), none = json::array();
    for (const auto& b : branches) made.push_back(branch_json(b)), none.push_back(nullptr);
    change.branches_before = dump_json(none);
    change.branches_after = dump_json(made);
    // One transaction; a conflict_error (another process changed the store since this one read
    // it) leaves everything as it was.
    if (!updates.empty()) store_->commit_changes(updates, branches, audit, checks, &change);
    if (updates.empty()) return result;
    result.change_id = change.id;
    Change c;
    {
        std::unique_lock lock(data_mutex_);
        for (auto& [id, o] : changed) {
            auto& mine = data_.orgs[org_index_.at(id)];
            c.orgs.emplace_back(mine, o);
            mine = o;
        }
        for (auto& [id, n] : extra_load) load_[id] += n;
        for (auto& b : branches) data_.branches.push_back(b);
        next_branch_id_ = next_branch;
        ++version_;
    }
    result.branches_created = branches.size();
    result.organizations_changed = changed.size();
    c.id = change.id;
    c.org_ids = change.orgs;
    c.branches = std::move(branches);
    notify(c);  // one pass over the tile cache for the whole plan
    return result;
}

ImportReport Editor::import(const ImportParams& p, const std::string& who) {
    ImportReport read;
    Dataset incoming = read_source(p, read);
    auto [existing, from] = snapshot();
    auto prepared = prepare_import(existing, p.dry_run ? std::move(incoming) : incoming, read, p, who);
    if (p.dry_run) return std::move(prepared.report);
    std::lock_guard writer(write_mutex_);
    if (version_ != from) {  // an edit came while it was prepared: compare again
        existing = snapshot().first;
        prepared = prepare_import(existing, std::move(incoming), read, p, who);
    }
    // What the organizations were, to tell what the import touches.
    std::unordered_map<Id, std::pair<Point, std::int64_t>> was;
    if (p.kind == ImportKind::orgs) was = org_versions();
    const auto& counts = prepared.report.total;
    auto change = p.kind == ImportKind::orgs
                      ? new_change("import_orgs", who,
                                   "导入组织：新增" + std::to_string(counts.added) + "家，更新" +
                                       std::to_string(counts.updated) + "家，注销" +
                                       std::to_string(counts.deregistered) + "家")
                  : p.kind == ImportKind::areas
                      ? new_change("import_areas", who,
                                   "导入区域" + std::to_string(prepared.incoming.areas.size()) + "个")
                      : new_change("import_instructors", who,
                                   "导入指导员" + std::to_string(prepared.incoming.instructors.size()) + "名");
    if (p.kind == ImportKind::orgs) {
        // The organizations it adds or changes (a change bumps the version), before and after.
        auto v = view();
        std::vector<std::pair<const Organization*, const Organization*>> pairs;
        for (const auto& o : prepared.orgs) {
            const Organization* old = v.org(o.id);
            if (!old || old->version != o.version) pairs.emplace_back(old, &o);
        }
        record_all(change, pairs);
    }
    commit_import(*store_, prepared, p, &change);
    if (!prepared.report.written) return std::move(prepared.report);
    load();
    Change c;
    c.id = change.id;
    c.org_ids = change.orgs;
    if (p.kind == ImportKind::orgs) {
        // Only what is near a change: added, updated or deregistered organizations.
        c.scope = Change::Scope::places;
        c.places = touched_since(was);
    } else {
        c.scope = Change::Scope::everything;
    }
    notify(c);
    return std::move(prepared.report);
}

void Editor::apply_remote(const std::vector<Id>& ids, bool everything, std::int64_t change_id) {
    if (!remote_store_) remote_store_ = std::make_unique<Store>(Store::open_existing(store_->uri()));
    std::vector<Organization> changed;
    std::set<Id> confirmed;  // ledgers another process's visit confirmed
    if (!everything) {
        changed = remote_store_->orgs(ids);
        // Another process's visit may have confirmed a ledger (the record itself unchanged).
        auto verified = remote_store_->ledger_verified(&ids);
        auto checks = remote_store_->branch_checks(&ids);
        std::lock_guard writer(write_mutex_);
        std::unique_lock lock(data_mutex_);
        for (auto& [id, day] : verified)
            if (auto& mine = data_.ledger_verified[id]; mine < day) mine = day, ++version_, confirmed.insert(id);
        for (auto& [id, check] : checks)
            if (auto& mine = data_.branch_checks[id]; mine.date < check.date) mine = check, ++version_;
    }
    if (!everything) {
        auto v = view();
        for (const auto& o : changed)  // a new organization or a branch this process has not seen
            if (!v.org(o.id) || (o.branch_id && !v.has_branch(*o.branch_id))) everything = true;
    }
    std::lock_guard writer(write_mutex_);
    if (everything) {
        auto was = org_versions();
        auto places_were = places_signature();
        load();
        Change c;
        c.id = change_id;
        c.org_ids = ids;
        // Another process imported areas or instructors: everything is drawn again, as after
        // an import here; else only what is near the organizations that changed.
        c.scope = places_signature() == places_were ? Change::Scope::places : Change::Scope::everything;
        c.places = touched_since(was);
        c.branches = view().data().branches;
        notify(c);
        return;
    }
    Change c;
    c.id = change_id;
    c.org_ids = ids;
    std::vector<Point> moved;
    {
        std::unique_lock lock(data_mutex_);
        for (const auto& after : changed) {
            auto& mine = data_.orgs[org_index_.at(after.id)];
            if (mine.version >= after.version) {
                // Already here; a confirmed ledger still reaches the listener (the ledger-due tiles).
                if (confirmed.count(after.id)) c.orgs.emplace_back(mine, mine);
                continue;
            }
            if (mine.location.x != after.location.x || mine.location.y != after.location.y) {
                moved.push_back(mine.location);
                moved.push_back(after.location);
            }
            c.orgs.emplace_back(mine, after);
            if (mine.instructor_id) --load_[*mine.instructor_id];
            if (after.instructor_id) ++load_[*after.instructor_id];
            mine = after;
        }
        if (c.orgs.empty()) return;
        ++version_;
        if (!moved.empty()) ++places_version_;
    }
    if (!moved.empty()) {
        c.scope = Change::Scope::places;
        c.places = std::move(moved);
        for (const auto& [before, after] : c.orgs) c.places.push_back(after.location);
        c.orgs.clear();
    }
    notify(c);
}

std::vector<ChangeRow> Editor::changes(std::size_t limit) {
    return with_store([&](Store& store) { return store.changes(limit); });
}

Reverted Editor::revert(std::int64_t id, const Author& who) {
    std::lock_guard writer(write_mutex_);
    auto row = store_->change(id);
    if (!row) throw edit_error(edit_error::Kind::not_found, "no change " + std::to_string(id));
    if (row->reverted_by)
        throw edit_error(edit_error::Kind::invalid, "变更#" + std::to_string(id) + "已被变更#" +
                                                        std::to_string(*row->reverted_by) + "撤销");
    if (row->kind == "import_areas" || row->kind == "import_instructors")
        throw edit_error(edit_error::Kind::invalid, "导入的区域和指导员不能撤销");
    if (row->kind == "visit") throw edit_error(edit_error::Kind::invalid, "走访记录不能撤销；台账可再次修改");
    if (row->kind == "site" || row->kind == "site_removed" || row->kind == "contact_point" ||
        row->kind == "contact_point_removed")
        throw edit_error(edit_error::Kind::invalid, "示范点和联系点的变更不能撤销；可再次设定或取消");
    auto parse = [](const std::string& text) {
        auto j = json::parse(text, nullptr, false);
        return j.is_array() ? j : json::array();
    };
    json before = parse(row->orgs_before), after = parse(row->orgs_after);
    json branches_before = parse(row->branches_before), branches_after = parse(row->branches_after);
    Reverted out;
    std::vector<std::pair<Organization, std::int64_t>> put;
    std::vector<std::pair<Id, std::int64_t>> gone;
    std::vector<Branch> branches_put;
    std::vector<std::int64_t> branches_gone;
    std::vector<CapacityCheck> checks;
    std::vector<AuditEntry> audit;
    auto change = new_change("revert", who.name, "撤销：" + row->summary);
    change.reverts = id;
    std::vector<std::pair<Organization, Organization>> pairs;  // now, after the revert (both present)
    std::vector<Point> places;
    bool reshaped = false;  // organizations or branches appear or go: memory is read again
    {
        auto v = view();
        std::set<std::int64_t> restoring;  // branches the revert brings back
        for (std::size_t k = 0; k < branches_before.size() && k < branches_after.size(); ++k) {
            const json &b = branches_before[k], &a = branches_after[k];
            if (!b.is_null()) {
                branches_put.push_back(branch_from_json(b));
                restoring.insert(branches_put.back().id);
            } else if (!a.is_null()) {
                branches_gone.push_back(a.at("id").get<std::int64_t>());
            }
        }
        std::set<Id> touched(row->orgs.begin(), row->orgs.end());
        std::vector<const Organization*> present;  // a limited author reverts inside its area only
        for (const auto& oid : touched)
            if (auto* o = v.org(oid)) present.push_back(o);
        check_author(v, who, present, false);
        // A branch the revert removes must hold no organization but those it puts back.
        for (auto bid : branches_gone)
            for (const auto& o : v.data().orgs)
                if (o.branch_id == bid && !touched.count(o.id))
                    out.conflicts.emplace_back(o.id, "党组织已有其他组织加入");
        std::map<Id, int> extra;
        std::map<Id, int> capacity;
        json now_records = json::array(), then_records = json::array();
        for (std::size_t k = 0; k < before.size() && k < after.size(); ++k) {
            const json &b = before[k], &a = after[k];
            Id oid = !a.is_null() ? a.at("id").get<std::string>() : b.at("id").get<std::string>();
            const Organization* cur = v.org(oid);
            if (!a.is_null() && !cur) {
                out.conflicts.emplace_back(oid, "组织已删除");
                continue;
            }
            if (!a.is_null() && cur->version != a.value("version", std::int64_t{-1})) {
                out.conflicts.emplace_back(oid, "组织已变更");
                continue;
            }
            if (a.is_null() && cur) {
                out.conflicts.emplace_back(oid, "组织已存在");
                continue;
            }
            if (b.is_null()) {  // it came with the change: it goes
                gone.emplace_back(oid, cur->version);
                places.push_back(cur->location);
                audit.push_back({iso8601_utc_now(), who.name, "revert " + std::to_string(id), oid, dump_json(to_json(*cur)),
                                 "null"});
                now_records.push_back(to_json(*cur));
                then_records.push_back(nullptr);
                reshaped = true;
                continue;
            }
            Organization o = org_from_json(b);
            o.version = (cur ? cur->version : o.version) + 1;
            if (o.instructor_id && (!cur || cur->instructor_id != o.instructor_id)) {
                const Instructor* in = v.instructor(*o.instructor_id);
                if (!in) {
                    out.conflicts.emplace_back(oid, "指导员已不存在");
                    continue;
                }
                if (v.load(in->id) + extra[in->id] >= in->capacity) {
                    out.conflicts.emplace_back(oid, "指导员已满");
                    continue;
                }
                ++extra[in->id];
                capacity[in->id] = in->capacity;
            }
            if (o.branch_id && !v.has_branch(*o.branch_id) && !restoring.count(*o.branch_id)) {
                out.conflicts.emplace_back(oid, "党组织已不存在");
                continue;
            }
            put.emplace_back(o, cur ? cur->version : 0);
            audit.push_back({iso8601_utc_now(), who.name, "revert " + std::to_string(id), oid,
                             cur ? dump_json(to_json(*cur)) : "null", dump_json(to_json(o))});
            now_records.push_back(cur ? to_json(*cur) : json());
            then_records.push_back(to_json(o));
            if (cur) {
                pairs.emplace_back(*cur, o);
                if (cur->location.x != o.location.x || cur->location.y != o.location.y) {
                    places.push_back(cur->location);
                    places.push_back(o.location);
                }
            } else {
                places.push_back(o.location);
                reshaped = true;
            }
            change.orgs.push_back(oid);
        }
        for (const auto& [oid, expected] : gone) change.orgs.push_back(oid);
        change.orgs_before = dump_json(now_records);
        change.orgs_after = dump_json(then_records);
        change.branches_before = dump_json(branches_after);
        change.branches_after = dump_json(branches_before);
        for (const auto& [iid, cap] : capacity) checks.push_back({iid, cap});
    }
    if (!out.conflicts.empty()) return out;
    try {
        store_->apply_records(put, gone, branches_put, branches_gone, audit, checks, change);
    } catch (const conflict_error& e) {
        // Another process changed what the revert reads meanwhile: nothing was written.
        out.conflicts.emplace_back("", e.kind == conflict_error::Kind::over_capacity ? "指导员已满" : "组织已变更");
        return out;
    }
    out.change_id = change.id;
    reshaped = reshaped || !branches_put.empty() || !branches_gone.empty();
    Change c;
    c.id = change.id;
    c.org_ids = change.orgs;
    if (reshaped) {
        load();
        c.scope = Change::Scope::places;
        for (const auto& [now, then] : pairs) places.push_back(now.location), places.push_back(then.location);
        c.places = std::move(places);
        c.branches = branches_put;
        notify(c);
        return out;
    }
    {
        std::unique_lock lock(data_mutex_);
        for (const auto& [now, then] : pairs) {
            data_.orgs[org_index_.at(now.id)] = then;
            if (now.instructor_id) --load_[*now.instructor_id];
            if (then.instructor_id) ++load_[*then.instructor_id];
        }
        ++version_;
        if (!places.empty()) ++places_version_;
    }
    if (!places.empty()) {
        c.scope = Change::Scope::places;
        c.places = std::move(places);
    } else {
        c.orgs = std::move(pairs);
    }
    notify(c);
    return out;
}

}  // namespace covermap::geo
