// Plans over HTTP: make, list, read, accept, delete.
#include "plan_routes.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/editor.hpp"
#include "covermap/geo/planner.hpp"
#include "covermap/geo/text.hpp"
#include "covermap/geo/workload.hpp"
#include "org_routes.hpp"
#include "route_support.hpp"
#include "workload_routes.hpp"

namespace covermap::api {

using nlohmann::json;
using namespace detail;

namespace {

// A stored plan's proposals as the editing service takes them.
std::vector<geo::Proposal> proposals_of(const json& plan) {
    auto text = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    std::vector<geo::Proposal> out;
    if (!plan.contains("proposals") || !plan["proposals"].is_array()) return out;
    for (const auto& p : plan["proposals"]) {
        geo::Proposal proposal;
        proposal.id = text(p["id"]);
        proposal.type = p.value("type", std::string());
        if (p.contains("orgs") && p["orgs"].is_array())
            for (const auto& oid : p["orgs"]) proposal.orgs.push_back(text(oid));
        if (p.contains("instructor_id") && !p["instructor_id"].is_null()) proposal.instructor_id = text(p["instructor_id"]);
        if (p.contains("from") && p["from"].is_string()) proposal.from = p["from"].get<std::string>();
        proposal.area = p.value("area", std::string());
        out.push_back(std::move(proposal));
    }
    return out;
}

}  // namespace

Plans::Plans(Context& context) : context_(context) {
    context_.editor.with_store([&](geo::Store& store) {
        for (const auto& plan : store.plans("", false))
            if (plan.id.rfind("plan-", 0) == 0) next_ = std::max(next_, std::atoi(plan.id.c_str() + 5) + 1);
    });
}

void Plans::add_routes(Router& router) {
    router.add("POST", "/api/plan", Role::planner, this, &Plans::make);
    router.add("GET", "/api/plans", Role::viewer, this, &Plans::list);
    router.add("GET", "/api/plan/{}", Role::viewer, this, &Plans::get);
    router.add("POST", "/api/plan/{}/accept", Role::planner, this, &Plans::accept);
    router.add("GET", "/api/plan/{}/compare/{}", Role::viewer, this, &Plans::compare);
    router.add("DELETE", "/api/plan/{}", Role::planner, this, &Plans::remove);
}

Response Plans::make(const Request& req, const Caller& who, const Args&) {
    geo::PlanParams p;
    if (!req.body.empty()) {
        std::string why;
        auto body = parse_json(req.body, why);
        if (!body || !body->is_object())
            return error_response(400, "InvalidJson", body ? "body must be an object" : why);
        if (body->contains("mode")) {
            const auto& mode = (*body)["mode"];
            if (mode == "rebalance") return rebalance(*body, who);
            if (mode != "plan") return error_response(400, "InvalidValue", "mode must be plan or rebalance");
        }
        if (body->contains("level")) {
            auto lv =
                (*body)["level"].is_string() ? geo::parse_level((*body)["level"].get<std::string>()) : std::nullopt;
            if (!lv || *lv == geo::Level::park || *lv == geo::Level::district)
                return error_response(400, "InvalidValue", "level must be grid, community or street");
            p.level = *lv;
        }
        if (body->contains("area")) {
            // A plan for one district, street or park: the proposals touch only its organizations.
            const auto& a = (*body)["area"];
            if (!a.is_string() || a.get<std::string>().empty() || a.get<std::string>().size() > 64)
                return error_response(400, "InvalidValue", "area must be the code of a district, street or park");
            p.area = a.get<std::string>();
            if (!context_.editor.view().area(p.area)) return error_response(404, "NotFound", "no area " + p.area);
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
        auto view = context_.editor.view();
        const auto& data = view.data();
        j = geo::to_json(geo::make_plan(data, p));
        // Proposals name their organizations and places, so a page can list and draw them.
        long operating = 0, branch = 0, work = 0, add_branch = 0, add_work = 0;
        for (const auto& o : data.orgs)
            if (o.operating()) {
                ++operating;
                branch += o.branch_id ? 1 : 0;
                work += o.branch_id || o.instructor_id ? 1 : 0;
            }
        for (auto& pr : j["proposals"]) {
            json places = json::array();
            for (const auto& oid : pr["orgs"])
                if (const auto* org = view.org(oid.get<std::string>())) {
                    const auto& o = *org;
                    places.push_back({{"id", o.id}, {"name", o.name}, {"lon", o.location.x}, {"lat", o.location.y}});
                    bool had_work = o.branch_id || o.instructor_id;
                    if (pr["type"] != "instructor") ++add_branch;
                    if (!had_work) ++add_work;
                }
            pr["places"] = places;
            if (pr.contains("instructor_id"))
                if (const auto* instructor = view.instructor(pr["instructor_id"].get<std::string>())) {
                    const auto& in = *instructor;
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
    context_.metrics.planner_run();
    if (!p.area.empty()) j["area"] = p.area;
    return json_response(keep_new(j, who), 201);
}

const json& Plans::keep_new(json& j, const Caller& who) {
    std::string id;
    {
        std::lock_guard lock(mutex_);
        id = "plan-" + std::to_string(next_++);
    }
    j["id"] = id;
    j["status"] = "open";
    context_.editor.with_store([&](geo::Store& store) {
        store.save_plan({id, id, geo::iso8601_utc_now(), who.name, "open", geo::dump_json(j)});
        prune(store);
    });
    remember(id, j);
    return j;
}

// A rebalance: moves of an area's organizations between instructors (geo::rebalance), the
// fewest that clear the overloads and then cut distance, kept as a plan of "move" proposals.
Response Plans::rebalance(const json& body, const Caller& who) {
    if (!body.contains("area") || !body["area"].is_string() || body["area"].get<std::string>().empty() ||
        body["area"].get<std::string>().size() > 64)
        return error_response(400, "InvalidValue", "a rebalance needs area: the code of a district, street or park");
    auto area = body["area"].get<std::string>();
    std::size_t max_moves = 20;
    if (body.contains("max_moves")) {
        const auto& m = body["max_moves"];
        if (!m.is_number_integer() || m.get<long long>() < 0 || m.get<long long>() > 1000)
            return error_response(400, "InvalidValue", "max_moves must be a whole number 0–1000");
        max_moves = static_cast<std::size_t>(m.get<long long>());
    }
    json j;
    {
        auto view = context_.editor.view();
        const auto& d = view.data();
        auto at = view.area(area);
        auto in_area = orgs_in_area(view, area);
        if (!in_area) return error_response(404, "NotFound", "no area " + area);
        auto concerned = instructors_of_area(view, area, *in_area);
        auto r = geo::rebalance(d, *in_area, concerned, max_moves);
        json proposals = json::array();
        auto km = [](double m) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.1f", std::fabs(m) / 1000);
            return std::string(buf);
        };
        int n = 0;
        for (const auto& m : r.moves) {
            const auto& o = d.orgs[m.org];
            const auto &from = d.instructors[m.from], &to = d.instructors[m.to];
            std::string reason = m.saved_m < 0 ? from.name + "超出联系上限，改由" + to.name + "联系，路程多 " + km(m.saved_m) + " 公里"
                                               : "改由" + to.name + "联系，路程少 " + km(m.saved_m) + " 公里";
            proposals.push_back({{"id", "m" + std::to_string(++n)},
                                 {"type", "move"},
                                 {"org", o.id},
                                 {"org_name", o.name},
                                 {"orgs", json::array({o.id})},
                                 {"from", from.id},
                                 {"from_name", from.name},
                                 {"to", to.id},
                                 {"to_name", to.name},
                                 {"instructor_id", to.id},
                                 {"saved_m", std::round(m.saved_m)},
                                 {"reason", reason},
                                 {"places", json::array({{{"id", o.id}, {"name", o.name}, {"lon", o.location.x}, {"lat", o.location.y}}})},
                                 {"instructor", {{"name", to.name}, {"lon", to.home.x}, {"lat", to.home.y}}}});
        }
        j = {{"mode", "rebalance"},
             {"area", area},
             {"area_name", at ? json(d.areas[*at].name) : json(geo::city_code(d.areas) == area ? "全市" : "")},
             {"max_moves", max_moves},
             {"proposals", proposals},
             {"flags", json::array()},
             {"summary",
              {{"moves", r.moves.size()},
               {"instructors", concerned.size()},
               {"overloaded_before", r.overloaded_before},
               {"overloaded_after", r.overloaded_after},
               {"max_load_before", r.max_load_before},
               {"max_load_after", r.max_load_after},
               {"distance_before_m", std::round(r.distance_before_m)},
               {"distance_after_m", std::round(r.distance_after_m)}}}};
    }
    context_.metrics.planner_run();
    return json_response(keep_new(j, who), 201);
}

void Plans::prune(geo::Store& store) {
    auto rows = store.plans("", false);
    // ISO 8601 UTC times compare as text.
    auto cutoff = geo::iso8601_utc(std::chrono::system_clock::now() - std::chrono::hours(24) * context_.options.plan_max_age_days);
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
    std::size_t keep = std::max<std::size_t>(1, context_.options.plan_max_open);
    for (std::size_t i = 0; i + keep < open.size(); ++i) gone.push_back(open[i]->id);
    if (gone.empty()) return;
    store.delete_plans(gone);
    forget(gone);
}

void Plans::forget(const std::vector<std::string>& ids) {
    std::lock_guard lock(mutex_);
    for (const auto& id : ids) {
        plans_.erase(id);
        order_.erase(std::remove(order_.begin(), order_.end(), id), order_.end());
    }
}

Response Plans::remove(const Request&, const Caller& who, const Args& args) {
    return context_.editor.with_store([&](geo::Store& store) {
        auto rows = store.plans(args[0], false);
        if (rows.empty()) return error_response(404, "NotFound", "no plan " + args[0]);
        if (rows.front().token_name != who.name && who.role != Role::admin)
            return error_response(403, "Forbidden", "only the plan's author or an admin may delete it");
        store.delete_plans({args[0]});
        forget({args[0]});
        Response r;
        r.status = 204;
        return r;
    });
}

void Plans::remember(const std::string& id, const json& plan) {
    std::lock_guard lock(mutex_);
    if (!plans_.count(id)) order_.push_back(id);
    plans_[id] = plan;
    while (order_.size() > context_.options.plans_in_memory) {
        plans_.erase(order_.front());
        order_.erase(order_.begin());
    }
}

std::optional<json> Plans::find(const std::string& id) {
    {
        std::lock_guard lock(mutex_);
        if (auto it = plans_.find(id); it != plans_.end()) return it->second;
    }
    auto rows = context_.editor.with_store([&](geo::Store& store) { return store.plans(id); });
    if (rows.empty()) return std::nullopt;
    auto plan = json::parse(rows.front().body, nullptr, false);
    if (plan.is_discarded()) return std::nullopt;
    remember(id, plan);
    return plan;
}

Response Plans::get(const Request&, const Caller&, const Args& args) {
    auto plan = find(args[0]);
    if (!plan) return error_response(404, "NotFound", "no plan " + args[0]);
    return json_response(*plan);
}

// The proposals asked for, as the plan has them, go to the editing service, which applies
// those that still hold (all in one transaction) and says why the others do not.
Response Plans::accept(const Request& req, const Caller& who, const Args& args) {
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object() || !(*body)["proposals"].is_array())
        return error_response(400, "InvalidValue", "body must be {\"proposals\": [ids]}");
    auto found = find(args[0]);
    if (!found) return error_response(404, "NotFound", "no plan " + args[0]);
    const json& plan = *found;
    std::map<std::string, geo::Proposal> by_id;
    for (auto& p : proposals_of(plan)) by_id[p.id] = std::move(p);
    std::vector<geo::Proposal> wanted;
    json conflicts = json::array();
    for (const auto& pid : (*body)["proposals"]) {
        auto it = pid.is_string() ? by_id.find(pid.get<std::string>()) : by_id.end();
        if (it == by_id.end()) {
            conflicts.push_back({{"id", pid}, {"reason", "no such proposal in this plan"}});
            continue;
        }
        wanted.push_back(it->second);
    }
    geo::Accepted done;
    try {
        done = context_.editor.accept(wanted, author_of(who), "accept_plan " + args[0]);
    } catch (const geo::conflict_error& e) {
        // Another process changed the store since this one read it: nothing was applied.
        return error_response(409, "Conflict", std::string(e.what()) + "; nothing was applied, run the plan again");
    } catch (const geo::edit_error& e) {
        return edit_refused(e);  // a proposal outside the token's area: nothing was applied
    }
    for (const auto& c : done.conflicts)
        conflicts.push_back({{"id", c.proposal}, {"org", c.org.empty() ? json() : json(c.org)}, {"reason", c.reason}});
    if (!done.applied.empty()) {
        // The plan's status says what became of it: which proposals were applied, by whom.
        context_.editor.with_store([&](geo::Store& store) {
            auto rows = store.plans(args[0]);
            if (rows.empty()) return;
            auto row = rows.front();
            json stored = json::parse(row.body, nullptr, false);
            if (stored.is_discarded()) return;
            json& accepted = stored["accepted"];
            if (!accepted.is_array()) accepted = json::array();
            for (const auto& id : done.applied) accepted.push_back(id);
            row.status = "accepted " + std::to_string(accepted.size()) + "/" + std::to_string(by_id.size());
            stored["status"] = row.status;
            row.body = geo::dump_json(stored);
            store.save_plan(row);
            remember(args[0], stored);
        });
    }
    return json_response({{"plan", args[0]},
                          {"applied", done.applied},
                          {"conflicts", conflicts},
                          {"branches_created", done.branches_created},
                          {"organizations_changed", done.organizations_changed},
                          {"change_id", done.change_id ? json(done.change_id) : json()}});
}

Response Plans::list(const Request&, const Caller&, const Args&) {
    auto rows = context_.editor.with_store([](geo::Store& store) { return store.plans("", false); });
    json items = json::array();
    for (auto it = rows.rbegin(); it != rows.rend(); ++it)  // newest first
        items.push_back({{"id", it->id},
                         {"name", it->name},
                         {"created", it->created},
                         {"by", it->token_name},
                         {"status", it->status}});
    return json_response({{"items", items}});
}

// Two plans (or a plan and today's assignments, "current") side by side: the figures each would
// leave on the data as it is now, and the organizations they treat differently.
Response Plans::compare(const Request&, const Caller&, const Args& args) {
    auto side = [&](const std::string& id) -> std::optional<std::vector<geo::Proposal>> {
        if (id == "current") return std::vector<geo::Proposal>{};
        auto plan = find(id);
        if (!plan) return std::nullopt;
        return proposals_of(*plan);
    };
    auto a = side(args[0]), b = side(args[1]);
    if (!a) return error_response(404, "NotFound", "no plan " + args[0]);
    if (!b) return error_response(404, "NotFound", "no plan " + args[1]);
    auto view = context_.editor.view();
    const auto& d = view.data();
    auto fa = geo::plan_figures(d, *a), fb = geo::plan_figures(d, *b);
    auto figures = [](const std::string& id, const geo::PlanFigures& f) {
        return json{{"id", id},
                    {"org_coverage", f.org_coverage},
                    {"work_coverage", f.work_coverage},
                    {"orgs_touched", f.orgs_touched},
                    {"instructors_used", f.instructors_used},
                    {"total_m", std::round(f.total_m)}};
    };
    std::set<geo::Id> ids;
    for (const auto& [id, what] : fa.outcome) ids.insert(id);
    for (const auto& [id, what] : fb.outcome) ids.insert(id);
    json differ = json::array(), places = json::array();
    for (const auto& id : ids) {
        auto ta = fa.outcome.count(id) ? fa.outcome[id] : "不变";
        auto tb = fb.outcome.count(id) ? fb.outcome[id] : "不变";
        if (ta == tb) continue;
        differ.push_back(id);
        if (const auto* o = view.org(id); o && places.size() < 5000)
            places.push_back({{"id", id}, {"name", o->name}, {"lon", o->location.x}, {"lat", o->location.y}, {"a", ta}, {"b", tb}});
    }
    return json_response({{"a", figures(args[0], fa)}, {"b", figures(args[1], fb)}, {"differ", differ}, {"differ_places", places}});
}

}  // namespace covermap::api
