// Draw and assign, and the instructors' workload, over HTTP.
#include "workload_routes.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/workload.hpp"
#include "org_routes.hpp"
#include "route_support.hpp"

namespace covermap::api {

using nlohmann::json;
using namespace detail;

namespace {

constexpr std::size_t kMaxVertices = 20000;  // a hand-drawn lasso has hundreds
constexpr std::size_t kMaxListed = 20000;    // organizations named in one request

// A GeoJSON Polygon or MultiPolygon geometry (lon/lat) as a valid shape; the reason when not.
std::optional<geo::MultiPolygon> read_polygon(const json& g, std::string& why) {
    if (!g.is_object() || !g.contains("type") || !g["type"].is_string() || !g.contains("coordinates") ||
        !g["coordinates"].is_array()) {
        why = "polygon must be a GeoJSON Polygon or MultiPolygon geometry";
        return std::nullopt;
    }
    auto type = g["type"].get<std::string>();
    if (type != "Polygon" && type != "MultiPolygon") {
        why = "polygon must be a GeoJSON Polygon or MultiPolygon, not " + type;
        return std::nullopt;
    }
    std::size_t vertices = 0;
    auto ring = [&](const json& r, geo::Ring& out) {
        if (!r.is_array() || r.size() < 4) return false;
        for (const auto& p : r) {
            if (!p.is_array() || p.size() < 2 || !p[0].is_number() || !p[1].is_number()) return false;
            double x = p[0].get<double>(), y = p[1].get<double>();
            if (!std::isfinite(x) || !std::isfinite(y) || std::fabs(x) > 180 || std::fabs(y) > 90) return false;
            if (++vertices > kMaxVertices) return false;
            out.push_back({x, y});
        }
        return true;
    };
    auto polygon = [&](const json& rings, geo::Polygon& out) {
        if (!rings.is_array() || rings.empty()) return false;
        for (std::size_t i = 0; i < rings.size(); ++i) {
            geo::Ring r;
            if (!ring(rings[i], r)) return false;
            if (i == 0)
                out.exterior = std::move(r);
            else
                out.holes.push_back(std::move(r));
        }
        return true;
    };
    geo::MultiPolygon shape;
    const auto& c = g["coordinates"];
    bool ok = true;
    if (type == "Polygon") {
        shape.emplace_back();
        ok = polygon(c, shape.back());
    } else {
        for (const auto& p : c) {
            shape.emplace_back();
            if (!(ok = polygon(p, shape.back()))) break;
        }
    }
    if (!ok || shape.empty()) {
        why = vertices > kMaxVertices ? "polygon has more than " + std::to_string(kMaxVertices) + " vertices"
                                      : "polygon rings need at least 4 positions of finite longitude, latitude";
        return std::nullopt;
    }
    // A lasso that crosses itself is still what the planner meant: repaired, not refused.
    if (!geo::is_valid(shape)) shape = geo::make_valid(shape);
    if (shape.empty() || geo::planar_area(shape) <= 0) {
        why = "polygon encloses no area";
        return std::nullopt;
    }
    return shape;
}

std::vector<std::optional<std::string>> string_list(const json& body, const char* key, std::string& why) {
    std::vector<std::optional<std::string>> out;
    const auto& a = body[key];
    if (!a.is_array() || a.size() > kMaxListed) {
        why = std::string(key) + " must be an array of at most " + std::to_string(kMaxListed) + " ids";
        return out;
    }
    for (const auto& v : a) {
        if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 64) {
            why = std::string(key) + " must hold ids (strings)";
            return {};
        }
        out.emplace_back(v.get<std::string>());
    }
    return out;
}

}  // namespace

std::optional<std::vector<char>> orgs_in_area(const geo::Editor::View& v, const std::string& area) {
    const auto& d = v.data();
    if (area.empty() || area == geo::city_code(d.areas)) return std::vector<char>(d.orgs.size(), 1);
    auto at = v.area(area);
    if (!at) return std::nullopt;
    std::vector<geo::Point> points;
    points.reserve(d.orgs.size());
    for (const auto& o : d.orgs) points.push_back(o.location);
    auto hits = geo::locate_points({&d.areas[*at].shape}, points);
    std::vector<char> in(d.orgs.size());
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = hits[i] >= 0;
    return in;
}

