#include "site_routes.hpp"

#include <map>
#include <set>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/editor.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/report/report.hpp"
#include "org_routes.hpp"
#include "route_support.hpp"

namespace covermap::api {

using nlohmann::json;
using namespace detail;

namespace {

// Which of these organizations lie in the area asked for: a district, a park, or the city (the
// districts' parent code: every one). nullopt when there is no such area.
std::optional<std::vector<char>> inside(const geo::Editor::View& v, const std::string& area,
                                        const std::vector<geo::Id>& orgs) {
    const auto& data = v.data();
    if (area.empty() || area == geo::city_code(data.areas)) return std::vector<char>(orgs.size(), 1);
    auto at = v.area(area);
    if (!at) return std::nullopt;
    std::vector<geo::Point> points;
    for (const auto& id : orgs) {
        auto* o = v.org(id);
        points.push_back(o ? o->location : geo::Point{1e9, 1e9});
    }
    auto hits = geo::locate_points({&data.areas[*at].shape}, points);
    std::vector<char> in(orgs.size());
    for (std::size_t k = 0; k < orgs.size(); ++k) in[k] = hits[k] >= 0;
    return in;
}

// The district each organization lies in (code, name), for the lists' 所在区县.
std::vector<std::pair<std::string, std::string>> districts_of(const geo::Editor::View& v, const std::vector<geo::Id>& orgs) {
    std::vector<const geo::MultiPolygon*> shapes;
    std::vector<const geo::Area*> which;
    for (const auto& a : v.data().areas)
        if (a.level == geo::Level::district) shapes.push_back(&a.shape), which.push_back(&a);
    std::vector<geo::Point> points;
    for (const auto& id : orgs) {
        auto* o = v.org(id);
        points.push_back(o ? o->location : geo::Point{1e9, 1e9});
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (int hit : geo::locate_points(shapes, points))
        out.emplace_back(hit >= 0 ? which[static_cast<std::size_t>(hit)]->code : "",
                         hit >= 0 ? which[static_cast<std::size_t>(hit)]->name : "");
    return out;
}

// Where a list's organizations are: which lie in the area asked for, the district of each, and
// the area's name as the list is titled (全市 for the city). nullopt when there is no such area.
struct Placed {
    std::vector<char> in;
    std::vector<std::pair<std::string, std::string>> district;
    std::string area_name = "全市";
};

std::optional<Placed> place(const geo::Editor::View& v, const std::string& area, const std::vector<geo::Id>& orgs) {
    auto in = inside(v, area, orgs);
    if (!in) return std::nullopt;
    Placed p{std::move(*in), districts_of(v, orgs)};
    if (auto at = area.empty() ? std::nullopt : v.area(area)) p.area_name = v.data().areas[*at].name;
    return p;
}

Response workbook(const std::string& what, const std::string& area_name, const std::vector<std::string>& head,
                  const std::vector<std::vector<std::string>>& rows) {
    Response r;
    r.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    r.body = report::table_xlsx(what, head, rows);
    auto today = geo::china_date();
    std::string name = area_name + "_" + what + "_" + today + ".xlsx";
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + std::string(what == "示范点" ? "sites" : "contact-points") +
                                                      "-" + today + ".xlsx\"; filename*=UTF-8''" + url_encode(name));
    return r;
}

std::optional<std::string> text_field(const json& body, const char* key, std::string& into) {
    if (!body.contains(key) || body[key].is_null()) return std::nullopt;
    if (!body[key].is_string()) return std::string(key) + " must be text";
    into = body[key].get<std::string>();
    return std::nullopt;
}

}  // namespace

void SiteRoutes::add_routes(Router& router) {
    router.add("POST", "/api/sites", Role::planner, this, &SiteRoutes::add_site);
    router.add("DELETE", "/api/sites/{}", Role::planner, this, &SiteRoutes::remove_site);
    router.add("GET", "/api/sites", Role::viewer, this, &SiteRoutes::sites);
    router.add("POST", "/api/contact-points", Role::planner, this, &SiteRoutes::add_contact);
    router.add("DELETE", "/api/contact-points/{}", Role::planner, this, &SiteRoutes::remove_contact);
    router.add("GET", "/api/contact-points", Role::viewer, this, &SiteRoutes::contacts);
}

// {"org", "level": county|city, "year"} -> 201 {"id", "change_id"}.
Response SiteRoutes::add_site(const Request& req, const Caller& who, const Args&) {
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object()) return error_response(400, "InvalidValue", "body must be {\"org\", \"level\", \"year\"}");
    geo::Site site;
    site.level = "county";
    site.year = std::stoi(geo::china_date().substr(0, 4));
    for (const char* key : {"org", "level"})
        if (auto bad = text_field(*body, key, key[0] == 'o' ? site.org : site.level))
            return error_response(400, "InvalidValue", *bad);
    if (body->contains("year")) {
        if (!(*body)["year"].is_number_integer()) return error_response(400, "InvalidValue", "year must be a year, 2026");
        site.year = static_cast<int>(std::clamp<std::int64_t>((*body)["year"].get<std::int64_t>(), 0, 100000));
    }
    try {
        auto done = context_.editor.add_site(site, author_of(who));
        return json_response({{"id", done.id}, {"change_id", done.change_id}}, 201);
    } catch (const geo::edit_error& e) {
        return edit_refused(e);
    }
}

