#include "covermap/api/app.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

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

#include "auth.hpp"
#include "change_listener.hpp"
#include "static_files.hpp"
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

namespace {
constexpr std::pair<Role, std::string_view> kRoles[] = {
    {Role::viewer, "viewer"}, {Role::planner, "planner"}, {Role::admin, "admin"}};
}  // namespace

std::optional<Role> parse_role(const std::string& s) {
    for (const auto& [role, name] : kRoles)
        if (s == name) return role;
    return std::nullopt;
}

std::string to_string(Role r) {
    for (const auto& [role, name] : kRoles)
        if (r == role) return std::string(name);
    return "viewer";
}

namespace {

using geo::iso8601_utc_now;

// Non-empty segments of a path: "/tiles/orgs/1" -> tiles, orgs, 1.
}  // namespace

std::string new_token() {
    return "cm_" + random_hex(24);
}

std::string hash_token(const std::string& token) {
    // A connection sends the same token with every request: the last one's hash is kept per
    // thread (a SHA-256 through OpenSSL 3's EVP fetch was a visible share of a cached tile).
    // The secret is compared in constant time (OpenSSL's CRYPTO_memcmp): the thread's last
    // token may be someone else's, and an early-out comparison would time how much of it a
    // guess got right. Lengths are not secret (every token is cm_ and 48 hex digits).
    thread_local std::string last_token, last_hash;
    if (!last_hash.empty() && token.size() == last_token.size() &&
        CRYPTO_memcmp(token.data(), last_token.data(), token.size()) == 0)
        return last_hash;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(token.data(), token.size(), digest, &n, EVP_sha256(), nullptr);
    last_token = token;
    last_hash = hex(std::string_view(reinterpret_cast<const char*>(digest), n));
    return last_hash;
}

App::App(const AppOptions& options) : options_(options) {
    store_ = std::make_unique<geo::Store>(geo::Store::open_existing(options.db));
    reload();
    {
        std::shared_lock lock(data_mutex_);
        tiles_ = std::make_unique<tiles::TileService>(data_, options.cache_mb << 20);
    }
    auth_ = std::make_unique<Auth>(Auth::Options{options.db, options.refresh_interval, options.unknown_token_interval,
                                                 options.sessions_per_token, options.max_sessions},
                                   store_->tokens());
    for (const auto& plan : store_->plans("", false))
        if (plan.id.rfind("plan-", 0) == 0) next_plan_ = std::max(next_plan_, std::atoi(plan.id.c_str() + 5) + 1);
    static_files_ = std::make_unique<StaticFiles>(options.web_root, options.basemap);

    auto add = [&](std::string method, std::string pattern, Role role, Handler h) {
        routes_.push_back(Route{std::move(method), split_path(pattern), role, h, pattern});
    };
    add("GET", "/metrics", Role::viewer, &App::metrics_text);
    add("GET", "/api/coverage", Role::viewer, &App::coverage);
    add("GET", "/api/orgs/{}", Role::viewer, &App::get_org);
    add("PUT", "/api/orgs/{}/instructor", Role::planner, &App::put_instructor);
    add("DELETE", "/api/orgs/{}/instructor", Role::planner, &App::delete_instructor);
    add("PATCH", "/api/orgs/{}", Role::planner, &App::patch_org);
    add("POST", "/api/plan", Role::planner, &App::post_plan);
    add("GET", "/api/plan/{}", Role::viewer, &App::get_plan);
    add("POST", "/api/plan/{}/accept", Role::planner, &App::accept_plan);
    add("DELETE", "/api/plan/{}", Role::planner, &App::delete_plan);
    add("GET", "/api/export/{}", Role::viewer, &App::export_layer);
    add("POST", "/api/import/{}", Role::admin, &App::import_layer);
    add("POST", "/api/tokens", Role::admin, &App::post_token);
    add("GET", "/tiles/{}", Role::viewer, &App::tilejson);
    add("GET", "/tiles/{}/{}/{}/{}", Role::viewer, &App::tile);
    add("POST", "/api/session", Role::viewer, &App::post_session);
    add("DELETE", "/api/session", Role::viewer, &App::delete_session);
    add("GET", "/api/me", Role::viewer, &App::me);
    add("GET", "/api/orgs", Role::viewer, &App::search_orgs);
    add("GET", "/api/orgs/{}/instructors", Role::viewer, &App::org_instructors);
    add("GET", "/api/orgs/{}/history", Role::viewer, &App::org_history);
    add("GET", "/api/areas", Role::viewer, &App::list_areas);
    add("GET", "/api/areas/{}", Role::viewer, &App::area_card);
    add("GET", "/api/plans", Role::viewer, &App::list_plans);
    add("GET", "/api/history", Role::viewer, &App::history);
    add("GET", "/api/report", Role::viewer, &App::report);
    add("GET", "/ogc", Role::viewer, &App::ogc_landing);
    add("GET", "/ogc/conformance", Role::viewer, &App::ogc_conformance);
    add("GET", "/ogc/api", Role::viewer, &App::ogc_openapi);
    add("GET", "/ogc/collections", Role::viewer, &App::ogc_collections);
    add("GET", "/ogc/collections/{}", Role::viewer, &App::ogc_collection);
    add("GET", "/ogc/collections/{}/items", Role::viewer, &App::ogc_items);
    add("GET", "/ogc/collections/{}/items/{}", Role::viewer, &App::ogc_item);
    // The month's snapshot when it has none: at start, and on the first request of each new month.
    monthly_snapshot();
    // Other processes on the same PostGIS database: their commits reach memory and tiles here.
    if (store_->is_postgis())
        listener_ = std::make_unique<ChangeListener>(options.db, [this](const std::string& p) { apply_remote(p); });
}

