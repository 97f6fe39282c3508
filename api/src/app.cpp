#include "covermap/api/app.hpp"

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

#include "change_listener.hpp"
#include "covermap/api/geojson.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/export.hpp"
#include "covermap/geo/import.hpp"
#include "covermap/geo/planner.hpp"
#include "covermap/geo/text.hpp"

namespace covermap::api {

namespace fs = std::filesystem;
using nlohmann::json;

std::optional<Role> parse_role(const std::string& s) {
    if (s == "viewer") return Role::viewer;
    if (s == "planner") return Role::planner;
    if (s == "admin") return Role::admin;
    return std::nullopt;
}

std::string to_string(Role r) {
    switch (r) {
        case Role::viewer:
            return "viewer";
        case Role::planner:
            return "planner";
        case Role::admin:
            return "admin";
    }
    return "viewer";
}

namespace {
std::string base_of(const Request& req, const AppOptions& o);
}  // namespace

namespace {

std::string hex(const unsigned char* p, std::size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        s += digits[p[i] >> 4];
        s += digits[p[i] & 15];
    }
    return s;
}

using geo::iso8601_utc_now;

// Non-empty segments of a path: "/tiles/orgs/1" -> tiles, orgs, 1.
std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> segs;
    std::stringstream in(path);
    std::string seg;
    while (std::getline(in, seg, '/'))
        if (!seg.empty()) segs.push_back(seg);
    return segs;
}

// Strict JSON: bounded nesting (nlohmann has no depth limit of its own), then parse.
std::optional<json> parse_json(const std::string& body, std::string& why) {
    int depth = 0, max_depth = 0;
    bool in_string = false, escape = false;
    for (char c : body) {
        if (in_string) {
            if (escape)
                escape = false;
            else if (c == '\\')
                escape = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '{' || c == '[')
            max_depth = std::max(max_depth, ++depth);
        else if (c == '}' || c == ']')
            --depth;
    }
    if (max_depth > 32) {
        why = "JSON nested deeper than 32 levels";
        return std::nullopt;
    }
    try {
        return json::parse(body);
    } catch (const json::exception&) {
        why = "malformed JSON body";
        return std::nullopt;
    }
}

std::optional<std::int64_t> parse_id(const std::string& s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

// Versions travel as ETags: "7" (quoted) or 7; W/ prefixes are not ours.
std::optional<std::int64_t> parse_etag(std::string s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    return parse_id(s);
}

const std::map<std::string, geo::Level> kAreaCollections = {{"areas-park", geo::Level::park},
                                                            {"areas-street", geo::Level::street},
                                                            {"areas-community", geo::Level::community},
                                                            {"areas-grid", geo::Level::grid},
                                                            {"areas-district", geo::Level::district}};

// A scratch file for uploads and exports, removed when the object goes.
struct ScratchFile {
    explicit ScratchFile(const std::string& ext) {
        std::random_device rd;
        path = (fs::temp_directory_path() / ("covermap-" + std::to_string(rd()) + std::to_string(rd()) + ext)).string();
    }
    ~ScratchFile() {
        std::error_code ec;
        fs::remove(path, ec);
        fs::remove_all(path + ".parts", ec);
    }
    std::string path;
};

// Error messages from lower layers may name scratch files: never show paths to clients.
std::string scrub(std::string msg, const std::string& path, const std::string& as) {
    for (std::size_t at; !path.empty() && (at = msg.find(path)) != std::string::npos;) msg.replace(at, path.size(), as);
    return msg;
}

}  // namespace

std::string new_token() {
    unsigned char buf[24];
    if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("no randomness for a token");
    return "cm_" + hex(buf, sizeof buf);
}

std::string hash_token(const std::string& token) {
    // A connection sends the same token with every request: the last one's hash is kept per
    // thread (a SHA-256 through OpenSSL 3's EVP fetch was a visible share of a cached tile).
    thread_local std::string last_token, last_hash;
    if (!last_hash.empty() && token == last_token) return last_hash;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(token.data(), token.size(), digest, &n, EVP_sha256(), nullptr);
    last_token = token;
    last_hash = hex(digest, n);
    return last_hash;
}