Response SiteRoutes::remove_site(const Request&, const Caller& who, const Args& args) {
    auto id = parse_id(args[0]);
    if (!id) return error_response(404, "NotFound", "no site " + args[0]);
    try {
        return json_response({{"change_id", context_.editor.remove_site(*id, author_of(who))}});
    } catch (const geo::edit_error& e) {
        return edit_refused(e);
    }
}

// ?area=CODE (a district, a park, the city's code; default the city) &level=county|city
// &year=Y &format=xlsx -> {"quota", "count", "items"}: a site counts for every area holding it.
Response SiteRoutes::sites(const Request& req, const Caller&, const Args&) {
    auto area = query_value(req, "area");
    auto level = query_value(req, "level");
    if (level.empty()) level = "county";
    if (level != "county" && level != "city") return error_response(400, "InvalidQuery", "level must be county or city");
    int year = std::stoi(geo::china_date().substr(0, 4));
    if (auto y = query_value(req, "year"); !y.empty()) {
        if (y.size() != 4 || y.find_first_not_of("0123456789") != std::string::npos)
            return error_response(400, "InvalidQuery", "year must be a year, 2026");
        year = std::stoi(y);
    }
    auto [all, quotas] = context_.editor.with_store([](geo::Store& s) { return std::pair{s.sites(), s.quotas()}; });
    std::vector<geo::Site> rows;
    for (const auto& s : all)
        if (s.level == level && s.year == year) rows.push_back(s);
    std::vector<geo::Id> orgs;
    for (const auto& s : rows) orgs.push_back(s.org);
    auto v = context_.editor.view();
    auto placed = place(v, area, orgs);
    if (!placed) return error_response(404, "NotFound", "no area " + area);
    const auto& [in, where, area_name] = *placed;
    json items = json::array();
    std::vector<std::vector<std::string>> cells;
    for (std::size_t k = 0; k < rows.size(); ++k) {
        if (!in[k]) continue;
        const auto& s = rows[k];
        auto* o = v.org(s.org);
        std::string branch;
        if (o && o->branch_id)
            for (const auto& b : v.data().branches)
                if (b.id == *o->branch_id) branch = b.name;
        items.push_back({{"id", s.id},
                         {"org", s.org},
                         {"org_name", o ? o->name : s.org},
                         {"branch_name", branch},
                         {"level", s.level},
                         {"year", s.year},
                         {"area", where[k].first},
                         {"area_name", where[k].second},
                         {"since", s.since}});
        cells.push_back({std::to_string(cells.size() + 1), o ? o->name : s.org, branch,
                         s.level == "city" ? "市级" : "县级", std::to_string(s.year), where[k].second, s.since});
    }
    json quota;  // the city's quota is kept under its code (the districts' parent)
    std::string quota_area = area.empty() ? geo::city_code(v.data().areas) : area;
    for (const auto& q : quotas)
        if (q.area == quota_area && q.level == level && q.year == year) quota = q.count;
    if (query_value(req, "format") == "xlsx")
        return workbook("示范点", area_name, {"序号", "组织", "党组织", "级别", "年度", "所在区县", "确定日期"}, cells);
    return json_response({{"area", area.empty() ? json() : json(area)},
                          {"area_name", area_name},
                          {"level", level},
                          {"year", year},
                          {"quota", quota},
                          {"count", items.size()},
                          {"items", items}});
}

