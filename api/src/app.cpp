#include "covermap/api/app.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "area_routes.hpp"
#include "auth.hpp"
#include "basemap.hpp"
#include "change_listener.hpp"
#include "change_routes.hpp"
#include "coverage_cache.hpp"
#include "covermap/api/events.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/editor.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/text.hpp"
#include "covermap/tiles/service.hpp"
#include "ogc_routes.hpp"
#include "org_routes.hpp"
#include "plan_routes.hpp"
#include "report_routes.hpp"
#include "route_support.hpp"
#include "router.hpp"
#include "session_routes.hpp"
#include "site_routes.hpp"
#include "static_files.hpp"
#include "tile_routes.hpp"
#include "transfer_routes.hpp"
#include "visit_routes.hpp"
#include "workload_routes.hpp"

namespace covermap::api {

using nlohmann::json;
using namespace detail;

namespace {
constexpr std::pair<Role, std::string_view> kRoles[] = {
    {Role::viewer, "viewer"}, {Role::instructor, "instructor"}, {Role::planner, "planner"}, {Role::admin, "admin"}};
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

using geo::iso8601_utc_now;

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

void Router::add(std::string method, const std::string& pattern, Role role, Handler handler) {
    routes_.push_back(Route{std::move(method), split_path(pattern), role, std::move(handler), pattern});
}

const Router::Route* Router::match(const Request& req, Args& args, bool& path_known) const {
    const auto& segs = req.segments;
    path_known = false;
    for (const auto& r : routes_) {
        if (r.pattern.size() != segs.size()) continue;
        Args a;
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

// A change as an open page hears of it: its id, the organizations (null with a count beyond
// 1,000), the districts and streets they lie in, and the box around them and the places it
// touched.
std::string change_event(const geo::Change& c, const geo::Dataset& data) {
    json j = {{"change_id", c.id ? json(c.id) : json()}, {"count", c.org_ids.size()}};
    // The places it touched, as the change carries them (no pass over the data: this runs
    // inside the writer's turn).
    geo::BBox box;
    std::vector<geo::Point> points = c.places;
    for (const auto& [before, after] : c.orgs) points.push_back(before.location), points.push_back(after.location);
    for (const auto& p : points) box.expand(p);
    j["orgs"] = c.org_ids.size() <= 1000 ? json(c.org_ids) : json();
    json areas = json::array();
    if (!points.empty() && points.size() <= 4000) {
        std::vector<const geo::MultiPolygon*> shapes;
        std::vector<const geo::Area*> which;
        for (const auto& a : data.areas)
            if (a.level == geo::Level::district || a.level == geo::Level::street) shapes.push_back(&a.shape), which.push_back(&a);
        std::set<std::string> codes;
        for (int hit : geo::locate_points(shapes, points))
            if (hit >= 0) codes.insert(which[static_cast<std::size_t>(hit)]->code);
        for (const auto& code : codes) areas.push_back(code);
    }
    j["areas"] = areas;
    j["bbox"] = box.empty() ? json() : json{box.minx, box.miny, box.maxx, box.maxy};
    return geo::dump_json(j);
}

}  // namespace

App::App(const AppOptions& options) : options_(options) {
    // Other processes on the same PostGIS database: their commits reach memory and tiles here.
    // LISTEN first, then load: a commit between the two would be missed; what comes while this
    // process loads and builds is held until the end of this constructor.
    if (options.db.rfind("PG:", 0) == 0)
        listener_ = std::make_unique<ChangeListener>(options.db, [this](const std::string& payload) {
            auto j = json::parse(payload, nullptr, false);
            if (!j.is_object()) return;
            std::vector<geo::Id> ids;
            if (j.contains("orgs") && j["orgs"].is_array())
                for (const auto& id : j["orgs"])
                    if (id.is_string()) ids.push_back(id.get<std::string>());
            try {
                editor_->apply_remote(ids, j.value("reload", false), j.value("change", std::int64_t{0}));
            } catch (const std::exception& e) {
                std::fprintf(stderr, "covermap: cannot apply another process's change: %s\n", e.what());
            }
        });
    editor_ = std::make_unique<geo::Editor>(std::make_unique<geo::Store>(geo::Store::open_existing(options.db)));
    tiles_ = std::make_unique<tiles::TileService>(
        editor_->view().data(), options.cache_mb << 20, 1500,
        tiles::TileDirOptions{options.tile_dir, static_cast<std::uint64_t>(options.tile_dir_mb) << 20});
    // Every committed change reaches the tiles it touched, in commit order.
    events_ = std::make_unique<EventHub>();
    // Every committed change reaches the tiles it touched, in commit order, then open pages.
    editor_->on_change([this, tiles = tiles_.get(), events = events_.get()](const geo::Change& c, const geo::Dataset& data) {
        if (coverage_) coverage_->changed(c, data);  // its organizations counted again in the tables kept
        for (const auto& b : c.branches) tiles->add_branch(b.id, b.type);
        switch (c.scope) {
            case geo::Change::Scope::orgs:
                tiles->update(c.orgs, &data);
                break;
            case geo::Change::Scope::places:
                if (!c.places.empty()) tiles->replace(data, c.places);
                break;
            case geo::Change::Scope::everything:
                tiles->reset(data);
                break;
        }
        if (events->subscribers()) events->publish("change", change_event(c, data));
    });
    auth_ = std::make_unique<Auth>(Auth::Options{options.db, options.refresh_interval, options.unknown_token_interval,
                                                 options.sessions_per_token, options.max_sessions},
                                   editor_->with_store([](geo::Store& s) { return s.tokens(); }));
    static_files_ = std::make_unique<StaticFiles>(options.web_root, Basemap::is_local(options.basemap) ? "" : options.basemap);
    context_ = std::make_unique<Context>(Context{options_, metrics_, *editor_, *tiles_, stopping_});
    coverage_ = std::make_unique<CoverageCache>(*editor_);
    reports_ = std::make_unique<Reports>(*context_, *coverage_);
    areas_ = std::make_unique<AreaRoutes>(*context_, *coverage_, *reports_);
    orgs_ = std::make_unique<OrgRoutes>(*context_, *coverage_);
    plans_ = std::make_unique<Plans>(*context_);
    ogc_ = std::make_unique<Ogc>(*context_, *coverage_);
    tile_routes_ = std::make_unique<TileRoutes>(*context_, *auth_);
    transfer_ = std::make_unique<Transfer>(*context_);
    sessions_ = std::make_unique<SessionRoutes>(*context_, *auth_);
    changes_ = std::make_unique<ChangeRoutes>(*context_, *coverage_);
    visits_ = std::make_unique<VisitRoutes>(*context_);
    sites_ = std::make_unique<SiteRoutes>(*context_);
    workload_ = std::make_unique<WorkloadRoutes>(*context_);
    if (Basemap::is_local(options.basemap)) basemap_ = std::make_unique<Basemap>(options.basemap);

    router_ = std::make_unique<Router>();
    router_->add("GET", "/metrics", Role::viewer, this, &App::metrics_text);
    router_->add("POST", "/api/tokens", Role::admin, this, &App::post_token);
    // Live updates: the head here; the server keeps the connection and writes each change.
    router_->add("GET", "/api/events", Role::viewer, [](const Request&, const Caller&, const Args&) {
        Response r;
        r.event_stream = true;
        r.content_type = "text/event-stream";
        r.headers.emplace_back("Cache-Control", "no-store");
        return r;
    });
    areas_->add_routes(*router_);
    orgs_->add_routes(*router_);
    plans_->add_routes(*router_);
    transfer_->add_routes(*router_);
    tile_routes_->add_routes(*router_);
    sessions_->add_routes(*router_);
    reports_->add_routes(*router_);
    ogc_->add_routes(*router_);
    changes_->add_routes(*router_);
    visits_->add_routes(*router_);
    sites_->add_routes(*router_);
    workload_->add_routes(*router_);
    if (basemap_) basemap_->add_routes(*router_);
    // The month's snapshot when it has none: at start, and on the first request of each new month.
    reports_->monthly_snapshot();
    // Other processes' commits from the LISTEN made before the data was loaded (above) on.
    if (listener_) listener_->start();
}

App::~App() = default;

void check_token_limits(Role role, const std::string& area, const std::string& instructor, const geo::Store& store) {
    if (!area.empty()) {
        if (role != Role::planner) throw geo::invalid_argument("only a planner's token is limited to an area");
        auto level = store.area_level(area);
        if (level != "district" && level != "street" && level != "park")
            throw geo::invalid_argument("the area of a token is the code of a district, a street or a park, not '" +
                                        geo::replace_invalid_utf8(area.substr(0, 40)) + "'");
    }
    if (role == Role::instructor && instructor.empty())
        throw geo::invalid_argument("an instructor's token names its instructor (--instructor ID)");
    if (!instructor.empty()) {
        if (role != Role::instructor) throw geo::invalid_argument("only an instructor's token names an instructor");
        if (!store.has_instructor(instructor))
            throw geo::invalid_argument("no instructor '" + geo::replace_invalid_utf8(instructor.substr(0, 40)) + "'");
    }
}

std::string App::add_token(Role role, const std::string& name, const std::string& expires, const std::string& area,
                           const std::string& instructor) {
    if (!expires.empty() && !geo::valid_date(expires))
        throw geo::invalid_argument("an expiry is a calendar date, YYYY-MM-DD, not '" +
                                    geo::replace_invalid_utf8(expires.substr(0, 20)) + "'");
    if (name.empty() || name.size() > 100 || !geo::valid_utf8(name) ||
        std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
        throw geo::invalid_argument("a token name is 1–100 bytes of UTF-8 text without control characters");
    auto token = new_token();
    auto hash = hash_token(token);
    editor_->with_store([&](geo::Store& s) {
        check_token_limits(role, area, instructor, s);
        s.add_token({name, to_string(role), hash, iso8601_utc_now(), expires, "", area, instructor});
    });
    auth_->remember(hash, Caller{name, role, expires, hash, area, instructor});
    return token;
}

bool App::has_tokens() const { return !auth_->empty(); }

namespace {
Response unauthorized() {
    auto res = error_response(401, "Unauthorized", "a valid 'Authorization: Bearer <token>' header is required");
    res.headers.emplace_back("WWW-Authenticate", "Bearer");
    return res;
}

// The page's files: the planner's page at /, the instructors' field page at /field with its
// service worker at /field-sw.js (a worker controls only what lies under its own path, so it is
// served from the root), everything else under /web/.
std::optional<std::string> page_file(const Request& req) {
    if (req.method != "GET" && req.method != "HEAD") return std::nullopt;
    if (req.path == "/") return "index.html";
    if (req.path == "/field") return "field/index.html";
    if (req.path == "/field-sw.js") return "field/sw.js";
    if (req.path.rfind("/web/", 0) == 0) return req.path.substr(5);
    return std::nullopt;
}

bool is_public(const Request& req) {
    bool read = req.method == "GET" || req.method == "HEAD";
    return read && (req.path == "/health" || page_file(req));
}
}  // namespace

std::optional<Response> App::admit(const Request& req) const {
    if (is_public(req)) return std::nullopt;
    if (!valid_text(req)) return error_response(400, "InvalidEncoding", "the request target is not valid UTF-8");
    auto who = auth_->authenticate(req);
    if (!who) return unauthorized();
    Args args;
    bool known = false;
    const auto* match = router_->match(req, args, known);
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

std::optional<Response> App::handle_fast(const Request& req) {
    // On an I/O thread: anything unusual goes to the full path, which catches and answers.
    try {
        return tile_routes_->cached(req);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

Response App::handle(const Request& req) {
    auto t0 = std::chrono::steady_clock::now();
    Response res;
    try {
        reports_->monthly_snapshot();  // a new month since the last request: its snapshot (the reports' trends)
        if (!valid_text(req)) {
            res = error_response(400, "InvalidEncoding", "the request target is not valid UTF-8");
        } else if (req.path == "/health" && (req.method == "GET" || req.method == "HEAD")) {
            res = health(req);
            res.route = "/health";
        } else if (auto file = page_file(req)) {
            res = static_files_->serve(*file);
            res.route = "/web";
        } else if (auto who = auth_->authenticate(req); !who) {
            // Before routing: without a token, nobody learns which paths exist.
            res = unauthorized();
        } else {
            Args args;
            bool path_known = false;
            const auto* match = router_->match(req, args, path_known);
            if (!match) {
                res = path_known ? error_response(405, "MethodNotAllowed", "method " + req.method + " not allowed here")
                                 : error_response(404, "NotFound", "no such resource");
            } else {
                if (static_cast<int>(who->role) < static_cast<int>(match->role))
                    res = error_response(403, "Forbidden", "this needs the " + to_string(match->role) + " role");
                else
                    res = match->handler(req, *who, args);
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

Response App::health(const Request&) {
    auto view = editor_->view();
    return json_response({{"status", "ok"}, {"orgs", view.data().orgs.size()}, {"areas", view.data().areas.size()}});
}

Response App::metrics_text(const Request&, const Caller&, const std::vector<std::string>&) {
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
    if (!options_.tile_dir.empty()) {
        auto metric = [&](const char* name, const char* type, const char* help, long long v) {
            m << "# HELP covermap_tile_dir_" << name << " " << help << "\n# TYPE covermap_tile_dir_" << name << " "
              << type << "\ncovermap_tile_dir_" << name << " " << v << "\n";
        };
        metric("hits_total", "counter", "Metatiles served from the tile directory instead of rendered.", t.disk_hits);
        metric("stale_total", "counter", "Metatile files drawn from other data than this process's (rendered again).",
               t.disk_stale);
        metric("writes_total", "counter", "Metatile files written.", t.disk_writes);
        metric("damaged_total", "counter", "Metatile files found damaged or of another build (deleted).",
               t.disk_damaged);
        metric("evicted_total", "counter", "Metatile files deleted to stay within --tile-dir-mb.", t.disk_evicted);
        metric("errors_total", "counter", "Tile directory reads, writes or deletions that failed.", t.disk_errors);
        metric("bytes", "gauge", "Bytes of metatile files in the tile directory, as this process counts them.",
               t.disk_bytes);
    }
    r.body += m.str();
    return r;
}

Response App::post_token(const Request& req, const Caller&, const std::vector<std::string>&) {
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object() || !(*body)["role"].is_string() || !(*body)["name"].is_string())
        return error_response(400, "InvalidValue",
                              "body must be {\"role\": viewer|instructor|planner|admin, \"name\": …, \"area\"?, \"instructor_id\"?}");
    auto role = parse_role((*body)["role"].get<std::string>());
    auto name = (*body)["name"].get<std::string>();
    if (!role || name.empty() || name.size() > 100) return error_response(400, "InvalidValue", "bad role or name");
    std::string expires;
    if (body->contains("expires")) {
        if (!(*body)["expires"].is_string() || !geo::valid_date((*body)["expires"].get<std::string>()))
            return error_response(400, "InvalidValue", "expires must be a calendar date, YYYY-MM-DD");
        expires = (*body)["expires"].get<std::string>();
    }
    std::string area, instructor;
    for (auto [key, into] : {std::pair{"area", &area}, std::pair{"instructor_id", &instructor}})
        if (body->contains(key) && !(*body)[key].is_null()) {
            if (!(*body)[key].is_string()) return error_response(400, "InvalidValue", std::string(key) + " must be text");
            *into = (*body)[key].get<std::string>();
        }
    std::string token;
    try {
        token = add_token(*role, name, expires, area, instructor);
    } catch (const geo::invalid_argument& e) {
        return error_response(400, "InvalidValue", e.what());
    }
    json out = {{"token", token}, {"role", to_string(*role)}, {"name", name}};
    if (!expires.empty()) out["expires"] = expires;
    if (!area.empty()) out["area"] = area;
    if (!instructor.empty()) out["instructor_id"] = instructor;
    return json_response(out, 201);
}

}  // namespace covermap::api
