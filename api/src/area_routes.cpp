#include "area_routes.hpp"

#include "coverage_cache.hpp"
#include "covermap/api/geojson.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/editor.hpp"
#include "covermap/geo/text.hpp"
#include "report_routes.hpp"
#include "route_support.hpp"

namespace covermap::api {

using nlohmann::json;
using namespace detail;

void AreaRoutes::add_routes(Router& router) {
    router.add("GET", "/api/coverage", Role::viewer, this, &AreaRoutes::coverage);
    router.add("GET", "/api/areas", Role::viewer, this, &AreaRoutes::list);
    router.add("GET", "/api/areas/{}", Role::viewer, this, &AreaRoutes::card);
}

Response AreaRoutes::coverage(const Request& req, const Caller&, const Args&) {
    auto lv = req.query.count("level") ? geo::parse_level(req.query.at("level")) : std::nullopt;
    if (!lv) return error_response(400, "InvalidQuery", "level must be district, street, community, grid or park");
    std::optional<geo::OrgKind> kind;
    if (req.query.count("kind")) {
        kind = geo::parse_org_kind(req.query.at("kind"));
        if (!kind) return error_response(400, "InvalidQuery", "kind must be enterprise or social");
    }
    std::string body = coverage_.table_json(*lv, kind);
    std::vector<std::string> codes;  // the areas targets are resolved for, only when there are targets
    if (reports_.has_targets()) {
        codes.push_back("total");
        auto view = context_.editor.view();
        for (const auto& a : view.data().areas)
            if (a.level == *lv) codes.push_back(a.code);
    }
    // The targets beside the rates: spliced into the cached object (they change on their own).
    body.pop_back();
    body += ",\"targets\":" + geo::dump_json(reports_.targets_json(std::string(geo::to_string(*lv)), codes)) + "}";
    Response r;
    r.body = std::move(body);
    return r;
}

Response AreaRoutes::list(const Request& req, const Caller&, const Args&) {
    std::optional<geo::Level> level;
    if (!query_value(req, "level").empty()) {
        level = geo::parse_level(query_value(req, "level"));
        if (!level) return error_response(400, "InvalidQuery", "unknown level");
    }
    auto q = query_value(req, "q");
    int limit = limit_of(req, 50, 20000);
    json items = json::array();
    auto view = context_.editor.view();
    const auto& areas = view.data().areas;
    for (std::size_t i = 0; i < areas.size(); ++i) {
        const auto& a = areas[i];
        if (level && a.level != *level) continue;
        if (!q.empty() && a.name.find(q) == std::string::npos && a.code.rfind(q, 0) != 0) continue;
        if (static_cast<int>(items.size()) >= limit) break;
        items.push_back({{"code", a.code},
                         {"name", a.name},
                         {"level", std::string(geo::to_string(a.level))},
                         {"parent_code", a.parent_code},
                         {"bbox", bbox_json(view.area_bounds()[i])}});
    }
    return json_response({{"items", items}});
}

Response AreaRoutes::card(const Request& req, const Caller&, const Args& args) {
    int limit = limit_of(req, 100, 1000);
    std::optional<std::size_t> index;
    geo::Level level = geo::Level::district;
    {
        auto view = context_.editor.view();
        index = view.area(args[0]);
        if (index) level = view.data().areas[*index].level;
    }
    if (!index) return error_response(404, "NotFound", "no area " + args[0]);
    // The figures as /api/coverage counts them; the organizations only for the uncovered list.
    auto figures = coverage_.by_code(level);
    auto where = coverage_.located(level);
    auto view = context_.editor.view();
    const auto& data = view.data();
    if (*index >= data.areas.size() || data.areas[*index].code != args[0])
        return error_response(404, "NotFound", "no area " + args[0]);  // the areas were replaced meanwhile
    const auto& a = data.areas[*index];
    geo::CoverageRow row;
    if (auto it = figures->find(a.code); it != figures->end()) row = it->second;
    json uncovered = json::array();
    for (std::size_t i = 0; i < data.orgs.size() && i < where->size() && static_cast<int>(uncovered.size()) < limit;
         ++i) {
        const auto& o = data.orgs[i];
        if ((*where)[i] == static_cast<int>(*index) && o.operating() && !o.branch_id && !o.instructor_id)
            uncovered.push_back({{"id", o.id}, {"name", o.name}, {"lon", o.location.x}, {"lat", o.location.y}});
    }
    json card = geo::to_json(row);
    card.update({{"code", a.code},
                 {"name", a.name},
                 {"level", std::string(geo::to_string(a.level))},
                 {"parent_code", a.parent_code},
                 {"bbox", bbox_json(view.area_bounds()[*index])},
                 {"geometry", geometry_json(a.shape)},
                 {"uncovered", uncovered}});
    return json_response(card);
}

}  // namespace covermap::api