App::~App() = default;

std::pair<geo::Dataset, std::uint64_t> App::data_snapshot() const {
    std::shared_lock lock(data_mutex_);
    return {data_, data_version_.load()};
}

std::unordered_map<geo::Id, std::pair<geo::Point, std::int64_t>> App::org_versions() const {
    std::shared_lock lock(data_mutex_);
    std::unordered_map<geo::Id, std::pair<geo::Point, std::int64_t>> was;
    for (const auto& o : data_.orgs) was[o.id] = {o.location, o.version};
    return was;
}

std::vector<geo::Point> App::touched_since(
    const std::unordered_map<geo::Id, std::pair<geo::Point, std::int64_t>>& was) const {
    std::vector<geo::Point> touched;
    for (const auto& o : data_.orgs) {
        auto it = was.find(o.id);
        if (it == was.end() || it->second.second != o.version) {
            touched.push_back(o.location);
            if (it != was.end()) touched.push_back(it->second.first);  // where it was
        }
    }
    return touched;
}

void App::reload() {
    auto d = store_->load();
    std::unique_lock lock(data_mutex_);
    data_ = std::move(d);
    area_bounds_.clear();
    for (const auto& a : data_.areas) area_bounds_.push_back(geo::bounds(a.shape));
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
    ++data_version_;
    ++reload_generation_;
}

std::string App::add_token(Role role, const std::string& name, const std::string& expires) {
    if (!expires.empty() && !geo::valid_date(expires))
        throw geo::invalid_argument("an expiry is a calendar date, YYYY-MM-DD, not '" +
                                    geo::replace_invalid_utf8(expires.substr(0, 20)) + "'");
    if (name.empty() || name.size() > 100 || !geo::valid_utf8(name) ||
        std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
        throw geo::invalid_argument("a token name is 1–100 bytes of UTF-8 text without control characters");
    auto token = new_token();
    auto hash = hash_token(token);
    {
        std::lock_guard w(write_mutex_);
        store_->add_token({name, to_string(role), hash, iso8601_utc_now(), expires, ""});
    }
    auth_->remember(hash, Caller{name, role, expires, hash});
    return token;
}

bool App::has_tokens() const { return !auth_->empty(); }

const App::Route* App::match_route(const Request& req, std::vector<std::string>& args, bool& path_known) const {
    const auto& segs = req.segments;
    path_known = false;
    for (const auto& r : routes_) {
        if (r.pattern.size() != segs.size()) continue;
        std::vector<std::string> a;
        bool ok = true;
        for (std::size_t i = 0; i < segs.size() && ok; ++i) {
            if (r.pattern[i] == "{}")
                a.push_back(segs[i]);
            else
                ok = r.pattern[i] == segs[i];
        }
        if (!ok) continue;
        path_known = true;
        if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) {
            args = std::move(a);
            return &r;
        }
    }
    return nullptr;
}

namespace {
bool is_public(const Request& req) {
    bool read = req.method == "GET" || req.method == "HEAD";
    return read && (req.path == "/health" || req.path == "/" || req.path.rfind("/web/", 0) == 0);
}
}  // namespace

std::optional<Response> App::admit(const Request& req) const {
    if (is_public(req)) return std::nullopt;
    if (!valid_text(req)) return error_response(400, "InvalidEncoding", "the request target is not valid UTF-8");
    auto who = auth_->authenticate(req);
    if (!who) return unauthorized();
    std::vector<std::string> args;
    bool known = false;
    const Route* match = match_route(req, args, known);
    if (!match)
        return known ? error_response(405, "MethodNotAllowed", "method " + req.method + " not allowed here")
                     : error_response(404, "NotFound", "no such resource");
    if (static_cast<int>(who->role) < static_cast<int>(match->role))
        return error_response(403, "Forbidden", "this needs the " + to_string(match->role) + " role");
    return std::nullopt;
}

bool App::is_slow(const Request& req) const {
    // Work that may take seconds runs on its own pool, so that it never holds up /health,
    // cached tiles or edits.
    for (const char* prefix : {"/api/export/", "/api/import/", "/api/report"})
        if (req.path.rfind(prefix, 0) == 0) return true;
    return req.method == "POST" && req.path == "/api/plan";
}

void App::stop_slow_work() { stopping_ = true; }

Response App::unauthorized() {
    auto res = error_response(401, "Unauthorized", "a valid 'Authorization: Bearer <token>' header is required");
    res.headers.emplace_back("WWW-Authenticate", "Bearer");
    return res;
}

