// The routes the web page needs: its session cookie, who is signed in, search, an
// organization's nearby instructors and history, area cards, the list of plans, and the
// page's own files. Each answers from memory like the rest of the API.
#include <openssl/rand.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "covermap/api/app.hpp"

#include "auth.hpp"
#include "covermap/api/geojson.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/text.hpp"

namespace covermap::api {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {


int limit_of(const Request& req, int def, int max) {
    auto s = query_value(req, "limit");
    if (s.empty()) return def;
    if (s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw geo::invalid_argument("limit must be a number from 1 to " + std::to_string(max));
    return std::clamp(std::stoi(s), 1, max);
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

json bbox_json(const geo::BBox& b) {
    if (b.empty()) return json();
    return {b.minx, b.miny, b.maxx, b.maxy};
}

const char* state_of(const geo::Organization& o) {
    if (!o.operating()) return "inactive";
    if (o.branch_id) return "branch";
    if (o.instructor_id) return "instructor";
    return "uncovered";
}

}  // namespace

Response App::post_session(const Request& req, const Token& who, const std::vector<std::string>&) {
    if (req.authorization.empty())
        return error_response(401, "Unauthorized", "a session is made from an 'Authorization: Bearer' header");
    std::string value = auth_->open_session(who);
    auto r = json_response({{"name", who.name},
                            {"role", to_string(who.role)},
                            {"basemap", options_.basemap.empty() ? json() : json(options_.basemap)}},
                           201);
    // Behind HTTPS (the public URL says so, or a trusted proxy) the cookie is Secure: a browser
    // never sends it over plain HTTP.
    bool https = options_.public_url.rfind("https://", 0) == 0 ||
                 (options_.public_url.empty() && options_.trust_proxy && req.forwarded_proto == "https");
    r.headers.emplace_back("Set-Cookie",
                           std::string(Auth::kCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                               std::to_string(std::chrono::seconds(auth_->session_life()).count()) + (https ? "; Secure" : ""));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

Response App::delete_session(const Request& req, const Token&, const std::vector<std::string>&) {
    auth_->close_session(req);
    Response r;
    r.status = 204;
    r.headers.emplace_back("Set-Cookie", std::string(Auth::kCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return r;
}

Response App::me(const Request&, const Token& who, const std::vector<std::string>&) {
    return json_response({{"name", who.name},
                          {"role", to_string(who.role)},
                          {"basemap", options_.basemap.empty() ? json() : json(options_.basemap)}});
}


std::shared_ptr<const std::vector<int>> App::located(geo::Level level) {
    // Edits never move an organization: the location cache lives until the next reload.
    {
        std::lock_guard lock(located_mutex_);
        if (located_generation_ != reload_generation_) {
            located_.clear();
            located_generation_ = reload_generation_;
        }
        if (auto it = located_.find(level); it != located_.end()) return it->second;
    }
    std::shared_ptr<const std::vector<int>> where;
    {
        std::shared_lock lock(data_mutex_);
        where = std::make_shared<const std::vector<int>>(geo::locate_orgs(data_, level));
    }
    std::lock_guard lock(located_mutex_);
    located_[level] = where;
    return where;
}

Response App::search_orgs(const Request& req, const Token&, const std::vector<std::string>&) {
    auto q = lower(query_value(req, "q"));
    if (auto why = geo::text_problem("name", q)) return error_response(400, "InvalidQuery", "q is " + *why);
    auto area = query_value(req, "area");
    auto covered = query_value(req, "covered");
    if (!covered.empty() && covered != "true" && covered != "false")
        return error_response(400, "InvalidQuery", "covered must be true or false");
    int limit = limit_of(req, 20, 500);
    std::shared_ptr<const std::vector<int>> where;
    int area_index = -1;
    if (!area.empty()) {
        std::optional<geo::Level> level;
        {
            std::shared_lock lock(data_mutex_);
            for (std::size_t i = 0; i < data_.areas.size(); ++i)
                if (data_.areas[i].code == area) {
                    area_index = static_cast<int>(i);
                    level = data_.areas[i].level;
                }
        }
        if (!level) return error_response(404, "NotFound", "no area " + area);
        where = located(*level);
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
    std::shared_lock lock(data_mutex_);
    auto consider = [&](std::size_t i) {
        const auto& o = data_.orgs[i];
        if (where && (*where)[i] != area_index) return;
        bool is_covered = o.branch_id || o.instructor_id;
        if (covered == "true" && !is_covered) return;
        if (covered == "false" && (is_covered || !o.operating())) return;
        if (!q.empty() && lower(o.name).find(q) == std::string::npos && lower(o.credit_code).rfind(q, 0) != 0 &&
            lower(o.id) != q)
            return;
        if (matched++ < limit)
            items.push_back({{"id", o.id},
                             {"name", o.name},
                             {"kind", std::string(geo::to_string(o.kind))},
                             {"credit_code", o.credit_code},
                             {"state", state_of(o)},
                             {"lon", o.location.x},
                             {"lat", o.location.y}});
    };
    if (near) {
        std::vector<std::pair<double, std::size_t>> order;
        for (std::size_t i = 0; i < data_.orgs.size(); ++i)
            if (double d = geo::haversine_m(*near, data_.orgs[i].location); d <= radius) order.push_back({d, i});
        std::sort(order.begin(), order.end());
        for (auto [distance, i] : order) consider(i);
    } else {
        for (std::size_t i = 0; i < data_.orgs.size(); ++i) consider(i);
    }
    return json_response({{"matched", matched}, {"items", items}});
}

Response App::org_instructors(const Request& req, const Token&, const std::vector<std::string>& args) {
    int limit = limit_of(req, 10, 100);
    std::shared_lock lock(data_mutex_);
    auto it = org_index_.find(args[0]);
    if (it == org_index_.end()) return error_response(404, "NotFound", "no organization " + args[0]);
    const auto& o = data_.orgs[it->second];
    struct Near {
        double d;
        std::size_t j;
    };
    std::vector<Near> near;
    for (std::size_t j = 0; j < data_.instructors.size(); ++j)
        near.push_back({geo::haversine_m(o.location, data_.instructors[j].home), j});
    auto n = std::min<std::size_t>(static_cast<std::size_t>(limit), near.size());
    std::partial_sort(near.begin(), near.begin() + static_cast<long>(n), near.end(),
                      [](const Near& a, const Near& b) { return a.d < b.d; });
    json items = json::array();
    for (std::size_t k = 0; k < n; ++k) {
        const auto& in = data_.instructors[near[k].j];
        int load = load_.count(in.id) ? load_.at(in.id) : 0;
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

Response App::org_history(const Request&, const Token&, const std::vector<std::string>& args) {
    {
        std::shared_lock lock(data_mutex_);
        if (!org_index_.count(args[0])) return error_response(404, "NotFound", "no organization " + args[0]);
    }
    std::vector<geo::AuditEntry> rows;
    {
        std::lock_guard writer(write_mutex_);
        rows = store_->audit(args[0]);
    }
    json items = json::array();
    for (const auto& e : rows)
        items.push_back({{"time", e.time},
                         {"by", e.token_name},
                         {"action", e.action},
                         {"before", json::parse(e.before, nullptr, false)},
                         {"after", json::parse(e.after, nullptr, false)}});
    return json_response({{"org", args[0]}, {"items", items}});
}

Response App::list_areas(const Request& req, const Token&, const std::vector<std::string>&) {
    std::optional<geo::Level> level;
    if (!query_value(req, "level").empty()) {
        level = geo::parse_level(query_value(req, "level"));
        if (!level) return error_response(400, "InvalidQuery", "unknown level");
    }
    auto q = query_value(req, "q");
    int limit = limit_of(req, 50, 20000);
    json items = json::array();
    std::shared_lock lock(data_mutex_);
    for (const auto& a : data_.areas) {
        if (level && a.level != *level) continue;
        if (!q.empty() && a.name.find(q) == std::string::npos && a.code.rfind(q, 0) != 0) continue;
        if (static_cast<int>(items.size()) >= limit) break;
        items.push_back({{"code", a.code},
                         {"name", a.name},
                         {"level", std::string(geo::to_string(a.level))},
                         {"parent_code", a.parent_code},
                         {"bbox", bbox_json(geo::bounds(a.shape))}});
    }
    return json_response({{"items", items}});
}

Response App::area_card(const Request& req, const Token&, const std::vector<std::string>& args) {
    int limit = limit_of(req, 100, 1000);
    std::optional<std::size_t> index;
    geo::Level level = geo::Level::district;
    {
        std::shared_lock lock(data_mutex_);
        for (std::size_t i = 0; i < data_.areas.size(); ++i)
            if (data_.areas[i].code == args[0]) index = i, level = data_.areas[i].level;
    }
    if (!index) return error_response(404, "NotFound", "no area " + args[0]);
    // The figures as /api/coverage counts them; the organizations only for the uncovered list.
    auto figures = coverage_by_code(level);
    auto where = located(level);
    std::shared_lock lock(data_mutex_);
    const auto& a = data_.areas[*index];
    geo::CoverageRow row;
    if (auto it = figures->find(a.code); it != figures->end()) row = it->second;
    json uncovered = json::array();
    for (std::size_t i = 0; i < data_.orgs.size() && static_cast<int>(uncovered.size()) < limit; ++i) {
        const auto& o = data_.orgs[i];
        if ((*where)[i] == static_cast<int>(*index) && o.operating() && !o.branch_id && !o.instructor_id)
            uncovered.push_back({{"id", o.id}, {"name", o.name}, {"lon", o.location.x}, {"lat", o.location.y}});
    }
    json card = geo::to_json(row);
    card.update({{"code", a.code},
                 {"name", a.name},
                 {"level", std::string(geo::to_string(a.level))},
                 {"parent_code", a.parent_code},
                 {"bbox", bbox_json(geo::bounds(a.shape))},
                 {"geometry", geometry_json(a.shape)},
                 {"uncovered", uncovered}});
    return json_response(card);
}

Response App::list_plans(const Request&, const Token&, const std::vector<std::string>&) {
    std::vector<geo::PlanRow> rows;
    {
        std::lock_guard writer(write_mutex_);
        rows = store_->plans("", false);
    }
    json items = json::array();
    for (auto it = rows.rbegin(); it != rows.rend(); ++it)  // newest first
        items.push_back({{"id", it->id},
                         {"name", it->name},
                         {"created", it->created},
                         {"by", it->token_name},
                         {"status", it->status}});
    return json_response({{"items", items}});
}

}  // namespace covermap::api
