// Plans: running the planner, the plans kept, accepting proposals.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "covermap/api/app.hpp"
#include "covermap/api/geojson.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/export.hpp"
#include "covermap/geo/import.hpp"
#include "covermap/geo/planner.hpp"
#include "covermap/geo/text.hpp"
#include "route_support.hpp"

namespace covermap::api {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace detail;
using geo::iso8601_utc_now;

Response App::post_plan(const Request& req, const Token& who, const std::vector<std::string>&) {
    geo::PlanParams p;
    if (!req.body.empty()) {
        std::string why;
        auto body = parse_json(req.body, why);
        if (!body || !body->is_object())
            return error_response(400, "InvalidJson", body ? "body must be an object" : why);
        if (body->contains("level")) {
            auto lv =
                (*body)["level"].is_string() ? geo::parse_level((*body)["level"].get<std::string>()) : std::nullopt;
            if (!lv || *lv == geo::Level::park || *lv == geo::Level::district)
                return error_response(400, "InvalidValue", "level must be grid, community or street");
            p.level = *lv;
        }
        if (body->contains("cost")) {
            auto c = (*body)["cost"];
            if (c == "distance")
                p.cost = geo::CostMode::distance;
            else if (c == "planning")
                p.cost = geo::CostMode::planning;
            else
                return error_response(400, "InvalidValue", "cost must be distance or planning");
        }
    }
    json j;
    {
        std::shared_lock lock(data_mutex_);
        j = geo::to_json(geo::make_plan(data_, p));
        // Proposals name their organizations and places, so a page can list and draw them.
        long operating = 0, branch = 0, work = 0, add_branch = 0, add_work = 0;
        for (const auto& o : data_.orgs)
            if (o.operating()) {
                ++operating;
                branch += o.branch_id ? 1 : 0;
                work += o.branch_id || o.instructor_id ? 1 : 0;
            }
        for (auto& pr : j["proposals"]) {
            json places = json::array();
            for (const auto& oid : pr["orgs"])
                if (auto it = org_index_.find(oid.get<std::string>()); it != org_index_.end()) {
                    const auto& o = data_.orgs[it->second];
                    places.push_back({{"id", o.id}, {"name", o.name}, {"lon", o.location.x}, {"lat", o.location.y}});
                    bool had_work = o.branch_id || o.instructor_id;
                    if (pr["type"] != "instructor") ++add_branch;
                    if (!had_work) ++add_work;
                }
            pr["places"] = places;
            if (pr.contains("instructor_id"))
                if (auto it = instructor_index_.find(pr["instructor_id"].get<std::string>());
                    it != instructor_index_.end()) {
                    const auto& in = data_.instructors[it->second];
                    pr["instructor"] = {{"name", in.name}, {"lon", in.home.x}, {"lat", in.home.y}};
                }
        }
        auto rate = [&](long n) { return operating ? double(n) / operating : 0.0; };
        j["reach"] = {{"operating", operating},
                      {"org_coverage_now", rate(branch)},
                      {"org_coverage_after", rate(branch + add_branch)},
                      {"work_coverage_now", rate(work)},
                      {"work_coverage_after", rate(work + add_work)}};
    }
    metrics_.planner_run();
    std::string id;
    {
        std::lock_guard lock(plans_mutex_);
        id = "plan-" + std::to_string(next_plan_++);
    }
    j["id"] = id;
    j["status"] = "open";
    {
        std::lock_guard writer(write_mutex_);
        store_->save_plan({id, id, iso8601_utc_now(), who.name, "open", dump_json(j)});
        prune_plans();
    }
    remember_plan(id, j);
    return json_response(j, 201);
}

void App::prune_plans() {
    auto rows = store_->plans("", false);
    // ISO 8601 UTC times compare as text.
    auto cutoff = geo::iso8601_utc(std::chrono::system_clock::now() - std::chrono::hours(24) * options_.plan_max_age_days);
    std::vector<std::string> gone;
    std::vector<const geo::PlanRow*> open;
    for (const auto& r : rows) {
        if (r.status != "open") continue;  // something of it was accepted: kept, it is history
        if (r.created < cutoff)
            gone.push_back(r.id);
        else
            open.push_back(&r);
    }
    // Oldest first: by time, then by number (plans made within one second share their time;
    // a PostGIS table returns rows in no set order).
    auto number = [](const std::string& id) { return id.rfind("plan-", 0) == 0 ? std::atol(id.c_str() + 5) : 0L; };
    std::sort(open.begin(), open.end(), [&](const geo::PlanRow* a, const geo::PlanRow* b) {
        return a->created != b->created ? a->created < b->created : number(a->id) < number(b->id);
    });
    std::size_t keep = std::max<std::size_t>(1, options_.plan_max_open);
    for (std::size_t i = 0; i + keep < open.size(); ++i) gone.push_back(open[i]->id);
    if (gone.empty()) return;
    store_->delete_plans(gone);
    std::lock_guard lock(plans_mutex_);
    for (const auto& id : gone) {
        plans_.erase(id);
        plan_order_.erase(std::remove(plan_order_.begin(), plan_order_.end(), id), plan_order_.end());
    }
}

Response App::delete_plan(const Request&, const Token& who, const std::vector<std::string>& args) {
    std::lock_guard writer(write_mutex_);
    auto rows = store_->plans(args[0], false);
    if (rows.empty()) return error_response(404, "NotFound", "no plan " + args[0]);
    if (rows.front().token_name != who.name && who.role != Role::admin)
        return error_response(403, "Forbidden", "only the plan's author or an admin may delete it");
    store_->delete_plans({args[0]});
    {
        std::lock_guard lock(plans_mutex_);
        plans_.erase(args[0]);
        plan_order_.erase(std::remove(plan_order_.begin(), plan_order_.end(), args[0]), plan_order_.end());
    }
    Response r;
    r.status = 204;
    return r;
}

void App::remember_plan(const std::string& id, const json& plan) {
    std::lock_guard lock(plans_mutex_);
    if (!plans_.count(id)) plan_order_.push_back(id);
    plans_[id] = plan;
    while (plan_order_.size() > options_.plans_in_memory) {
        plans_.erase(plan_order_.front());
        plan_order_.erase(plan_order_.begin());
    }
}

std::optional<json> App::find_plan(const std::string& id) {
    {
        std::lock_guard lock(plans_mutex_);
        if (auto it = plans_.find(id); it != plans_.end()) return it->second;
    }
    std::vector<geo::PlanRow> rows;
    {
        std::lock_guard writer(write_mutex_);
        rows = store_->plans(id);
    }
    if (rows.empty()) return std::nullopt;
    auto plan = json::parse(rows.front().body, nullptr, false);
    if (plan.is_discarded()) return std::nullopt;
    remember_plan(id, plan);
    return plan;
}

Response App::get_plan(const Request&, const Token&, const std::vector<std::string>& args) {
    auto plan = find_plan(args[0]);
    if (!plan) return error_response(404, "NotFound", "no plan " + args[0]);
    return json_response(*plan);
}

Response App::accept_plan(const Request& req, const Token& who, const std::vector<std::string>& args) {
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object() || !(*body)["proposals"].is_array())
        return error_response(400, "InvalidValue", "body must be {\"proposals\": [ids]}");
    auto found = find_plan(args[0]);
    if (!found) return error_response(404, "NotFound", "no plan " + args[0]);
    json plan = std::move(*found);
    std::map<std::string, json> by_id;
    for (const auto& p : plan["proposals"]) by_id[p["id"].get<std::string>()] = p;