Response App::handle(const Request& req) {
    auto t0 = std::chrono::steady_clock::now();
    Response res;
    try {
        monthly_snapshot();  // a new month since the last request: its snapshot (the reports' trends)
        if (!valid_text(req)) {
            res = error_response(400, "InvalidEncoding", "the request target is not valid UTF-8");
        } else if (req.path == "/health" && (req.method == "GET" || req.method == "HEAD")) {
            res = health(req, Token{"-", Role::viewer, "", ""}, {});
            res.route = "/health";
        } else if ((req.method == "GET" || req.method == "HEAD") &&
                   (req.path == "/" || req.path.rfind("/web/", 0) == 0)) {
            res = static_files_->serve(req.path == "/" ? "index.html" : req.path.substr(5));
            res.route = "/web";
        } else if (auto who = auth_->authenticate(req); !who) {
            // Before routing: without a token, nobody learns which paths exist.
            res = unauthorized();
        } else {
            std::vector<std::string> args;
            bool path_known = false;
            const Route* match = match_route(req, args, path_known);
            if (!match) {
                res = path_known ? error_response(405, "MethodNotAllowed", "method " + req.method + " not allowed here")
                                 : error_response(404, "NotFound", "no such resource");
            } else {
                if (static_cast<int>(who->role) < static_cast<int>(match->role))
                    res = error_response(403, "Forbidden", "this needs the " + to_string(match->role) + " role");
                else
                    res = (this->*(match->handler))(req, *who, args);
                res.route = match->name;
            }
            res.token_name = who->name;
        }
    } catch (const geo::invalid_argument& e) {
        res = error_response(400, "InvalidValue", e.what());
    } catch (const geo::cancelled_error& e) {
        res = error_response(503, "Cancelled", std::string(e.what()) + ": it took too long or the server is stopping");
    } catch (const std::exception& e) {
        // Never a stack trace or a path to the client: the details go to the server's log,
        // flushed at once (the access log is buffered).
        std::fprintf(stderr, "error: %s %s: %s\n", req.method.c_str(), geo::replace_invalid_utf8(req.path).c_str(),
                     e.what());
        std::fflush(stderr);
        res = error_response(500, "InternalError", "the request could not be completed");
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    metrics_.request(res.route, res.status, secs);
    return res;
}

Response App::health(const Request&, const Token&, const std::vector<std::string>&) {
    std::shared_lock lock(data_mutex_);
    return json_response({{"status", "ok"}, {"orgs", data_.orgs.size()}, {"areas", data_.areas.size()}});
}

Response App::metrics_text(const Request&, const Token&, const std::vector<std::string>&) {
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics_.text();
    auto t = tiles_->stats();
    std::ostringstream m;
    m << "# HELP covermap_tile_cache_hits_total Tile requests served from the cache.\n"
         "# TYPE covermap_tile_cache_hits_total counter\ncovermap_tile_cache_hits_total "
      << t.hits
      << "\n# HELP covermap_tile_cache_misses_total Tile requests that needed a render.\n"
         "# TYPE covermap_tile_cache_misses_total counter\ncovermap_tile_cache_misses_total "
      << t.misses
      << "\n# HELP covermap_tile_cache_bytes Bytes of encoded tiles in the cache.\n"
         "# TYPE covermap_tile_cache_bytes gauge\ncovermap_tile_cache_bytes "
      << t.bytes
      << "\n# HELP covermap_tile_cache_invalidated_total Cached tiles dropped by edits.\n"
         "# TYPE covermap_tile_cache_invalidated_total counter\ncovermap_tile_cache_invalidated_total "
      << t.invalidated
      << "\n# HELP covermap_tile_renders_total Metatile renders by layer and zoom.\n"
         "# TYPE covermap_tile_renders_total counter\n";
    for (const auto& [key, n] : t.renders_by) {
        auto slash = key.find('/');
        m << "covermap_tile_renders_total{layer=\"" << key.substr(0, slash) << "\",zoom=\"" << key.substr(slash + 1)
          << "\"} " << n << "\n";
    }
    r.body += m.str();
    return r;
}

Response App::post_token(const Request& req, const Token&, const std::vector<std::string>&) {
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object() || !(*body)["role"].is_string() || !(*body)["name"].is_string())
        return error_response(400, "InvalidValue", "body must be {\"role\": viewer|planner|admin, \"name\": …}");
    auto role = parse_role((*body)["role"].get<std::string>());
    auto name = (*body)["name"].get<std::string>();
    if (!role || name.empty() || name.size() > 100) return error_response(400, "InvalidValue", "bad role or name");
    std::string expires;
    if (body->contains("expires")) {
        if (!(*body)["expires"].is_string() || !geo::valid_date((*body)["expires"].get<std::string>()))
            return error_response(400, "InvalidValue", "expires must be a calendar date, YYYY-MM-DD");
        expires = (*body)["expires"].get<std::string>();
    }
    json out = {{"token", add_token(*role, name, expires)}, {"role", to_string(*role)}, {"name", name}};
    if (!expires.empty()) out["expires"] = expires;
    return json_response(out, 201);
}

}  // namespace covermap::api
