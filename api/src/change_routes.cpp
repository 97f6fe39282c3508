#include "change_routes.hpp"

#include <set>

#include "coverage_cache.hpp"
#include "covermap/geo/editor.hpp"
#include "org_routes.hpp"
#include "route_support.hpp"

namespace covermap::api {

using nlohmann::json;
using namespace detail;

void ChangeRoutes::add_routes(Router& router) {
    router.add("GET", "/api/changes", Role::viewer, this, &ChangeRoutes::list);
    router.add("POST", "/api/changes/{}/revert", Role::planner, this, &ChangeRoutes::revert);
}

Response ChangeRoutes::list(const Request& req, const Caller&, const Args&) {
    int limit = limit_of(req, 50, 1000);
    auto area = query_value(req, "area");
    // Of one area: the changes that touched an organization lying in it now.
    std::set<geo::Id> inside;
    if (!area.empty()) {
        std::optional<geo::Level> level;
        int index = -1;
        {
            auto view = context_.editor.view();
            if (auto i = view.area(area)) index = static_cast<int>(*i), level = view.data().areas[*i].level;
        }
        if (!level) return error_response(404, "NotFound", "no area " + area);
        auto where = coverage_.located(*level);
        auto view = context_.editor.view();
        const auto& orgs = view.data().orgs;
        for (std::size_t i = 0; i < orgs.size() && i < where->size(); ++i)
            if ((*where)[i] == index) inside.insert(orgs[i].id);
    }
    // Reading more rows than asked when filtering by area: the area's changes are among them.
    auto rows = context_.editor.changes(area.empty() ? static_cast<std::size_t>(limit) : 20000);
    json items = json::array();
    for (const auto& c : rows) {
        if (!area.empty() && std::none_of(c.orgs.begin(), c.orgs.end(), [&](const geo::Id& id) { return inside.count(id); }))
            continue;
        if (static_cast<int>(items.size()) >= limit) break;
        json orgs = c.orgs.size() > 1000 ? json() : json(c.orgs);
        items.push_back({{"id", c.id},
                         {"time", c.time},
                         {"who", c.token_name},
                         {"kind", c.kind},
                         {"summary", c.summary},
                         {"orgs", orgs},
                         {"count", c.orgs.size()},
                         {"reverts", c.reverts ? json(*c.reverts) : json()},
                         {"reverted_by", c.reverted_by ? json(*c.reverted_by) : json()}});
    }
    return json_response({{"items", items}});
}

Response ChangeRoutes::revert(const Request&, const Caller& who, const Args& args) {
    auto id = parse_id(args[0]);
    if (!id) return error_response(404, "NotFound", "no change " + args[0]);
    geo::Reverted done;
    try {
        done = context_.editor.revert(*id, author_of(who));
    } catch (const geo::edit_error& e) {
        if (e.kind == geo::edit_error::Kind::invalid) return error_response(409, "Conflict", e.what());
        return edit_refused(e);
    }
    if (!done.conflicts.empty()) {
        json conflicts = json::array();
        for (const auto& [org, reason] : done.conflicts)
            conflicts.push_back({{"org", org.empty() ? json() : json(org)}, {"reason", reason}});
        auto r = json_response({{"code", "Conflict"},
                                {"message", "变更#" + args[0] + "涉及的组织已不是它留下的样子，未撤销"},
                                {"conflicts", conflicts}},
                               409);
        return r;
    }
    return json_response({{"reverted", *id}, {"change_id", done.change_id}});
}

}  // namespace covermap::api
