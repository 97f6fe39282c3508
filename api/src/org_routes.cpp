#include "org_routes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <variant>

#include "coverage_cache.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/editor.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/text.hpp"
#include "route_support.hpp"
#include "visit_routes.hpp"

namespace covermap::api {

using nlohmann::json;
using namespace detail;

namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}



Response with_etag(const geo::Organization& o, std::int64_t change_id = 0) {
    auto j = geo::to_json(o);
    if (change_id) j["change_id"] = change_id;  // an edit's answer: the change to undo it by
    auto r = json_response(j);
    r.headers.emplace_back("ETag", "\"" + std::to_string(o.version) + "\"");
    return r;
}

Response edited(const geo::Edited& e) { return with_etag(e.org, e.change_id); }

}  // namespace

const char* state_of(const geo::Organization& o) {
    if (!o.operating()) return "inactive";
    if (o.branch_id) return "branch";
    if (o.instructor_id) return "instructor";
    return "uncovered";
}

Response edit_refused(const geo::edit_error& e) {
    switch (e.kind) {
        case geo::edit_error::Kind::not_found:
            return error_response(404, "NotFound", e.what());
        case geo::edit_error::Kind::stale:
            return error_response(412, "PreconditionFailed", e.what());
        case geo::edit_error::Kind::over_capacity:
            return error_response(409, "Conflict", e.what());
        case geo::edit_error::Kind::out_of_area:
            return error_response(403, "OutOfArea", e.what());
        case geo::edit_error::Kind::out_of_scope:
            return error_response(403, "OutOfScope", e.what());
        case geo::edit_error::Kind::invalid:
            break;
    }
    return error_response(400, "InvalidValue", e.what());
}

// The version an edit is made from (If-Match), or the refusal: 428 without, 400 when it is no
// version number.
std::variant<std::int64_t, Response> if_match(const Request& req) {
    if (req.if_match.empty())
        return error_response(428, "PreconditionRequired", "send If-Match with the organization's version (its ETag)");
    auto expected = parse_etag(req.if_match);
    if (!expected) return error_response(400, "InvalidValue", "If-Match must be a version number");
    return *expected;
}

geo::Author author_of(const Caller& who) { return {who.name, who.area, who.instructor_id}; }

bool reads_ledger(const Caller& who, const geo::Organization& o) {
    return who.role != Role::instructor || o.instructor_id == who.instructor_id;
}

void OrgRoutes::add_routes(Router& router) {
    router.add("GET", "/api/orgs", Role::viewer, this, &OrgRoutes::search);
    router.add("GET", "/api/orgs/{}", Role::viewer, this, &OrgRoutes::get);
    router.add("GET", "/api/orgs/{}/instructors", Role::viewer, this, &OrgRoutes::instructors);
    router.add("GET", "/api/orgs/{}/history", Role::viewer, this, &OrgRoutes::history);
    router.add("PUT", "/api/orgs/{}/instructor", Role::planner, this, &OrgRoutes::put_instructor);
    router.add("DELETE", "/api/orgs/{}/instructor", Role::planner, this, &OrgRoutes::delete_instructor);
    router.add("PATCH", "/api/orgs/{}", Role::instructor, this, &OrgRoutes::patch);  // an instructor: its own ledger
}