std::vector<std::size_t> instructors_of_area(const geo::Editor::View& v, const std::string& area,
                                             const std::vector<char>& in_area) {
    const auto& d = v.data();
    std::vector<std::size_t> out;
    if (area.empty() || area == geo::city_code(d.areas)) {
        for (std::size_t j = 0; j < d.instructors.size(); ++j) out.push_back(j);
        return out;
    }
    std::vector<char> take(d.instructors.size(), 0);
    if (auto at = v.area(area)) {
        std::vector<geo::Point> homes;
        for (const auto& in : d.instructors) homes.push_back(in.home);
        auto hits = geo::locate_points({&d.areas[*at].shape}, homes);
        for (std::size_t j = 0; j < take.size(); ++j) take[j] = hits[j] >= 0 || d.instructors[j].unit == area;
    }
    // The editor's own index finds each instructor (a map of every id was made per request).
    for (std::size_t i = 0; i < d.orgs.size(); ++i)
        if (in_area[i] && d.orgs[i].instructor_id)
            if (const auto* in = v.instructor(*d.orgs[i].instructor_id))
                take[static_cast<std::size_t>(in - d.instructors.data())] = 1;
    for (std::size_t j = 0; j < take.size(); ++j)
        if (take[j]) out.push_back(j);
    return out;
}

void WorkloadRoutes::add_routes(Router& router) {
    router.add("POST", "/api/assign", Role::planner, this, &WorkloadRoutes::assign);
    router.add("GET", "/api/instructors", Role::viewer, this, &WorkloadRoutes::instructors);
}

// The selection's organizations that need an instructor, given to instructors with room at the
// least total distance (geo::assign_selection); a dry run shows it, a commit applies it as one
// change through the editing service (the plans' accept, so it is undone like one).
Response WorkloadRoutes::assign(const Request& req, const Caller& who, const Args&) {
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object()) return error_response(400, "InvalidValue", "body must be an object");
    bool dry_run = false;
    if (body->contains("dry_run")) {
        if (!(*body)["dry_run"].is_boolean()) return error_response(400, "InvalidValue", "dry_run must be true or false");
        dry_run = (*body)["dry_run"].get<bool>();
    }
    bool has_polygon = body->contains("polygon"), has_orgs = body->contains("orgs");
    if (has_polygon == has_orgs)
        return error_response(400, "InvalidValue", "give either polygon (a GeoJSON Polygon or MultiPolygon) or orgs (ids)");
    std::optional<geo::MultiPolygon> shape;
    std::vector<std::optional<std::string>> listed, chosen;
    if (has_polygon) {
        shape = read_polygon((*body)["polygon"], why);
        if (!shape) return error_response(400, "InvalidValue", why);
    } else {
        listed = string_list(*body, "orgs", why);
        if (!why.empty()) return error_response(400, "InvalidValue", why);
    }
    bool named_instructors = body->contains("instructors");
    if (named_instructors) {
        chosen = string_list(*body, "instructors", why);
        if (!why.empty()) return error_response(400, "InvalidValue", why);
    }

    json result;
    std::vector<geo::Proposal> proposals;
    {
        auto view = context_.editor.view();
        const auto& d = view.data();
        // The selection: every organization inside the polygon, or those listed.
        std::vector<std::size_t> selection;
        if (shape) {
            std::vector<geo::Point> points;
            points.reserve(d.orgs.size());
            for (const auto& o : d.orgs) points.push_back(o.location);
            auto hits = geo::locate_points({&*shape}, points);
            for (std::size_t i = 0; i < hits.size(); ++i)
                if (hits[i] >= 0) selection.push_back(i);
        } else {
            for (const auto& id : listed) {
                const auto* o = view.org(*id);
                if (!o) return error_response(404, "NotFound", "no organization " + *id);
                selection.push_back(static_cast<std::size_t>(o - d.orgs.data()));
            }
            std::sort(selection.begin(), selection.end());
            selection.erase(std::unique(selection.begin(), selection.end()), selection.end());
        }
        std::map<std::string, long> states = {{"uncovered", 0}, {"instructor", 0}, {"branch", 0}, {"inactive", 0}};
        std::vector<std::size_t> candidates;
        std::vector<const geo::Organization*> touched;
        for (auto i : selection) {
            const auto& o = d.orgs[i];
            ++states[state_of(o)];
            if (geo::needs_instructor(o)) candidates.push_back(i), touched.push_back(&o);
        }
        try {
            context_.editor.check_author(view, author_of(who), touched, true);
        } catch (const geo::edit_error& e) {
            return edit_refused(e);
        }
        // The instructors: those named, or every one with room.
        std::vector<int> load(d.instructors.size());
        std::vector<std::size_t> instructors;
        for (std::size_t j = 0; j < d.instructors.size(); ++j) load[j] = view.load(d.instructors[j].id);
        if (named_instructors) {
            for (const auto& id : chosen) {
                const auto* in = view.instructor(*id);
                if (!in) return error_response(404, "NotFound", "no instructor " + *id);
                instructors.push_back(static_cast<std::size_t>(in - d.instructors.data()));
            }
        } else {
            for (std::size_t j = 0; j < d.instructors.size(); ++j)
                if (load[j] < d.instructors[j].capacity) instructors.push_back(j);
        }
        auto solved = geo::assign_selection(d, candidates, instructors, load);

        json assignments = json::array(), unassigned = json::array();
        std::map<std::size_t, geo::Proposal> per_instructor;
        for (const auto& p : solved.assigned) {
            const auto& o = d.orgs[p.org];
            const auto& in = d.instructors[p.instructor];
            assignments.push_back({{"org", o.id},
                                   {"org_name", o.name},
                                   {"lon", o.location.x},
                                   {"lat", o.location.y},
                                   {"instructor", in.id},
                                   {"instructor_name", in.name},
                                   {"instructor_lon", in.home.x},
                                   {"instructor_lat", in.home.y},
                                   {"distance_m", std::round(p.distance_m)}});
            auto& pr = per_instructor[p.instructor];
            pr.id = "assign-" + in.id;
            pr.type = "instructor";
            pr.instructor_id = in.id;
            pr.orgs.push_back(o.id);
        }
        for (const auto& l : solved.unassigned) {
            const auto& o = d.orgs[l.org];
            unassigned.push_back(
                {{"org", o.id}, {"org_name", o.name}, {"lon", o.location.x}, {"lat", o.location.y}, {"reason", l.reason}});
        }
        json selected = {{"total", selection.size()}};
        for (const auto& [k, n] : states) selected[k] = n;
        result = {{"selection", selected},
                  {"assignments", assignments},
                  {"unassigned", unassigned},
                  {"total_m", std::round(solved.total_m)},
                  {"dry_run", dry_run}};
        for (auto& [j, p] : per_instructor) proposals.push_back(std::move(p));
    }
    if (dry_run || proposals.empty()) return json_response(result);
    geo::Accepted done;
    try {
        done = context_.editor.accept(proposals, author_of(who), "assign_selection");
    } catch (const geo::conflict_error& e) {
        return error_response(409, "Conflict", std::string(e.what()) + "; nothing was applied, select again");
    } catch (const geo::edit_error& e) {
        return edit_refused(e);
    }
    if (!done.conflicts.empty()) {
        // An edit came between the answer and the commit: what still held was applied; say what not.
        json conflicts = json::array();
        for (const auto& c : done.conflicts) conflicts.push_back({{"org", c.org}, {"reason", c.reason}});
        result["conflicts"] = conflicts;
    }
    if (done.change_id) result["change_id"] = done.change_id;
    return json_response(result);
}