App::App(const AppOptions& options) : options_(options) {
    store_ = std::make_unique<geo::Store>(geo::Store::open_existing(options.db));
    reload();
    {
        std::shared_lock lock(data_mutex_);
        tiles_ = std::make_unique<tiles::TileService>(data_, options.cache_mb << 20);
    }
    refresh_tokens(store_->tokens());
    for (const auto& plan : store_->plans("", false))
        if (plan.id.rfind("plan-", 0) == 0) next_plan_ = std::max(next_plan_, std::atoi(plan.id.c_str() + 5) + 1);
    // The UI's files, fixed at start: no URL ever names a path on disk.
    if (!options.web_root.empty() && fs::is_directory(options.web_root))
        for (const auto& e : fs::recursive_directory_iterator(options.web_root))
            if (e.is_regular_file())
                static_files_[fs::relative(e.path(), options.web_root).generic_string()] = e.path().string();

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

// The tokens as stored now, through a store handle of its own (opened once: the writer's is
// busy during imports, and opening a store checks its schema every time).
void App::reread_tokens() const {
    std::vector<geo::TokenRow> rows;
    try {
        std::lock_guard lock(token_store_mutex_);
        if (!token_store_) token_store_ = std::make_unique<geo::Store>(geo::Store::open_existing(options_.db));
        rows = token_store_->tokens();
    } catch (const std::exception&) {
        return;  // keep the tokens known so far
    }
    refresh_tokens(rows);
}

void App::refresh_tokens(const std::vector<geo::TokenRow>& rows) const {
    auto now = iso8601_utc_now();
    std::unordered_map<std::string, Token> fresh;
    for (const auto& t : rows)
        if (auto role = parse_role(t.role); role && t.usable(now))
            fresh[t.hash] = Token{geo::replace_invalid_utf8(t.name), *role, t.expires};
    std::set<std::string> names;
    for (const auto& [hash, t] : fresh) names.insert(t.name);
    {
        std::lock_guard lock(tokens_mutex_);
        tokens_ = std::move(fresh);
        tokens_read_ = std::chrono::steady_clock::now();
    }
    // A revoked or expired token's web sessions end with it.
    std::lock_guard lock(sessions_mutex_);
    for (auto it = sessions_.begin(); it != sessions_.end();)
        it = names.count(it->second.who.name) ? std::next(it) : sessions_.erase(it);
}

std::string App::add_token(Role role, const std::string& name, const std::string& expires) {
    if (!expires.empty() && (expires.size() != 10 || expires[4] != '-' || expires[7] != '-'))
        throw geo::invalid_argument("an expiry is a date, YYYY-MM-DD");
    if (name.empty() || name.size() > 100 || !geo::valid_utf8(name) ||
        std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
        throw geo::invalid_argument("a token name is 1–100 bytes of UTF-8 text without control characters");
    auto token = new_token();
    auto hash = hash_token(token);
    {
        std::lock_guard w(write_mutex_);
        store_->add_token({name, to_string(role), hash, iso8601_utc_now(), expires, ""});
    }
    std::lock_guard lock(tokens_mutex_);
    tokens_[hash] = Token{name, role, expires};
    return token;
}

bool App::has_tokens() const {
    std::lock_guard lock(tokens_mutex_);
    return !tokens_.empty();
}

std::optional<App::Token> App::authenticate(const Request& req) const {
    // The web page's session cookie counts for reads only; a write needs the header, which
    // another site cannot make a browser send (and the cookie is SameSite=Strict too).
    if (req.authorization.empty() && (req.method == "GET" || req.method == "HEAD")) {
        bool stale;
        {
            std::lock_guard lock(tokens_mutex_);
            stale = std::chrono::steady_clock::now() - tokens_read_ > std::chrono::seconds(5);
            if (stale) tokens_read_ = std::chrono::steady_clock::now();
        }
        if (stale) reread_tokens();
        return session_of(req);
    }
    // "Bearer" is a scheme name, and scheme names are case-insensitive (RFC 9110 §11.1).
    const std::string& a = req.authorization;
    if (a.size() < 8 || a.size() > 512) return std::nullopt;
    static const char scheme[] = "bearer";
    for (int i = 0; i < 6; ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != scheme[i]) return std::nullopt;
    auto start = a.find_first_not_of(' ', 6);
    if (start == 6 || start == std::string::npos) return std::nullopt;
    auto end = a.find_last_not_of(' ');
    auto hash = hash_token(a.substr(start, end - start + 1));
    // The store's tokens are read again every 5 s (a token made or revoked on the command line
    // counts on a running server without a restart), and at once for an unknown token, at most
    // every 2 s (so wrong tokens cannot make every request read the store).
    auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(tokens_mutex_);
        auto it = tokens_.find(hash);
        if (it != tokens_.end() && now - tokens_read_ < std::chrono::seconds(5)) {
            if (!it->second.expires.empty() && iso8601_utc_now().substr(0, 10) > it->second.expires)
                return std::nullopt;
            return it->second;
        }
        if (it == tokens_.end()) {
            if (now - missed_read_ < std::chrono::seconds(2)) return std::nullopt;
            missed_read_ = now;
        } else {
            tokens_read_ = now;  // one reader at a time; the others use what is there
        }
    }
    reread_tokens();
    std::lock_guard lock(tokens_mutex_);
    auto it = tokens_.find(hash);
    if (it == tokens_.end()) return std::nullopt;
    return it->second;
}

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
    auto who = authenticate(req);
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
            res = health(req, Token{"-", Role::viewer, ""}, {});
            res.route = "/health";
        } else if ((req.method == "GET" || req.method == "HEAD") &&
                   (req.path == "/" || req.path.rfind("/web/", 0) == 0)) {
            res = static_file(req, req.path == "/" ? "index.html" : req.path.substr(5));
            res.route = "/web";
        } else if (auto who = authenticate(req); !who) {
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

Response App::tilejson(const Request& req, const Token&, const std::vector<std::string>& args) {
    const std::string& name = args[0];
    if (name.size() < 6 || name.substr(name.size() - 5) != ".json")
        return error_response(404, "NotFound", "no such resource");
    try {
        auto base = base_of(req, options_);
        Response r;
        r.body = tiles_->tilejson(name.substr(0, name.size() - 5), base.substr(0, base.size() - 4));
        return r;
    } catch (const std::invalid_argument&) {
        return error_response(404, "NotFound", "no tile layer " + name.substr(0, name.size() - 5));
    }
}

std::variant<App::TileAddress, Response> App::parse_tile(const std::vector<std::string>& args) const {
    if (std::find(tiles::kLayerNames.begin(), tiles::kLayerNames.end(), args[0]) == tiles::kLayerNames.end())
        return error_response(404, "NotFound", "no tile layer " + args[0]);
    std::string last = args[3];
    int scale = 1;
    if (last.size() > 7 && last.substr(last.size() - 7) == "@2x.png") {
        scale = 2;
        last = last.substr(0, last.size() - 7);
    } else if (last.size() > 4 && last.substr(last.size() - 4) == ".png") {
        last = last.substr(0, last.size() - 4);
    } else {
        return error_response(400, "InvalidValue", "tiles are {z}/{x}/{y}.png or {y}@2x.png");
    }
    auto z = parse_id(args[1]), x = parse_id(args[2]), y = parse_id(last);
    if (!z || !x || !y) return error_response(400, "InvalidValue", "z, x and y must be non-negative integers");
    tiles::TileId t{static_cast<int>(std::min<std::int64_t>(*z, 99)),
                    static_cast<int>(std::min<std::int64_t>(*x, 1LL << 30)),
                    static_cast<int>(std::min<std::int64_t>(*y, 1LL << 30))};
    if (*z > 20 || !t.valid())
        return error_response(400, "InvalidValue",
                              "no tile " + args[1] + "/" + args[2] + "/" + last + " (z 0–20, x and y below 2^z)");
    return TileAddress{args[0], t, scale};
}

Response App::tile_response(const Request& req, const tiles::Tile& tile) {
    Response r;
    r.content_type = "image/png";
    r.headers.emplace_back("ETag", tile.etag);
    r.headers.emplace_back("Cache-Control", "no-cache");  // the browser keeps it and revalidates with If-None-Match
    if (!req.if_none_match.empty() && req.if_none_match == tile.etag) {
        r.status = 304;
        return r;
    }
    r.shared_body = tile.png;  // the cache's bytes, written as they are
    return r;
}

Response App::tile(const Request& req, const Token&, const std::vector<std::string>& args) {
    auto parsed = parse_tile(args);
    if (auto* err = std::get_if<Response>(&parsed)) return *err;
    const auto& a = std::get<TileAddress>(parsed);
    return tile_response(req, tiles_->get(a.layer, a.id, a.scale));
}

std::optional<Response> App::handle_fast(const Request& req) {
    // On an I/O thread: anything unusual goes to the full path, which catches and answers.
    try {
        return handle_cached_tile(req);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::optional<Response> App::handle_cached_tile(const Request& req) {
    if (req.method != "GET" || req.path.rfind("/tiles/", 0) != 0 || !valid_text(req)) return std::nullopt;
    const auto& segs = req.segments;
    if (segs.size() != 5) return std::nullopt;
    auto who = authenticate(req);
    if (!who) return std::nullopt;  // the full path answers 401 and counts it
    auto parsed = parse_tile({segs[1], segs[2], segs[3], segs[4]});
    if (!std::holds_alternative<TileAddress>(parsed)) return std::nullopt;
    const auto& a = std::get<TileAddress>(parsed);
    auto t0 = std::chrono::steady_clock::now();
    auto cached = tiles_->peek(a.layer, a.id, a.scale);
    if (!cached) return std::nullopt;
    auto res = tile_response(req, *cached);
    res.token_name = who->name;
    res.route = "/tiles/{}/{}/{}/{}";
    metrics_.request(res.route, res.status,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return res;
}

Response App::coverage(const Request& req, const Token&, const std::vector<std::string>&) {
    auto lv = req.query.count("level") ? geo::parse_level(req.query.at("level")) : std::nullopt;
    if (!lv) return error_response(400, "InvalidQuery", "level must be district, street, community, grid or park");
    std::optional<geo::OrgKind> kind;
    if (req.query.count("kind")) {
        kind = geo::parse_org_kind(req.query.at("kind"));
        if (!kind) return error_response(400, "InvalidQuery", "kind must be enterprise or social");
    }
    std::string key = req.query.at("level") + "/" + (kind ? std::string(geo::to_string(*kind)) : "");
    std::string body;
    std::vector<std::string> codes;  // the areas targets are resolved for, only when there are targets
    bool targets = !target_state()->targets.empty();
    {
        std::lock_guard lock(cache_mutex_);
        auto it = coverage_cache_.find(key);
        if (it != coverage_cache_.end() && it->second.first == data_version_) body = it->second.second;
    }
    // Where each organization lies is kept between edits (only a move or a reload changes it):
    // an edit costs a count, not a GEOS pass over every point.
    auto where = body.empty() ? located(*lv) : nullptr;
    {
        std::shared_lock lock(data_mutex_);
        if (body.empty()) {
            auto version = data_version_.load();
            auto table = where->size() == data_.orgs.size() ? geo::compute_coverage(data_, *lv, kind, *where)
                                                            : geo::compute_coverage(data_, *lv, kind);
            body = dump_json(geo::to_json(table));
            std::lock_guard c(cache_mutex_);
            coverage_cache_[key] = {version, body};
        }
        if (targets) {
            codes.push_back("total");
            for (const auto& a : data_.areas)
                if (a.level == *lv) codes.push_back(a.code);
        }
    }
    // The targets beside the rates: spliced into the cached object (they change on their own).
    body.pop_back();
    body += ",\"targets\":" + dump_json(targets_json(std::string(geo::to_string(*lv)), codes)) + "}";
    Response r;
    r.body = std::move(body);
    return r;
}

json App::org_json(const geo::Organization& o) const {
    json j = {{"id", o.id},
              {"name", o.name},
              {"kind", std::string(geo::to_string(o.kind))},
              {"credit_code", o.credit_code},
              {"industry", o.industry},
              {"employees", o.employees},
              {"party_members", o.party_members},
              {"status", std::string(geo::to_string(o.status))},
              {"above_scale", o.above_scale},
              {"version", o.version},
              {"lon", o.location.x},
              {"lat", o.location.y}};
    j["branch_id"] = o.branch_id ? json(*o.branch_id) : json();
    j["instructor_id"] = o.instructor_id ? json(*o.instructor_id) : json();
    j["address"] = o.address;
    j["location_precision"] = o.location_precision.empty() ? "exact" : o.location_precision;
    j["ledger"] = {{"person_in_charge", o.person_in_charge},
                   {"phone", o.phone},
                   {"no_branch_reason", o.no_branch_reason},
                   {"measure", o.measure}};
    return j;
}

Response App::get_org(const Request&, const Token&, const std::vector<std::string>& args) {
    std::shared_lock lock(data_mutex_);
    auto it = org_index_.find(args[0]);
    if (it == org_index_.end()) return error_response(404, "NotFound", "no organization " + args[0]);
    const auto& o = data_.orgs[it->second];
    auto r = json_response(org_json(o));
    r.headers.emplace_back("ETag", "\"" + std::to_string(o.version) + "\"");
    return r;
}

Response App::put_instructor(const Request& req, const Token& who, const std::vector<std::string>& args) {
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
    return set_instructor(req, who, args[0], instructor);
}

Response App::delete_instructor(const Request& req, const Token& who, const std::vector<std::string>& args) {
    return set_instructor(req, who, args[0], std::nullopt);
}

Response App::set_instructor(const Request& req, const Token& who, const geo::Id& org_id,
                             std::optional<geo::Id> instructor_id) {
    if (req.if_match.empty())
        return error_response(428, "PreconditionRequired", "send If-Match with the organization's version (its ETag)");
    auto expected = parse_etag(req.if_match);
    if (!expected) return error_response(400, "InvalidValue", "If-Match must be a version number");

    std::lock_guard writer(write_mutex_);  // one writer at a time in this process: check, store, memory
    geo::Organization before;
    int capacity = 0;
    {
        std::shared_lock lock(data_mutex_);
        auto it = org_index_.find(org_id);
        if (it == org_index_.end()) return error_response(404, "NotFound", "no organization " + org_id);
        before = data_.orgs[it->second];
        if (instructor_id && !instructor_index_.count(*instructor_id))
            return error_response(404, "NotFound", "no instructor " + *instructor_id);
        if (before.version != *expected)
            return error_response(412, "PreconditionFailed",
                                  "version " + std::to_string(*expected) +
                                      " is stale; the organization is at version " + std::to_string(before.version));
        if (instructor_id && before.instructor_id != instructor_id) {
            const auto& in = data_.instructors[instructor_index_.at(*instructor_id)];
            capacity = in.capacity;
            auto load = load_.count(in.id) ? load_.at(in.id) : 0;
            if (load >= in.capacity)
                return error_response(409, "Conflict",
                                      in.name + " already covers " + std::to_string(load) +
                                          " organizations (capacity " + std::to_string(in.capacity) + ")");
        }
    }
    geo::Organization after = before;
    after.instructor_id = instructor_id;
    after.version = before.version + 1;
    auto brief = [](const geo::Organization& o) {
        return dump_json(
            json{{"instructor_id", o.instructor_id ? json(*o.instructor_id) : json()}, {"version", o.version}});
    };
    geo::AuditEntry audit{
        iso8601_utc_now(), who.name,    instructor_id ? "assign_instructor" : "remove_instructor", org_id,
        brief(before),     brief(after)};
    // The store first: an acknowledged edit is committed before the answer. The version and the
    // capacity are checked again inside the store's transaction (another process may share it).
    std::vector<geo::CapacityCheck> checks;
    if (instructor_id && before.instructor_id != instructor_id) checks.push_back({*instructor_id, capacity});
    try {
        store_->commit_changes({{org_id, after.branch_id, after.instructor_id, after.version, before.version}}, {},
                               {audit}, checks);
    } catch (const geo::conflict_error& e) {
        if (e.kind == geo::conflict_error::Kind::over_capacity) return error_response(409, "Conflict", e.what());
        return error_response(412, "PreconditionFailed", e.what());
    }
    {
        std::unique_lock lock(data_mutex_);
        data_.orgs[org_index_.at(org_id)] = after;
        if (before.instructor_id) --load_[*before.instructor_id];
        if (after.instructor_id) ++load_[*after.instructor_id];
        ++data_version_;
    }
    tiles_->update(before, after);  // store, memory, then the tiles it touched
    auto r = json_response(org_json(after));
    r.headers.emplace_back("ETag", "\"" + std::to_string(after.version) + "\"");
    return r;
}

// A planner corrects a record: status, employees, members, branch (removed or set to an
// existing one), the ledger, the address, the point (a row placed by address moved to its
// spot). With If-Match, audited, compared and swapped inside the store's transaction.
Response App::patch_org(const Request& req, const Token& who, const std::vector<std::string>& args) {
    if (req.if_match.empty())
        return error_response(428, "PreconditionRequired", "send If-Match with the organization's version (its ETag)");
    auto expected = parse_etag(req.if_match);
    if (!expected) return error_response(400, "InvalidValue", "If-Match must be a version number");
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object() || body->empty())
        return error_response(400, "InvalidValue", "body must be an object of fields");
    std::lock_guard writer(write_mutex_);
    geo::Organization before;
    {
        std::shared_lock lock(data_mutex_);
        auto it = org_index_.find(args[0]);
        if (it == org_index_.end()) return error_response(404, "NotFound", "no organization " + args[0]);
        before = data_.orgs[it->second];
    }
    if (before.version != *expected)
        return error_response(412, "PreconditionFailed",
                              "version " + std::to_string(*expected) + " is stale; the organization is at version " +
                                  std::to_string(before.version));
    geo::Organization after = before;
    auto count = [&](const json& v, int hi) -> std::optional<int> {
        if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > hi) return std::nullopt;
        return static_cast<int>(v.get<std::int64_t>());
    };
    bool moved = false;
    for (const auto& [key, v] : body->items()) {
        std::string bad;
        if (key == "status") {
            auto st = v.is_string() ? geo::parse_org_status(v.get<std::string>()) : std::nullopt;
            if (st)
                after.status = *st;
            else
                bad = "operating, suspended or deregistered";
        } else if (key == "employees") {
            if (auto n = count(v, 100'000'000))
                after.employees = *n;
            else
                bad = "an integer 0–10^8";
        } else if (key == "party_members") {
            if (auto n = count(v, 10'000'000))
                after.party_members = *n;
            else
                bad = "an integer 0–10^7";
        } else if (key == "branch_id") {
            std::shared_lock lock(data_mutex_);
            if (v.is_null())
                after.branch_id.reset();
            else if (v.is_number_integer() &&
                     std::any_of(data_.branches.begin(), data_.branches.end(),
                                 [&, id = v.get<std::int64_t>()](const geo::Branch& b) { return b.id == id; }))
                after.branch_id = v.get<std::int64_t>();
            else
                bad = "null or the id of an existing branch";
        } else if (key == "no_branch_reason" || key == "measure" || key == "person_in_charge" || key == "phone" ||
                   key == "address") {
            if (!v.is_string() || v.get<std::string>().size() > 1000) {
                bad = "text of at most 1000 bytes";
            } else {
                std::string& field = key == "no_branch_reason"   ? after.no_branch_reason
                                     : key == "measure"          ? after.measure
                                     : key == "person_in_charge" ? after.person_in_charge
                                     : key == "phone"            ? after.phone
                                                                 : after.address;
                field = v.get<std::string>();
            }
        } else if (key == "lon" || key == "lat") {
            double lim = key == "lon" ? 180 : 90;
            if (!v.is_number() || !std::isfinite(v.get<double>()) || std::fabs(v.get<double>()) > lim) {
                bad = "a number of degrees";
            } else {
                (key == "lon" ? after.location.x : after.location.y) = v.get<double>();
                after.location_precision = "exact";
                moved = true;
            }
        } else {
            return error_response(400, "InvalidValue", "field '" + key + "' cannot be corrected here");
        }
        if (!bad.empty()) return error_response(400, "InvalidValue", key + " must be " + bad);
    }
    after.version = before.version + 1;
    geo::AuditEntry audit{iso8601_utc_now(),         who.name, "correct_record", before.id, dump_json(org_json(before)),
                          dump_json(org_json(after))};
    try {
        store_->update_org(after, before.version, audit);
    } catch (const geo::conflict_error& e) {
        return error_response(412, "PreconditionFailed", e.what());
    }
    {
        std::unique_lock lock(data_mutex_);
        data_.orgs[org_index_.at(after.id)] = after;
        ++data_version_;
        if (moved) ++reload_generation_;  // locations cached by area change
    }
    if (moved) {
        // A moved point changes which areas hold it: the tiles start over from the data.
        std::shared_lock lock(data_mutex_);
        tiles_->reset(data_);
    } else {
        tiles_->update(before, after);
    }
    auto r = json_response(org_json(after));
    r.headers.emplace_back("ETag", "\"" + std::to_string(after.version) + "\"");
    return r;
}

Response App::post_plan(const Request& req, const Token& who, const std::vector<std::string>&) {
    geo::PlanParams p;
    if (!req.body.empty()) {
        std::string why;
        auto body = parse_json(req.body, why);
        if (!body || !body->is_object())
            return error_response(400, "InvalidJson", body ? "body must be an object" : why);
        if (body->contains("level")) {
            auto lv =
                (*body)["level"].is_string() ? geo::parse_level((*body)["level"].get<std::string>()) : std::nullopt;
            if (!lv || *lv == geo::Level::park || *lv == geo::Level::district)
                return error_response(400, "InvalidValue", "level must be grid, community or street");
            p.level = *lv;
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
        std::shared_lock lock(data_mutex_);
        j = geo::to_json(geo::make_plan(data_, p));
        // Proposals name their organizations and places, so a page can list and draw them.
        long operating = 0, branch = 0, work = 0, add_branch = 0, add_work = 0;
        for (const auto& o : data_.orgs)
            if (o.operating()) {
                ++operating;
                branch += o.branch_id ? 1 : 0;
                work += o.branch_id || o.instructor_id ? 1 : 0;
            }
        for (auto& pr : j["proposals"]) {
            json places = json::array();
            for (const auto& oid : pr["orgs"])
                if (auto it = org_index_.find(oid.get<std::string>()); it != org_index_.end()) {
                    const auto& o = data_.orgs[it->second];
                    places.push_back({{"id", o.id}, {"name", o.name}, {"lon", o.location.x}, {"lat", o.location.y}});
                    bool had_work = o.branch_id || o.instructor_id;
                    if (pr["type"] != "instructor") ++add_branch;
                    if (!had_work) ++add_work;
                }
            pr["places"] = places;
            if (pr.contains("instructor_id"))
                if (auto it = instructor_index_.find(pr["instructor_id"].get<std::string>());
                    it != instructor_index_.end()) {
                    const auto& in = data_.instructors[it->second];
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
    metrics_.planner_run();
    std::string id;
    {
        std::lock_guard lock(plans_mutex_);
        id = "plan-" + std::to_string(next_plan_++);
    }
    j["id"] = id;
    j["status"] = "open";
    {
        std::lock_guard writer(write_mutex_);
        store_->save_plan({id, id, iso8601_utc_now(), who.name, "open", dump_json(j)});
    }
    remember_plan(id, j);
    return json_response(j, 201);
}

void App::remember_plan(const std::string& id, const json& plan) {
    std::lock_guard lock(plans_mutex_);
    if (!plans_.count(id)) plan_order_.push_back(id);
    plans_[id] = plan;
    while (plan_order_.size() > options_.plans_in_memory) {
        plans_.erase(plan_order_.front());
        plan_order_.erase(plan_order_.begin());
    }
}

std::optional<json> App::find_plan(const std::string& id) {
    {
        std::lock_guard lock(plans_mutex_);
        if (auto it = plans_.find(id); it != plans_.end()) return it->second;
    }
    std::vector<geo::PlanRow> rows;
    {
        std::lock_guard writer(write_mutex_);
        rows = store_->plans(id);
    }
    if (rows.empty()) return std::nullopt;
    auto plan = json::parse(rows.front().body, nullptr, false);
    if (plan.is_discarded()) return std::nullopt;
    remember_plan(id, plan);
    return plan;
}

Response App::get_plan(const Request&, const Token&, const std::vector<std::string>& args) {
    auto plan = find_plan(args[0]);
    if (!plan) return error_response(404, "NotFound", "no plan " + args[0]);
    return json_response(*plan);
}

Response App::accept_plan(const Request& req, const Token& who, const std::vector<std::string>& args) {
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object() || !(*body)["proposals"].is_array())
        return error_response(400, "InvalidValue", "body must be {\"proposals\": [ids]}");
    auto found = find_plan(args[0]);
    if (!found) return error_response(404, "NotFound", "no plan " + args[0]);
    json plan = std::move(*found);
    std::map<std::string, json> by_id;
    for (const auto& p : plan["proposals"]) by_id[p["id"].get<std::string>()] = p;

    std::lock_guard writer(write_mutex_);
    std::vector<geo::OrgUpdate> updates;
    std::vector<geo::Branch> branches;
    std::vector<geo::AuditEntry> audit;
    json applied = json::array(), conflicts = json::array();
    std::map<geo::Id, geo::Organization> changed;  // org id -> new state within this request
    std::map<geo::Id, int> extra_load;
    std::map<geo::Id, std::int64_t> read_version;  // the version each change was made from
    std::int64_t next_branch = next_branch_id_;
    {
        std::shared_lock lock(data_mutex_);
        auto current = [&](const geo::Id& id) -> const geo::Organization* {
            if (auto c = changed.find(id); c != changed.end()) return &c->second;
            auto it = org_index_.find(id);
            return it == org_index_.end() ? nullptr : &data_.orgs[it->second];
        };
        for (const auto& pid : (*body)["proposals"]) {
            if (!pid.is_string() || !by_id.count(pid.get<std::string>())) {
                conflicts.push_back({{"id", pid}, {"reason", "no such proposal in this plan"}});
                continue;
            }
            const auto& p = by_id[pid.get<std::string>()];
            std::string type = p["type"];
            std::vector<const geo::Organization*> orgs;
            std::string reason;
            for (const auto& oid : p["orgs"]) {
                geo::Id id = oid.is_string() ? oid.get<std::string>() : oid.dump();
                auto* o = current(id);
                if (!o)
                    reason = "organization " + id + " no longer exists";
                else if (o->branch_id)
                    reason = "organization " + o->id + " has a branch now";
                else if (!o->operating())
                    reason = "organization " + o->id + " is not operating";
                else if (type == "instructor" && o->instructor_id)
                    reason = "organization " + o->id + " has an instructor now";
                else
                    orgs.push_back(o);
            }
            if (reason.empty() && type == "instructor") {
                geo::Id jid =
                    p["instructor_id"].is_string() ? p["instructor_id"].get<std::string>() : p["instructor_id"].dump();
                auto it = instructor_index_.find(jid);
                if (it == instructor_index_.end())
                    reason = "instructor " + jid + " no longer exists";
                else {
                    const auto& in = data_.instructors[it->second];
                    int load = (load_.count(jid) ? load_.at(jid) : 0) + extra_load[jid];
                    if (load + static_cast<int>(orgs.size()) > in.capacity)
                        reason = in.name + " has room for " + std::to_string(std::max(0, in.capacity - load)) +
                                 " more, not " + std::to_string(orgs.size());
                }
            }
            if (reason.empty() && type == "joint") {
                int members = 0;
                for (auto* o : orgs) members += o->party_members;
                if (members < 3)
                    reason = "the organizations have " + std::to_string(members) + " members now, fewer than 3";
            }
            if (reason.empty() && type == "standalone" && orgs.size() == 1 && orgs[0]->party_members < 3)
                reason = "the organization has fewer than 3 members now";
            if (!reason.empty()) {
                conflicts.push_back({{"id", pid}, {"reason", reason}});
                continue;
            }
            std::optional<std::int64_t> branch_id;
            if (type != "instructor") {
                geo::Branch b;
                b.id = next_branch++;
                b.type = type == "standalone" ? geo::BranchType::standalone
                         : type == "joint"    ? geo::BranchType::joint
                                              : geo::BranchType::affiliated;
                std::string first = orgs.front()->name;
                b.name = type == "standalone" ? first + "党支部"
                         : type == "joint"    ? first + "等联合党支部"
                                           : first + "（挂靠" + p.value("area", std::string()) + "社区党组织）";
                for (auto* o : orgs) {
                    b.org_ids.push_back(o->id);
                    b.members += o->party_members;
                }
                branch_id = b.id;
                branches.push_back(std::move(b));
            }
            for (auto* o : orgs) {
                geo::Organization after = *o;
                if (branch_id)
                    after.branch_id = branch_id;
                else {
                    after.instructor_id = p["instructor_id"].is_string() ? p["instructor_id"].get<std::string>()
                                                                         : p["instructor_id"].dump();
                    ++extra_load[*after.instructor_id];
                }
                if (!read_version.count(o->id)) read_version[o->id] = o->version;
                after.version = o->version + 1;
                audit.push_back({iso8601_utc_now(), who.name, "accept_plan " + args[0] + " " + pid.get<std::string>(),
                                 o->id,
                                 json{{"branch_id", o->branch_id ? json(*o->branch_id) : json()},
                                      {"instructor_id", o->instructor_id ? json(*o->instructor_id) : json()},
                                      {"version", o->version}}
                                     .dump(-1, ' ', false, json::error_handler_t::replace),
                                 json{{"branch_id", after.branch_id ? json(*after.branch_id) : json()},
                                      {"instructor_id", after.instructor_id ? json(*after.instructor_id) : json()},
                                      {"version", after.version}}
                                     .dump(-1, ' ', false, json::error_handler_t::replace)});
                changed[o->id] = after;
            }
            applied.push_back(pid);
        }
    }
    for (auto& [id, o] : changed) updates.push_back({id, o.branch_id, o.instructor_id, o.version, read_version[id]});
    std::vector<geo::CapacityCheck> checks;
    {
        std::shared_lock lock(data_mutex_);
        for (const auto& [jid, n] : extra_load)
            checks.push_back({jid, data_.instructors[instructor_index_.at(jid)].capacity});
    }
    try {
        if (!updates.empty()) store_->commit_changes(updates, branches, audit, checks);  // one transaction
    } catch (const geo::conflict_error& e) {
        // Another process changed the store since this one read it: nothing was applied.
        return error_response(409, "Conflict", std::string(e.what()) + "; nothing was applied, run the plan again");
    }
    std::vector<std::pair<geo::Organization, geo::Organization>> moved;
    {
        std::unique_lock lock(data_mutex_);
        for (auto& [id, o] : changed) {
            moved.emplace_back(data_.orgs[org_index_.at(id)], o);
            data_.orgs[org_index_.at(id)] = o;
        }
        for (auto& [jid, n] : extra_load) load_[jid] += n;
        for (auto& b : branches) data_.branches.push_back(b);
        next_branch_id_ = next_branch;
        ++data_version_;
    }
    for (const auto& b : branches) tiles_->add_branch(b.id, b.type);
    tiles_->update(moved);  // one pass over the tile cache for the whole plan
    if (!applied.empty()) {
        // The plan's status says what became of it: which proposals were applied, by whom.
        auto rows = store_->plans(args[0]);
        if (!rows.empty()) {
            auto row = rows.front();
            json body = json::parse(row.body, nullptr, false);
            if (!body.is_discarded()) {
                json& done = body["accepted"];
                if (!done.is_array()) done = json::array();
                for (const auto& id : applied) done.push_back(id);
                row.status = "accepted " + std::to_string(done.size()) + "/" + std::to_string(by_id.size());
                body["status"] = row.status;
                row.body = dump_json(body);
                store_->save_plan(row);
                remember_plan(args[0], body);
            }
        }
    }
    return json_response({{"plan", args[0]},
                          {"applied", applied},
                          {"conflicts", conflicts},
                          {"branches_created", branches.size()},
                          {"organizations_changed", changed.size()}});
}

Response App::export_layer(const Request& req, const Token&, const std::vector<std::string>& args) {
    geo::ExportParams p;
    auto layer = geo::parse_export_layer(args[0]);
    if (!layer) return error_response(404, "NotFound", "no export layer " + args[0]);
    p.layer = *layer;
    auto q = [&](const char* k, const char* def) { return req.query.count(k) ? req.query.at(k) : std::string(def); };
    auto format = geo::parse_export_format(q("format", "shp"));
    if (!format) return error_response(400, "InvalidQuery", "format must be shp, gpkg, geojson, csv or xlsx");
    p.format = *format;
    p.encoding = q("encoding", "GBK");
    p.srs = q("srs", "EPSG:4490");
    if (p.srs != "auto-gk" && !geo::parse_epsg(p.srs))
        return error_response(400, "InvalidQuery", "srs must be EPSG:n or auto-gk");
    p.where = q("where", "");
    p.excel = q("excel", "") == "true";
    if (req.query.count("level")) {
        p.level = geo::parse_level(req.query.at("level"));
        if (!p.level) return error_response(400, "InvalidQuery", "unknown level");
    }
    static const std::map<geo::ExportFormat, std::pair<std::string, std::string>> types = {
        {geo::ExportFormat::shp, {".zip", "application/zip"}},
        {geo::ExportFormat::gpkg, {".gpkg", "application/geopackage+sqlite3"}},
        {geo::ExportFormat::geojson, {".geojson", "application/geo+json"}},
        {geo::ExportFormat::csv, {".csv", "text/csv; charset=utf-8"}},
        {geo::ExportFormat::xlsx, {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}}};
    ScratchFile file(types.at(p.format).first);
    p.out = file.path;
    auto deadline = std::chrono::steady_clock::now() + options_.slow_deadline;
    p.cancelled = [&] { return stopping_.load() || std::chrono::steady_clock::now() > deadline; };
    try {
        std::shared_lock lock(data_mutex_);
        geo::export_layer(data_, p);
    } catch (const geo::invalid_argument& e) {
        return error_response(400, "InvalidValue", scrub(e.what(), file.path, "export"));
    }
    std::ifstream in(file.path, std::ios::binary);
    Response r;
    r.content_type = types.at(p.format).second;
    r.body.assign(std::istreambuf_iterator<char>(in), {});
    r.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"" + args[0] + types.at(p.format).first + "\"");
    return r;
}

Response App::import_layer(const Request& req, const Token& who, const std::vector<std::string>& args) {
    auto kind = geo::parse_import_kind(args[0]);
    if (!kind) return error_response(404, "NotFound", "no import kind " + args[0] + " (areas, orgs, instructors)");
    if (req.body.empty()) return error_response(400, "InvalidValue", "empty upload");
    auto q = [&](const char* k) { return req.query.count(k) ? req.query.at(k) : std::string(); };
    std::string format = q("format");
    if (format.empty()) {
        if (req.content_type.find("csv") != std::string::npos)
            format = "csv";
        else if (req.content_type.find("zip") != std::string::npos)
            format = "zip";
        else if (req.content_type.find("geopackage") != std::string::npos)
            format = "gpkg";
        else if (req.content_type.find("kml") != std::string::npos)
            format = "kml";
        else
            format = "geojson";
    }
    static const std::set<std::string> formats = {"csv", "geojson", "gpkg", "zip", "kml"};
    if (!formats.count(format))
        return error_response(400, "InvalidQuery", "format must be csv, geojson, gpkg, zip or kml");
    ScratchFile file("." + format);
    {
        std::ofstream out(file.path, std::ios::binary);
        out.write(req.body.data(), static_cast<std::streamsize>(req.body.size()));
    }
    geo::ImportParams p;
    p.kind = *kind;
    p.source = format == "zip" ? "/vsizip/" + file.path : file.path;
    if (!q("level").empty()) {
        p.level = geo::parse_level(q("level"));
        if (!p.level) return error_response(400, "InvalidQuery", "unknown level");
    }
    p.srs = q("srs");
    if (!p.srs.empty() && !geo::parse_epsg(p.srs)) return error_response(400, "InvalidQuery", "srs must be EPSG:n");
    p.encoding = q("encoding");
    p.drivers = geo::upload_drivers();
    p.gcj02 = q("coords") == "gcj02";
    p.layer = q("layer");
    std::lock_guard writer(write_mutex_);
    // What the organizations were, to tell which tiles the import touches.
    std::unordered_map<geo::Id, std::pair<geo::Point, std::int64_t>> was;
    if (*kind == geo::ImportKind::orgs) was = org_versions();
    geo::ImportReport report;
    try {
        p.dry_run = q("dry_run") == "true";
        p.missing_deregister = q("missing") == "deregister";
        p.bd09 = q("coords") == "bd09";
        report = geo::import_into(*store_, p, who.name);
    } catch (const geo::error& e) {
        std::string msg = scrub(scrub(e.what(), p.source, "upload"), file.path, "upload");
        return error_response(400, "InvalidData", msg);
    }
    if (report.written || *kind != geo::ImportKind::orgs) {
        reload();
        std::shared_lock lock(data_mutex_);
        if (*kind == geo::ImportKind::orgs) {
            // Only the tiles near what changed: added, updated or deregistered organizations.
            tiles_->replace(data_, touched_since(was));
        } else {
            tiles_->reset(data_);
        }
    }
    json rejected = json::array();
    for (const auto& r : report.rejected)
        rejected.push_back({{"where", r.where}, {"column", r.column}, {"reason", r.reason}});
    json j = {{"imported", report.imported},
              {"repaired", report.repaired},
              {"outside_grid", report.outside_grid},
              {"duplicate_credit_codes", report.duplicate_credit_codes},
              {"invalid_credit_codes", report.invalid_credit_codes},
              {"unknown_columns", report.unknown_columns},
              {"rejected", rejected},
              {"summary", json::parse(geo::summary_json(report))},
              {"notes", report.notes},
              {"by", who.name}};
    return json_response(j, report.written || *kind != geo::ImportKind::orgs ? 201 : 200);
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
    return json_response({{"token", add_token(*role, name)}, {"role", to_string(*role)}, {"name", name}}, 201);
}

// ---- OGC API - Features -------------------------------------------------------------------

namespace {
// Absolute links: clients (GDAL's OAPIF driver among them) resolve relative ones differently.
// They come from the configured public URL, or a trusted proxy's X-Forwarded-Host/Proto, or
// the address the client connected to: never from the Host header, which any client sets.
bool host_port(const std::string& s) {
    return !s.empty() && s.size() < 256 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '-' || c == '[' || c == ']';
    });
}

std::string base_of(const Request& req, const AppOptions& o) {
    if (!o.public_url.empty()) return o.public_url + "/ogc";
    if (o.trust_proxy && host_port(req.forwarded_host))
        return (req.forwarded_proto == "https" ? "https://" : "http://") + req.forwarded_host + "/ogc";
    return "http://" + (host_port(req.local_address) ? req.local_address : std::string("localhost")) + "/ogc";
}

json link(const std::string& href, const std::string& rel, const std::string& type, const std::string& title = "") {
    json l = {{"href", href}, {"rel", rel}, {"type", type}};
    if (!title.empty()) l["title"] = title;
    return l;
}
}  // namespace

Response App::ogc_landing(const Request& req, const Token&, const std::vector<std::string>&) {
    auto b = base_of(req, options_);
    return json_response(
        {{"title", "covermap"},
         {"description", "Two-coverages data of covermap: organizations, instructors, branches, areas"},
         {"links",
          {link(b, "self", "application/json", "this document"),
           link(b + "/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API (OpenAPI 3.0)"),
           link(b + "/conformance", "conformance", "application/json", "conformance classes"),
           link(b + "/collections", "data", "application/json", "collections")}}});
}

// The OpenAPI 3.0 description of the OGC API: GDAL's OAPIF driver and QGIS look for it
// through the landing page's service-desc link.
Response App::ogc_openapi(const Request& req, const Token&, const std::vector<std::string>&) {
    auto param = [](const char* name, const char* in, const char* type, bool required, const char* what) {
        json p = {{"name", name}, {"in", in}, {"required", required}, {"description", what}};
        p["schema"] = std::string(type) == "bbox"
                          ? json{{"type", "array"}, {"minItems", 4}, {"maxItems", 4}, {"items", {{"type", "number"}}}}
                          : json{{"type", type}};
        if (std::string(type) == "bbox") p["style"] = "form", p["explode"] = false;
        return p;
    };
    auto op = [](const char* summary, json params, const char* type) {
        return json{{"get",
                     {{"summary", summary},
                      {"parameters", std::move(params)},
                      {"responses", {{"200", {{"description", summary}, {"content", {{type, json::object()}}}}}}}}}};
    };
    json collection = param("collectionId", "path", "string", true, "orgs, instructors, branches, areas-park…");
    json doc = {{"openapi", "3.0.3"},
                {"info", {{"title", "covermap OGC API – Features"}, {"version", "1.0.0"}}},
                {"servers", {{{"url", base_of(req, options_)}}}},
                {"components", {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
                {"security", {{{"bearer", json::array()}}}},
                {"paths",
                 {{"/", op("landing page", json::array(), "application/json")},
                  {"/conformance", op("conformance classes", json::array(), "application/json")},
                  {"/collections", op("collections", json::array(), "application/json")},
                  {"/collections/{collectionId}", op("a collection", {collection}, "application/json")},
                  {"/collections/{collectionId}/items",
                   op("features of a collection",
                      {collection, param("bbox", "query", "bbox", false, "minx,miny,maxx,maxy (CRS84)"),
                       param("limit", "query", "integer", false, "1–10000, default 10"),
                       param("offset", "query", "integer", false, "features to skip")},
                      "application/geo+json")},
                  {"/collections/{collectionId}/items/{featureId}",
                   op("one feature",
                      {collection, param("featureId", "path", "string", true, "the feature's id (text, URL-encoded)")},
                      "application/geo+json")}}}};
    auto r = json_response(doc);
    r.content_type = "application/vnd.oai.openapi+json;version=3.0";
    return r;
}

std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> App::coverage_by_code(geo::Level level) {
    {
        std::lock_guard lock(cache_mutex_);
        auto it = coverage_rows_.find(level);
        if (it != coverage_rows_.end() && it->second.first == data_version_) return it->second.second;
    }
    auto rows = std::make_shared<std::unordered_map<std::string, geo::CoverageRow>>();
    std::uint64_t version;
    auto where = located(level);
    {
        std::shared_lock lock(data_mutex_);
        version = data_version_;
        auto table = where->size() == data_.orgs.size() ? geo::compute_coverage(data_, level, std::nullopt, *where)
                                                        : geo::compute_coverage(data_, level);
        for (auto& r : table.areas) (*rows)[r.code] = r;
    }
    std::lock_guard lock(cache_mutex_);
    coverage_rows_[level] = {version, rows};
    return rows;
}

Response App::ogc_conformance(const Request&, const Token&, const std::vector<std::string>&) {
    return json_response({{"conformsTo",
                           {"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"}}});
}

namespace {
struct CollectionInfo {
    std::string id, title;
};
const std::vector<CollectionInfo> kCollections = {
    {"orgs", "两新组织 organizations"},   {"instructors", "党建指导员 instructors"},
    {"branches", "党组织 branches"},      {"areas-park", "园区 parks"},
    {"areas-street", "街道乡镇 streets"}, {"areas-community", "社区 communities"},
    {"areas-grid", "网格 grid cells"}};
}  // namespace

Response App::ogc_collections(const Request& req, const Token&, const std::vector<std::string>&) {
    json list = json::array();
    for (const auto& c : kCollections) {
        Request r = req;
        auto one = ogc_collection(r, Token{"-", Role::viewer, ""}, {c.id});
        list.push_back(json::parse(one.body));
    }
    auto b = base_of(req, options_);
    return json_response({{"links", {link(b + "/collections", "self", "application/json")}}, {"collections", list}});
}

Response App::ogc_collection(const Request& req, const Token&, const std::vector<std::string>& args) {
    auto it = std::find_if(kCollections.begin(), kCollections.end(), [&](auto& c) { return c.id == args[0]; });
    if (it == kCollections.end()) return error_response(404, "NotFound", "no collection " + args[0]);
    geo::BBox box;
    {
        std::shared_lock lock(data_mutex_);
        if (args[0] == "orgs" || args[0] == "branches")
            for (const auto& o : data_.orgs) box.expand(o.location);
        else if (args[0] == "instructors")
            for (const auto& in : data_.instructors) box.expand(in.home);
        else
            for (const auto& a : data_.areas)
                if (a.level == kAreaCollections.at(args[0])) box.expand(geo::bounds(a.shape));
    }
    if (box.empty()) box = geo::BBox{-180, -90, 180, 90};
    auto b = base_of(req, options_) + "/collections/" + args[0];
    return json_response(
        {{"id", args[0]},
         {"title", it->title},
         {"itemType", "feature"},
         {"crs", {"http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
         {"extent",
          {{"spatial",
            {{"bbox", {{box.minx, box.miny, box.maxx, box.maxy}}},
             {"crs", "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}}}},
         {"links",
          {link(b, "self", "application/json"), link(b + "/items", "items", "application/geo+json", "items")}}});
}

// GeoJSON features of the collections (callers hold the data lock), shared by items and item.
json App::org_feature(const geo::Organization& o) const {
    return {{"type", "Feature"}, {"id", o.id}, {"geometry", point_json(o.location)}, {"properties", org_json(o)}};
}

json App::instructor_feature(const geo::Instructor& in) const {
    return {{"type", "Feature"},
            {"id", in.id},
            {"geometry", point_json(in.home)},
            {"properties",
             {{"id", in.id},
              {"name", in.name},
              {"capacity", in.capacity},
              {"load", load_.count(in.id) ? load_.at(in.id) : 0},
              {"industries", in.industries},
              {"unit", in.unit}}}};
}

json App::branch_feature(const geo::Branch& b, geo::BBox& box) const {
    json pts = json::array();
    for (auto id : b.org_ids)
        if (auto o = org_index_.find(id); o != org_index_.end()) {
            box.expand(data_.orgs[o->second].location);
            pts.push_back({data_.orgs[o->second].location.x, data_.orgs[o->second].location.y});
        }
    return {{"type", "Feature"},
            {"id", b.id},
            {"geometry", {{"type", "MultiPoint"}, {"coordinates", pts}}},
            {"properties",
             {{"id", b.id},
              {"name", b.name},
              {"type", std::string(geo::to_string(b.type))},
              {"members", b.members},
              {"level", std::string(geo::branch_level(b.members))},
              {"org_ids", b.org_ids}}}};
}

json App::area_feature(std::size_t i, const std::unordered_map<std::string, geo::CoverageRow>* coverage) const {
    const auto& a = data_.areas[i];
    json props = {{"code", a.code},
                  {"name", a.name},
                  {"level", std::string(geo::to_string(a.level))},
                  {"parent_code", a.parent_code}};
    // The coverage figures as attributes, so that a desktop GIS can colour areas by them.
    if (coverage) {
        geo::CoverageRow c;
        if (auto it = coverage->find(a.code); it != coverage->end()) c = it->second;
        props["orgs"] = c.orgs;
        props["operating"] = c.operating;
        props["org_covered"] = c.org_covered;
        props["work_covered"] = c.work_covered;
        props["org_coverage"] = std::round(c.org_coverage() * 1e4) / 1e4;
        props["standalone_rate"] = std::round(c.standalone_rate() * 1e4) / 1e4;
        props["work_coverage"] = std::round(c.work_coverage() * 1e4) / 1e4;
        props["instructor_coverage"] = std::round(c.instructor_coverage() * 1e4) / 1e4;
    }
    return {{"type", "Feature"},
            {"id", static_cast<std::int64_t>(i + 1)},
            {"geometry", geometry_json(a.shape)},
            {"properties", props}};
}

Response App::ogc_items(const Request& req, const Token&, const std::vector<std::string>& args) {
    auto it = std::find_if(kCollections.begin(), kCollections.end(), [&](auto& c) { return c.id == args[0]; });
    if (it == kCollections.end()) return error_response(404, "NotFound", "no collection " + args[0]);
    // A parameter this API does not know is an error, not silently ignored (OGC API – Features, 7.15.1).
    if (auto key = unknown_parameter(req, {"bbox", "limit", "offset", "f"}))
        return error_response(400, "InvalidQuery", "unknown parameter '" + *key + "' (bbox, limit, offset)");
    std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> coverage;
    if (kAreaCollections.count(args[0])) coverage = coverage_by_code(kAreaCollections.at(args[0]));
    long limit = 10, offset = 0;
    auto number = [&](const char* key, long& out, long lo, long hi) {
        if (!req.query.count(key)) return true;
        auto v = parse_id(req.query.at(key));
        if (!v || *v < lo) return false;
        out = static_cast<long>(std::min<std::int64_t>(*v, hi));
        return true;
    };
    if (!number("limit", limit, 1, 10000)) return error_response(400, "InvalidQuery", "limit must be 1–10000");
    if (!number("offset", offset, 0, 1L << 40)) return error_response(400, "InvalidQuery", "offset must be ≥ 0");
    std::optional<geo::BBox> filter;
    if (req.query.count("bbox")) {
        std::stringstream in(req.query.at("bbox"));
        std::vector<double> v;
        std::string part;
        while (std::getline(in, part, ',')) {
            // Decimal numbers only: no hex floats, no nan or inf.
            double d = 0;
            auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), d, std::chars_format::general);
            if (ec != std::errc() || ptr != part.data() + part.size() || !std::isfinite(d)) {
                v.clear();
                break;
            }
            v.push_back(d);
        }
        if (v.size() != 4 || v[0] > v[2] || v[1] > v[3])
            return error_response(400, "InvalidQuery", "bbox must be minx,miny,maxx,maxy");
        filter = geo::BBox{v[0], v[1], v[2], v[3]};
    }
    json features = json::array();
    long matched = 0;
    {
        std::shared_lock lock(data_mutex_);
        auto take = [&](const geo::BBox& fb, auto&& make) {
            if (filter && !filter->intersects(fb)) return;
            if (matched >= offset && matched < offset + limit) features.push_back(make());
            ++matched;
        };
        const std::string& c = args[0];
        if (c == "orgs") {
            for (const auto& o : data_.orgs) {
                geo::BBox fb;
                fb.expand(o.location);
                take(fb, [&] { return org_feature(o); });
            }
        } else if (c == "instructors") {
            for (const auto& in : data_.instructors) {
                geo::BBox fb;
                fb.expand(in.home);
                take(fb, [&] { return instructor_feature(in); });
            }
        } else if (c == "branches") {
            for (const auto& b : data_.branches) {
                geo::BBox fb;
                auto feature = branch_feature(b, fb);
                take(fb, [&] { return feature; });
            }
        } else {
            auto level = kAreaCollections.at(c);
            for (std::size_t i = 0; i < data_.areas.size(); ++i) {
                const auto& a = data_.areas[i];
                if (a.level != level) continue;
                take(area_bounds_[i], [&] { return area_feature(i, coverage.get()); });
            }
        }
    }
    auto b = base_of(req, options_) + "/collections/" + args[0] + "/items";
    auto page = [&](long off) {
        std::string h = b + "?limit=" + std::to_string(limit) + "&offset=" + std::to_string(off);
        if (filter) h += "&bbox=" + req.query.at("bbox");
        return h;
    };
    json links = {link(page(offset), "self", "application/geo+json")};
    if (offset + limit < matched)
        links.push_back(link(page(offset + limit), "next", "application/geo+json", "next page"));
    json j = {{"type", "FeatureCollection"},       {"features", features},           {"numberMatched", matched},
              {"numberReturned", features.size()}, {"timeStamp", iso8601_utc_now()}, {"links", links}};
    auto r = json_response(j);
    r.content_type = "application/geo+json";
    return r;
}

Response App::ogc_item(const Request& req, const Token&, const std::vector<std::string>& args) {
    // Organizations and instructors by their text id; branches and areas by number.
    auto fid = parse_id(args[1]);
    std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> coverage;
    if (kAreaCollections.count(args[0])) coverage = coverage_by_code(kAreaCollections.at(args[0]));
    std::shared_lock lock(data_mutex_);
    json feature;
    const std::string& c = args[0];
    if (c == "orgs" && org_index_.count(args[1])) {
        feature = org_feature(data_.orgs[org_index_.at(args[1])]);
    } else if (c == "instructors" && instructor_index_.count(args[1])) {
        feature = instructor_feature(data_.instructors[instructor_index_.at(args[1])]);
    } else if (c == "branches" && fid) {
        for (const auto& b : data_.branches) {
            geo::BBox unused;
            if (b.id == *fid) feature = branch_feature(b, unused);
        }
    } else if (kAreaCollections.count(c) && fid && *fid >= 1 && static_cast<std::size_t>(*fid) <= data_.areas.size()) {
        if (data_.areas[static_cast<std::size_t>(*fid - 1)].level == kAreaCollections.at(c))
            feature = area_feature(static_cast<std::size_t>(*fid - 1), coverage.get());
    } else if (std::none_of(kCollections.begin(), kCollections.end(), [&](auto& k) { return k.id == c; })) {
        return error_response(404, "NotFound", "no collection " + c);
    }
    if (feature.is_null()) return error_response(404, "NotFound", "no feature " + args[1] + " in " + c);
    feature["links"] = {link(base_of(req, options_) + "/collections/" + c + "/items/" + url_encode(args[1]), "self",
                             "application/geo+json"),
                        link(base_of(req, options_) + "/collections/" + c, "collection", "application/json")};
    auto r = json_response(feature);
    r.content_type = "application/geo+json";
    return r;
}

}  // namespace covermap::api