Response OrgRoutes::get(const Request&, const Caller& who, const Args& args) {
    auto view = context_.editor.view();
    auto* o = view.org(args[0]);
    if (!o) return error_response(404, "NotFound", "no organization " + args[0]);
    // Names where people read: the instructor's, the branch's, the industry's.
    auto j = geo::to_json(*o);
    if (!reads_ledger(who, *o)) j.erase("ledger");
    const auto* in = o->instructor_id ? view.instructor(*o->instructor_id) : nullptr;
    j["instructor_name"] = in ? json(in->name) : json();
    j["branch_name"] = json();
    if (o->branch_id)
        for (const auto& b : view.data().branches)
            if (b.id == *o->branch_id) j["branch_name"] = b.name;
    j["industry_name"] = geo::industry_name(o->industry);
    // The 五清 ledger's freshness: the day of the last visit that confirmed it, and whether it
    // is due (not confirmed since this quarter began, China's calendar).
    auto verified = view.data().ledger_verified.find(o->id);
    j["ledger_verified_at"] = verified == view.data().ledger_verified.end() ? json() : json(verified->second);
    j["ledger_due"] = verified == view.data().ledger_verified.end() ||
                      verified->second < geo::quarter_start(geo::china_date());
    // The branch's last check against the 五有 standard, and its stars.
    auto check = view.data().branch_checks.find(o->id);
    j["branch_check"] = check == view.data().branch_checks.end()
                            ? json()
                            : json{{"date", check->second.date},
                                   {"wuyou", wuyou_json(check->second.wuyou)},
                                   {"all_five", check->second.wuyou == geo::kWuyouAll},
                                   {"stars", check->second.stars ? json(check->second.stars) : json()}};
    auto r = json_response(j);
    r.headers.emplace_back("ETag", "\"" + std::to_string(o->version) + "\"");
    return r;
}

Response OrgRoutes::put_instructor(const Request& req, const Caller& who, const Args& args) {
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    // Ids are text; a JSON integer is taken as its decimal text (old clients send numbers).
    const json* v = body->is_object() && body->contains("instructor_id") ? &(*body)["instructor_id"] : nullptr;
    std::string instructor;
    if (v && v->is_string())
        instructor = v->get<std::string>();
    else if (v && v->is_number_integer())
        instructor = v->dump();
    if (instructor.empty() || instructor.size() > 64)
        return error_response(400, "InvalidValue", "body must be {\"instructor_id\": \"<id>\"}");
    auto expected = if_match(req);
    if (auto* refusal = std::get_if<Response>(&expected)) return *refusal;
    try {
        return edited(context_.editor.set_instructor(args[0], instructor, std::get<std::int64_t>(expected), author_of(who)));
    } catch (const geo::edit_error& e) {
        return edit_refused(e);
    }
}

Response OrgRoutes::delete_instructor(const Request& req, const Caller& who, const Args& args) {
    auto expected = if_match(req);
    if (auto* refusal = std::get_if<Response>(&expected)) return *refusal;
    try {
        return edited(context_.editor.set_instructor(args[0], std::nullopt, std::get<std::int64_t>(expected), author_of(who)));
    } catch (const geo::edit_error& e) {
        return edit_refused(e);
    }
}

