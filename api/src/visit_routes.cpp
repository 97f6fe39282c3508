#include "visit_routes.hpp"

#include <algorithm>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/editor.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "org_routes.hpp"
#include "route_support.hpp"

namespace covermap::api {

using nlohmann::json;
using namespace detail;

namespace {

}  // namespace

json wuyou_json(int bits) {
    json w = json::object();
    for (int i = 0; i < 5; ++i) w[geo::kWuyou[i]] = (bits >> i & 1) != 0;
    return w;
}

namespace {

json visit_json(const geo::Visit& v, const std::string& org_name) {
    return {{"wuyou", v.wuyou >= 0 ? wuyou_json(v.wuyou) : json()},
            {"stars", v.stars ? json(v.stars) : json()},
            {"id", v.id},
            {"org", v.org},
            {"org_name", org_name},
            {"date", v.date},
            {"kind", v.kind},
            {"note", v.note},
            {"ledger_confirmed", v.ledger_confirmed},
            {"by", v.by},
            {"instructor", v.instructor.empty() ? json() : json(v.instructor)},
            {"change_id", v.change_id}};
}

}  // namespace

void VisitRoutes::add_routes(Router& router) {
    router.add("POST", "/api/orgs/{}/visits", Role::instructor, this, &VisitRoutes::record);
    router.add("GET", "/api/orgs/{}/visits", Role::viewer, this, &VisitRoutes::of_org);
    router.add("GET", "/api/visits", Role::viewer, this, &VisitRoutes::list);
}

// {"date", "kind", "note", "ledger_confirmed", "ledger": {the keys of PATCH}}: corrections
// need If-Match (the version they are made from); a bare visit does not.
Response VisitRoutes::record(const Request& req, const Caller& who, const Args& args) {
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object()) return error_response(400, "InvalidValue", "body must be an object");
    geo::Visit v;
    v.org = args[0];
    for (auto [key, into] : {std::pair{"date", &v.date}, std::pair{"kind", &v.kind}, std::pair{"note", &v.note}}) {
        if (!body->contains(key) || (*body)[key].is_null()) continue;
        if (!(*body)[key].is_string()) return error_response(400, "InvalidValue", std::string(key) + " must be text");
        *into = (*body)[key].get<std::string>();
    }
    if (v.date.empty()) v.date = geo::china_date();
    if (body->contains("ledger_confirmed")) {
        if (!(*body)["ledger_confirmed"].is_boolean())
            return error_response(400, "InvalidValue", "ledger_confirmed must be true or false");
        v.ledger_confirmed = (*body)["ledger_confirmed"].get<bool>();
    }
    if (auto bad = [&]() -> std::optional<std::string> {
            if (body->contains("visit_key") && !(*body)["visit_key"].is_null()) {
                if (!(*body)["visit_key"].is_string() || (*body)["visit_key"].get<std::string>().size() > 100)
                    return "visit_key must be text of at most 100 bytes";
                v.visit_key = (*body)["visit_key"].get<std::string>();
            }
            if (body->contains("stars") && !(*body)["stars"].is_null()) {
                const auto& st = (*body)["stars"];
                if (!st.is_number_integer() || st.get<std::int64_t>() < 1 || st.get<std::int64_t>() > 5)
                    return "stars must be 1–5";
                v.stars = static_cast<int>(st.get<std::int64_t>());
            }
            if (body->contains("wuyou") && !(*body)["wuyou"].is_null()) {
                const auto& w = (*body)["wuyou"];
                if (!w.is_object()) return "wuyou must be {\"organization\", \"rules\", \"activities\", \"place\", \"role\"}: true|false";
                v.wuyou = 0;
                for (int i = 0; i < 5; ++i) {
                    if (!w.contains(geo::kWuyou[i])) continue;
                    if (!w[geo::kWuyou[i]].is_boolean()) return std::string("wuyou.") + geo::kWuyou[i] + " must be true or false";
                    if (w[geo::kWuyou[i]].get<bool>()) v.wuyou |= 1 << i;
                }
                for (const auto& item : w.items()) {
                    const std::string key = item.key();  // a copy: clang cannot capture a structured binding
                    if (std::none_of(std::begin(geo::kWuyou), std::end(geo::kWuyou), [&](const char* k) { return key == k; }))
                        return "wuyou has no item '" + key + "'";
                }
            }
            return std::nullopt;
        }())
        return error_response(400, "InvalidValue", *bad);
    std::optional<geo::Correction> fix;
    std::int64_t expected = 0;
    if (body->contains("ledger") && !(*body)["ledger"].is_null()) {
        const auto& ledger = (*body)["ledger"];
        if (!ledger.is_object()) return error_response(400, "InvalidValue", "ledger must be an object of fields");
        if (!ledger.empty()) {
            auto version = if_match(req);
            if (auto* refusal = std::get_if<Response>(&version)) return *refusal;
            expected = std::get<std::int64_t>(version);
            fix.emplace();
            if (auto refusal = read_correction(ledger, *fix)) return *refusal;
        }
    }
    try {
        auto done = context_.editor.record_visit(v, fix, expected, author_of(who));
        auto r = json_response({{"visit_id", done.visit.id}, {"change_id", done.visit.change_id}, {"version", done.org.version}},
                               201);
        r.headers.emplace_back("ETag", "\"" + std::to_string(done.org.version) + "\"");
        return r;
    } catch (const geo::edit_error& e) {
        return edit_refused(e);
    }
}