Response WorkloadRoutes::instructors(const Request& req, const Caller&, const Args&) {
    auto area = query_value(req, "area");
    if (area.size() > 64) return error_response(400, "InvalidQuery", "area is too long");
    // This quarter's visits, China time, counted by instructor.
    auto today = geo::china_date();
    geo::VisitQuery q;
    q.from = geo::quarter_start(today);
    q.to = today;
    auto visits = context_.editor.with_store([&](geo::Store& s) { return s.visits(q); });
    std::map<geo::Id, long> visited;
    for (const auto& v : visits)
        if (!v.instructor.empty()) ++visited[v.instructor];

    auto view = context_.editor.view();
    const auto& d = view.data();
    auto in_area = orgs_in_area(view, area);
    if (!in_area) return error_response(404, "NotFound", "no area " + area);
    auto loads = geo::instructor_loads(d);
    auto who = instructors_of_area(view, area, *in_area);
    std::sort(who.begin(), who.end(), [&](std::size_t a, std::size_t b) {
        const auto &x = d.instructors[a], &y = d.instructors[b];
        double ra = static_cast<double>(loads[a].load()) / std::max(1, x.capacity);
        double rb = static_cast<double>(loads[b].load()) / std::max(1, y.capacity);
        return ra != rb ? ra > rb : x.id < y.id;
    });
    json items = json::array();
    for (auto j : who) {
        const auto& in = d.instructors[j];
        json orgs = json::array();
        for (auto i : loads[j].orgs) orgs.push_back(d.orgs[i].id);
        auto unit = view.area(in.unit);
        items.push_back({{"id", in.id},
                         {"name", in.name},
                         {"unit", in.unit},
                         {"unit_name", unit ? json(d.areas[*unit].name) : json()},
                         {"lon", in.home.x},
                         {"lat", in.home.y},
                         {"load", loads[j].load()},
                         {"capacity", in.capacity},
                         {"orgs", orgs},
                         {"distance_m", std::round(loads[j].distance_m)},
                         {"visits_quarter", visited.count(in.id) ? visited[in.id] : 0}});
    }
    return json_response({{"items", items}});
}

}  // namespace covermap::api