Response OrgRoutes::search(const Request& req, const Caller&, const Args&) {
    auto q = lower(query_value(req, "q"));
    if (auto why = geo::text_problem("name", q)) return error_response(400, "InvalidQuery", "q is " + *why);
    auto area = query_value(req, "area");
    auto covered = query_value(req, "covered");
    auto instructor = query_value(req, "instructor");  // the organizations one instructor serves
    if (!covered.empty() && covered != "true" && covered != "false")
        return error_response(400, "InvalidQuery", "covered must be true or false");
    int limit = limit_of(req, 20, 500);
    std::shared_ptr<const std::vector<int>> where;
    int area_index = -1;
    if (!area.empty()) {
        std::optional<geo::Level> level;
        {
            auto view = context_.editor.view();
            if (auto i = view.area(area)) area_index = static_cast<int>(*i), level = view.data().areas[*i].level;
        }
        if (!level) return error_response(404, "NotFound", "no area " + area);
        where = coverage_.located(*level);
    }
    // near=lon,lat: the organizations within radius_m of a point (a click on the map), nearest first.
    std::optional<geo::Point> near;
    double radius = 300;
    if (!query_value(req, "near").empty()) {
        double x = 0, y = 0;
        char extra = 0;
        if (std::sscanf(query_value(req, "near").c_str(), "%lf,%lf%c", &x, &y, &extra) != 2 || !std::isfinite(x) ||
            !std::isfinite(y) || std::fabs(x) > 180 || std::fabs(y) > 90)
            return error_response(400, "InvalidQuery", "near must be lon,lat");
        near = geo::Point{x, y};
        if (!query_value(req, "radius_m").empty()) {
            radius = std::atof(query_value(req, "radius_m").c_str());
            if (!(radius > 0 && radius <= 50000))
                return error_response(400, "InvalidQuery", "radius_m must be 0–50000");
        }
    }
    json items = json::array();
    long matched = 0;
    auto view = context_.editor.view();
    const auto& data = view.data();
    const auto quarter = geo::quarter_start(geo::china_date());
    auto consider = [&](std::size_t i) {
        const auto& o = data.orgs[i];
        if (where && (i >= where->size() || (*where)[i] != area_index)) return;
        if (!instructor.empty() && o.instructor_id != instructor) return;
        bool is_covered = o.branch_id || o.instructor_id;
        if (covered == "true" && !is_covered) return;
        if (covered == "false" && (is_covered || !o.operating())) return;
        if (!q.empty() && lower(o.name).find(q) == std::string::npos && lower(o.credit_code).rfind(q, 0) != 0 &&
            lower(o.id) != q)
            return;
        if (matched++ < limit) {
            auto verified = data.ledger_verified.find(o.id);
            bool known = verified != data.ledger_verified.end();
            items.push_back({{"id", o.id},
                             {"name", o.name},
                             {"kind", std::string(geo::to_string(o.kind))},
                             {"credit_code", o.credit_code},
                             {"state", state_of(o)},
                             {"lon", o.location.x},
                             {"lat", o.location.y},
                             {"version", o.version},
                             {"ledger_verified_at", known ? json(verified->second) : json()},
                             {"ledger_due", !known || verified->second < quarter}});
        }
    };
    if (near) {
        std::vector<std::pair<double, std::size_t>> order;
        for (std::size_t i = 0; i < data.orgs.size(); ++i)
            if (double d = geo::haversine_m(*near, data.orgs[i].location); d <= radius) order.push_back({d, i});
        std::sort(order.begin(), order.end());
        for (auto [distance, i] : order) consider(i);
    } else {
        for (std::size_t i = 0; i < data.orgs.size(); ++i) consider(i);
    }
    return json_response({{"matched", matched}, {"items", items}});
}

Response OrgRoutes::instructors(const Request& req, const Caller&, const Args& args) {
    int limit = limit_of(req, 10, 100);
    auto view = context_.editor.view();
    const auto& data = view.data();
    const auto* org = view.org(args[0]);
    if (!org) return error_response(404, "NotFound", "no organization " + args[0]);
    const auto& o = *org;
    struct Near {
        double d;
        std::size_t j;
    };
    std::vector<Near> near;
    for (std::size_t j = 0; j < data.instructors.size(); ++j)
        near.push_back({geo::haversine_m(o.location, data.instructors[j].home), j});
    auto n = std::min<std::size_t>(static_cast<std::size_t>(limit), near.size());
    std::partial_sort(near.begin(), near.begin() + static_cast<long>(n), near.end(),
                      [](const Near& a, const Near& b) { return a.d < b.d; });
    json items = json::array();
    for (std::size_t k = 0; k < n; ++k) {
        const auto& in = data.instructors[near[k].j];
        int load = view.load(in.id);
        bool match = !o.industry.empty() && in.industries.find(o.industry) != std::string::npos;
        items.push_back({{"id", in.id},
                         {"name", in.name},
                         {"load", load},
                         {"capacity", in.capacity},
                         {"industries", in.industries},
                         {"unit", in.unit},
                         {"distance_m", std::round(near[k].d)},
                         {"industry_match", match},
                         {"current", o.instructor_id == in.id}});
    }
    return json_response({{"org", o.id}, {"items", items}});
}