Response VisitRoutes::of_org(const Request&, const Caller&, const Args& args) {
    std::string name;
    {
        auto v = context_.editor.view();
        auto* o = v.org(args[0]);
        if (!o) return error_response(404, "NotFound", "no organization " + args[0]);
        name = o->name;
    }
    geo::VisitQuery q;
    q.org = args[0];
    auto rows = context_.editor.with_store([&](geo::Store& s) { return s.visits(q); });
    json items = json::array();
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) items.push_back(visit_json(*it, name));  // newest first
    return json_response({{"org", args[0]}, {"items", items}});
}

// ?instructor=ID (visits its token recorded) | area=CODE (visits of organizations in it),
// from=&to= (days, inclusive; the current quarter by default, China's calendar).
Response VisitRoutes::list(const Request& req, const Caller&, const Args&) {
    geo::VisitQuery q;
    q.instructor = query_value(req, "instructor");
    auto area = query_value(req, "area");
    auto today = geo::china_date();
    q.from = query_value(req, "from");
    q.to = query_value(req, "to");
    if (q.from.empty()) q.from = geo::quarter_start(today);
    if (q.to.empty()) q.to = today;
    if (!geo::valid_date(q.from) || !geo::valid_date(q.to))
        return error_response(400, "InvalidQuery", "from and to are calendar days, YYYY-MM-DD");
    auto rows = context_.editor.with_store([&](geo::Store& s) { return s.visits(q); });
    json items = json::array();
    auto view = context_.editor.view();
    std::optional<std::size_t> at;
    if (!area.empty() && !(at = view.area(area))) return error_response(404, "NotFound", "no area " + area);
    std::vector<char> inside(rows.size(), 1);
    if (at) {
        std::vector<geo::Point> points;
        for (const auto& r : rows) {
            auto* o = view.org(r.org);
            points.push_back(o ? o->location : geo::Point{1e9, 1e9});
        }
        auto hits = geo::locate_points({&view.data().areas[*at].shape}, points);
        for (std::size_t k = 0; k < rows.size(); ++k) inside[k] = hits[k] >= 0;
    }
    for (std::size_t k = rows.size(); k-- > 0;)  // newest first
        if (inside[k]) {
            auto* o = view.org(rows[k].org);
            items.push_back(visit_json(rows[k], o ? o->name : ""));
        }
    return json_response({{"from", q.from}, {"to", q.to}, {"items", items}});
}

}  // namespace covermap::api