// {"leader", "post", "org", "liaison"} -> 201 {"id", "change_id"}.
Response SiteRoutes::add_contact(const Request& req, const Caller& who, const Args&) {
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object())
        return error_response(400, "InvalidValue", "body must be {\"leader\", \"post\", \"org\", \"liaison\"}");
    geo::ContactPoint p;
    for (auto [key, into] : {std::pair{"leader", &p.leader}, std::pair{"post", &p.post}, std::pair{"org", &p.org},
                             std::pair{"liaison", &p.liaison}})
        if (auto bad = text_field(*body, key, *into)) return error_response(400, "InvalidValue", *bad);
    try {
        auto done = context_.editor.add_contact_point(p, author_of(who));
        return json_response({{"id", done.id}, {"change_id", done.change_id}}, 201);
    } catch (const geo::edit_error& e) {
        return edit_refused(e);
    }
}

Response SiteRoutes::remove_contact(const Request&, const Caller& who, const Args& args) {
    auto id = parse_id(args[0]);
    if (!id) return error_response(404, "NotFound", "no contact point " + args[0]);
    try {
        return json_response({{"change_id", context_.editor.remove_contact_point(*id, author_of(who))}});
    } catch (const geo::edit_error& e) {
        return edit_refused(e);
    }
}

// ?area=CODE&format=xlsx -> {"count", "items"}; is_site: the organization is already a
// demonstration site (of any level, any year: the goal of every contact point).
Response SiteRoutes::contacts(const Request& req, const Caller&, const Args&) {
    auto area = query_value(req, "area");
    auto [rows, sites] = context_.editor.with_store([](geo::Store& s) { return std::pair{s.contact_points(), s.sites()}; });
    std::set<geo::Id> site_orgs;
    for (const auto& s : sites) site_orgs.insert(s.org);
    std::vector<geo::Id> orgs;
    for (const auto& p : rows) orgs.push_back(p.org);
    auto v = context_.editor.view();
    auto placed = place(v, area, orgs);
    if (!placed) return error_response(404, "NotFound", "no area " + area);
    const auto& [in, where, area_name] = *placed;
    json items = json::array();
    std::vector<std::vector<std::string>> cells;
    for (std::size_t k = 0; k < rows.size(); ++k) {
        if (!in[k]) continue;
        const auto& p = rows[k];
        auto* o = v.org(p.org);
        bool is_site = site_orgs.count(p.org) > 0;
        items.push_back({{"id", p.id},
                         {"leader", p.leader},
                         {"post", p.post},
                         {"liaison", p.liaison},
                         {"org", p.org},
                         {"org_name", o ? o->name : p.org},
                         {"area", where[k].first},
                         {"area_name", where[k].second},
                         {"since", p.since},
                         {"is_site", is_site}});
        cells.push_back({std::to_string(cells.size() + 1), p.leader, p.post, o ? o->name : p.org, where[k].second,
                         p.liaison, p.since, is_site ? "是" : "否"});
    }
    if (query_value(req, "format") == "xlsx")
        return workbook("联系点", area_name, {"序号", "领导干部", "职务", "联系组织", "所在区县", "联络人", "确定日期", "已是示范点"},
                        cells);
    return json_response({{"area", area.empty() ? json() : json(area)}, {"count", items.size()}, {"items", items}});
}

}  // namespace covermap::api