Response OrgRoutes::history(const Request&, const Caller& who, const Args& args) {
    bool ledger = false;
    {
        auto v = context_.editor.view();
        auto* o = v.org(args[0]);
        if (!o) return error_response(404, "NotFound", "no organization " + args[0]);
        ledger = reads_ledger(who, *o);
    }
    auto rows = context_.editor.with_store([&](geo::Store& s) { return s.audit(args[0]); });
    json items = json::array();
    auto view = context_.editor.view();
    auto named = [&](json record) {  // an instructor by name beside the id
        if (!ledger && record.is_object()) record.erase("ledger");
        if (record.is_object() && record.contains("instructor_id") && record["instructor_id"].is_string())
            if (const auto* in = view.instructor(record["instructor_id"].get<std::string>()))
                record["instructor_name"] = in->name;
        return record;
    };
    for (const auto& e : rows)
        items.push_back({{"time", e.time},
                         {"by", e.token_name},
                         {"action", e.action},
                         {"before", named(json::parse(e.before, nullptr, false))},
                         {"after", named(json::parse(e.after, nullptr, false))}});
    return json_response({{"org", args[0]}, {"items", items}});
}

// The fields of a correction (PATCH /api/orgs/{id}, a visit's ledger), typed: the answer to
// send when one is wrong, else nothing.
std::optional<Response> read_correction(const json& body, geo::Correction& c) {
    auto count = [&](const json& v, int hi) -> std::optional<int> {
        if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > hi) return std::nullopt;
        return static_cast<int>(v.get<std::int64_t>());
    };
    for (const auto& [key, v] : body.items()) {
        std::string bad;
        if (key == "status") {
            c.status = v.is_string() ? geo::parse_org_status(v.get<std::string>()) : std::nullopt;
            if (!c.status) bad = "operating, suspended or deregistered";
        } else if (key == "employees") {
            c.employees = count(v, 100'000'000);
            if (!c.employees) bad = "an integer 0–10^8";
        } else if (key == "party_members") {
            c.party_members = count(v, 10'000'000);
            if (!c.party_members) bad = "an integer 0–10^7";
        } else if (key == "branch_id") {
            if (v.is_null())
                c.branch_id = std::optional<std::int64_t>();
            else if (v.is_number_integer())
                c.branch_id = v.get<std::int64_t>();
            else
                bad = "null or the id of an existing branch";
        } else if (key == "no_branch_reason" || key == "measure" || key == "person_in_charge" || key == "phone" ||
                   key == "address") {
            if (v.is_string())
                c.ledger.emplace_back(key, v.get<std::string>());
            else
                bad = "text";
        } else if (key == "lon" || key == "lat") {
            double lim = key == "lon" ? 180 : 90;
            if (!v.is_number() || !std::isfinite(v.get<double>()) || std::fabs(v.get<double>()) > lim)
                bad = "a number of degrees";
            else
                (key == "lon" ? c.lon : c.lat) = v.get<double>();
        } else {
            return error_response(400, "InvalidValue", "field '" + key + "' cannot be corrected here");
        }
        if (!bad.empty()) return error_response(400, "InvalidValue", key + " must be " + bad);
    }
    return std::nullopt;
}

// A planner corrects a record: status, employees, members, branch (removed or set to an
// existing one), the ledger, the address, the point (a row placed by address moved to its
// spot). Types are checked here; the editing service checks the rest, compares and swaps.
Response OrgRoutes::patch(const Request& req, const Caller& who, const Args& args) {
    auto expected = if_match(req);
    if (auto* refusal = std::get_if<Response>(&expected)) return *refusal;
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object() || body->empty())
        return error_response(400, "InvalidValue", "body must be an object of fields");
    geo::Correction c;
    if (auto refusal = read_correction(*body, c)) return *refusal;
    try {
        return edited(context_.editor.correct(args[0], c, std::get<std::int64_t>(expected), author_of(who)));
    } catch (const geo::edit_error& e) {
        return edit_refused(e);
    }
}

}  // namespace covermap::api