    std::lock_guard writer(write_mutex_);
    std::vector<geo::OrgUpdate> updates;
    std::vector<geo::Branch> branches;
    std::vector<geo::AuditEntry> audit;
    json applied = json::array(), conflicts = json::array();
    std::map<geo::Id, geo::Organization> changed;  // org id -> new state within this request
    std::map<geo::Id, int> extra_load;
    std::map<geo::Id, std::int64_t> read_version;  // the version each change was made from
    std::int64_t next_branch = next_branch_id_;
    {
        std::shared_lock lock(data_mutex_);
        auto current = [&](const geo::Id& id) -> const geo::Organization* {
            if (auto c = changed.find(id); c != changed.end()) return &c->second;
            auto it = org_index_.find(id);
            return it == org_index_.end() ? nullptr : &data_.orgs[it->second];
        };
        for (const auto& pid : (*body)["proposals"]) {
            if (!pid.is_string() || !by_id.count(pid.get<std::string>())) {
                conflicts.push_back({{"id", pid}, {"reason", "no such proposal in this plan"}});
                continue;
            }
            const auto& p = by_id[pid.get<std::string>()];
            std::string type = p["type"];
            std::vector<const geo::Organization*> orgs;
            std::string reason;
            for (const auto& oid : p["orgs"]) {
                geo::Id id = oid.is_string() ? oid.get<std::string>() : oid.dump();
                auto* o = current(id);
                if (!o)
                    reason = "organization " + id + " no longer exists";
                else if (o->branch_id)
                    reason = "organization " + o->id + " has a branch now";
                else if (!o->operating())
                    reason = "organization " + o->id + " is not operating";
                else if (type == "instructor" && o->instructor_id)
                    reason = "organization " + o->id + " has an instructor now";
                else
                    orgs.push_back(o);
            }
            if (reason.empty() && type == "instructor") {
                geo::Id jid =
                    p["instructor_id"].is_string() ? p["instructor_id"].get<std::string>() : p["instructor_id"].dump();
                auto it = instructor_index_.find(jid);
                if (it == instructor_index_.end())
                    reason = "instructor " + jid + " no longer exists";
                else {
                    const auto& in = data_.instructors[it->second];
                    int load = (load_.count(jid) ? load_.at(jid) : 0) + extra_load[jid];
                    if (load + static_cast<int>(orgs.size()) > in.capacity)
                        reason = in.name + " has room for " + std::to_string(std::max(0, in.capacity - load)) +
                                 " more, not " + std::to_string(orgs.size());
                }
            }
            if (reason.empty() && type == "joint") {
                int members = 0;
                for (auto* o : orgs) members += o->party_members;
                if (members < 3)
                    reason = "the organizations have " + std::to_string(members) + " members now, fewer than 3";
            }
            if (reason.empty() && type == "standalone" && orgs.size() == 1 && orgs[0]->party_members < 3)
                reason = "the organization has fewer than 3 members now";
            if (!reason.empty()) {
                conflicts.push_back({{"id", pid}, {"reason", reason}});
                continue;
            }
            std::optional<std::int64_t> branch_id;
            if (type != "instructor") {
                geo::Branch b;
                b.id = next_branch++;
                b.type = type == "standalone" ? geo::BranchType::standalone
                         : type == "joint"    ? geo::BranchType::joint
                                              : geo::BranchType::affiliated;
                std::string first = orgs.front()->name;
                b.name = type == "standalone" ? first + "党支部"
                         : type == "joint"    ? first + "等联合党支部"
                                           : first + "（挂靠" + p.value("area", std::string()) + "社区党组织）";
                for (auto* o : orgs) {
                    b.org_ids.push_back(o->id);
                    b.members += o->party_members;
                }
                branch_id = b.id;
                branches.push_back(std::move(b));
            }
            for (auto* o : orgs) {
                geo::Organization after = *o;
                if (branch_id)
                    after.branch_id = branch_id;
                else {
                    after.instructor_id = p["instructor_id"].is_string() ? p["instructor_id"].get<std::string>()
                                                                         : p["instructor_id"].dump();
                    ++extra_load[*after.instructor_id];
                }
                if (!read_version.count(o->id)) read_version[o->id] = o->version;
                after.version = o->version + 1;
                audit.push_back({iso8601_utc_now(), who.name, "accept_plan " + args[0] + " " + pid.get<std::string>(),
                                 o->id,
                                 json{{"branch_id", o->branch_id ? json(*o->branch_id) : json()},
                                      {"instructor_id", o->instructor_id ? json(*o->instructor_id) : json()},
                                      {"version", o->version}}
                                     .dump(-1, ' ', false, json::error_handler_t::replace),
                                 json{{"branch_id", after.branch_id ? json(*after.branch_id) : json()},
                                      {"instructor_id", after.instructor_id ? json(*after.instructor_id) : json()},
                                      {"version", after.version}}
                                     .dump(-1, ' ', false, json::error_handler_t::replace)});
                changed[o->id] = after;
            }
            applied.push_back(pid);
        }
    }
    for (auto& [id, o] : changed) updates.push_back({id, o.branch_id, o.instructor_id, o.version, read_version[id]});
    std::vector<geo::CapacityCheck> checks;
    {
        std::shared_lock lock(data_mutex_);
        for (const auto& [jid, n] : extra_load)
            checks.push_back({jid, data_.instructors[instructor_index_.at(jid)].capacity});
    }
    try {
        if (!updates.empty()) store_->commit_changes(updates, branches, audit, checks);  // one transaction
    } catch (const geo::conflict_error& e) {
        // Another process changed the store since this one read it: nothing was applied.
        return error_response(409, "Conflict", std::string(e.what()) + "; nothing was applied, run the plan again");
    }
    std::vector<std::pair<geo::Organization, geo::Organization>> moved;
    {
        std::unique_lock lock(data_mutex_);
        for (auto& [id, o] : changed) {
            moved.emplace_back(data_.orgs[org_index_.at(id)], o);
            data_.orgs[org_index_.at(id)] = o;
        }
        for (auto& [jid, n] : extra_load) load_[jid] += n;
        for (auto& b : branches) data_.branches.push_back(b);
        next_branch_id_ = next_branch;
        ++data_version_;
    }
    for (const auto& b : branches) tiles_->add_branch(b.id, b.type);
    tiles_->update(moved);  // one pass over the tile cache for the whole plan
    if (!applied.empty()) {
        // The plan's status says what became of it: which proposals were applied, by whom.
        auto rows = store_->plans(args[0]);
        if (!rows.empty()) {
            auto row = rows.front();
            json body = json::parse(row.body, nullptr, false);
            if (!body.is_discarded()) {
                json& done = body["accepted"];
                if (!done.is_array()) done = json::array();
                for (const auto& id : applied) done.push_back(id);
                row.status = "accepted " + std::to_string(done.size()) + "/" + std::to_string(by_id.size());
                body["status"] = row.status;
                row.body = dump_json(body);
                store_->save_plan(row);
                remember_plan(args[0], body);
            }
        }
    }
    return json_response({{"plan", args[0]},
                          {"applied", applied},
                          {"conflicts", conflicts},
                          {"branches_created", branches.size()},
                          {"organizations_changed", changed.size()}});
}

}  // namespace covermap::api
