#pragma once
/// \file covermap's HTTP application: state, authorization and the route table. It knows
/// nothing of sockets; the Beast server (server.hpp) feeds it requests on worker threads.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <variant>

#include "covermap/api/http.hpp"
#include "covermap/api/metrics.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/model.hpp"
#include "covermap/geo/store.hpp"
#include "covermap/tiles/service.hpp"

namespace covermap::api {

enum class Role { viewer = 1, planner = 2, admin = 3 };
std::optional<Role> parse_role(const std::string& s);
std::string to_string(Role r);

/// Who a request speaks for: a token's name and role, its expiry (YYYY-MM-DD or empty) and its
/// hash (the key its web sessions belong to).
struct Caller {
    std::string name;
    Role role = Role::viewer;
    std::string expires;
    std::string key;
};

/// A new random token (URL-safe hex) and the hash stored for it.
std::string new_token();
std::string hash_token(const std::string& token);

struct AppOptions {
    std::string db;
    std::string web_root;        ///< folder of the web UI's static files
    std::size_t cache_mb = 256;  ///< tile cache bound
    /// An XYZ base map for the web page ("https://host/{z}/{x}/{y}.png?tk=KEY", e.g. 天地图), or
    /// empty: the page then draws covermap's own district borders only (works offline).
    std::string basemap;
    std::chrono::milliseconds slow_deadline{60000};  ///< exports and other slow work stop after this
    std::size_t plans_in_memory = 8;                 ///< plans kept in memory (all are in the store)
    /// Plans no proposal of which was accepted are deleted after this many days, and beyond this
    /// many (the oldest first), each time a plan is made.
    int plan_max_age_days = 30;
    std::size_t plan_max_open = 100;
    /// An upload's import (reading, checking, comparing, writing) stops after this, nothing written.
    std::chrono::milliseconds import_deadline{600000};
    std::size_t import_max_features = 2'000'000;  ///< rows or features of one upload
    std::size_t import_max_vertices = 250'000;    ///< vertices of one uploaded feature's geometry
    /// Where clients reach covermap ("https://gis.example.gov.cn/covermap"): OGC links are built
    /// from it. Empty: from X-Forwarded-Host/Proto when trust_proxy, else from the address the
    /// client connected to; never from the Host header.
    std::string public_url;
    bool trust_proxy = false;  ///< a reverse proxy sets X-Forwarded-Host/Proto (and strips clients')
    /// How often the store's tokens and targets are read again (the command line changes them
    /// under a running server), and at most how often an unknown token makes the tokens be read.
    std::chrono::milliseconds refresh_interval{5000};
    std::chrono::milliseconds unknown_token_interval{2000};
    /// Web sessions per token: a new sign-in beyond it ends that token's oldest session.
    std::size_t sessions_per_token = 20;
    /// Web sessions in all: at the cap the token holding the most loses its oldest, so another
    /// token can always sign in.
    std::size_t max_sessions = 10000;
};

class Auth;
class StaticFiles;
class ChangeListener;

class App {
public:
    explicit App(const AppOptions& options);
    ~App();

    /// Handles one request (called on a worker thread, never on an I/O thread).
    Response handle(const Request& req);

    /// The answer when it costs no CPU work (a tile already in the cache), else nullopt;
    /// safe to call on an I/O thread; never throws.
    std::optional<Response> handle_fast(const Request& req);

    /// Called with the header only, before a body is read: the refusal (400, 401, 403, 404,
    /// 405) the request would get whatever its body, else nullopt.
    std::optional<Response> admit(const Request& req) const;

    /// True for work that may take seconds (export, import, plan): it runs on its own pool.
    bool is_slow(const Request& req) const;

    /// Makes slow work in progress stop soon (a graceful shutdown).
    void stop_slow_work();

    /// Creates a token (valid through `expires`, YYYY-MM-DD, when given); returns the secret
    /// (only its hash is stored).
    std::string add_token(Role role, const std::string& name, const std::string& expires = "");
    /// True when the store has no token yet.
    bool has_tokens() const;

    Metrics& metrics() { return metrics_; }
    tiles::TileService& tiles() { return *tiles_; }

private:
    using Token = Caller;
    using Handler = Response (App::*)(const Request&, const Token&, const std::vector<std::string>&);
    struct Route {
        std::string method;
        std::vector<std::string> pattern;  // segments; "{}" matches one
        Role role;
        Handler handler;
        std::string name;
    };

    const Route* match_route(const Request& req, std::vector<std::string>& args, bool& path_known) const;
    static Response unauthorized();
    std::optional<Response> handle_cached_tile(const Request& req);
    void reload();  // data from the store into memory (call with the write lock held)
    /// A copy of the data and the data version it is of, taken under a shared lock: work that
    /// compares against the data for seconds (an import's diff) runs on it beside edits.
    std::pair<geo::Dataset, std::uint64_t> data_snapshot() const;
    /// Each organization's place and version now (before a bulk change).
    std::unordered_map<geo::Id, std::pair<geo::Point, std::int64_t>> org_versions() const;
    /// Where organizations changed since org_versions() gave was: new, changed or gone places
    /// (call with the data lock held).
    std::vector<geo::Point> touched_since(
        const std::unordered_map<geo::Id, std::pair<geo::Point, std::int64_t>>& was) const;

    Response health(const Request&, const Token&, const std::vector<std::string>&);
    Response metrics_text(const Request&, const Token&, const std::vector<std::string>&);
    Response coverage(const Request&, const Token&, const std::vector<std::string>&);
    Response get_org(const Request&, const Token&, const std::vector<std::string>&);
    Response put_instructor(const Request&, const Token&, const std::vector<std::string>&);
    Response delete_instructor(const Request&, const Token&, const std::vector<std::string>&);
    Response patch_org(const Request&, const Token&, const std::vector<std::string>&);
    Response post_plan(const Request&, const Token&, const std::vector<std::string>&);
    Response get_plan(const Request&, const Token&, const std::vector<std::string>&);
    Response accept_plan(const Request&, const Token&, const std::vector<std::string>&);
    Response delete_plan(const Request&, const Token&, const std::vector<std::string>&);
    /// Deletes the plans nobody accepted anything of, past plan_max_age_days or plan_max_open
    /// (call with write_mutex_ held).
    void prune_plans();
    Response export_layer(const Request&, const Token&, const std::vector<std::string>&);
    Response import_layer(const Request&, const Token&, const std::vector<std::string>&);
    Response post_token(const Request&, const Token&, const std::vector<std::string>&);
    Response ogc_landing(const Request&, const Token&, const std::vector<std::string>&);
    Response ogc_conformance(const Request&, const Token&, const std::vector<std::string>&);
    Response ogc_openapi(const Request&, const Token&, const std::vector<std::string>&);
    /// Coverage of every area of a level by code, cached per data version (for OGC area items).
    std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> coverage_by_code(geo::Level level);
    Response ogc_collections(const Request&, const Token&, const std::vector<std::string>&);
    Response ogc_collection(const Request&, const Token&, const std::vector<std::string>&);
    Response ogc_items(const Request&, const Token&, const std::vector<std::string>&);
    Response ogc_item(const Request&, const Token&, const std::vector<std::string>&);
    // The web page's routes (web_routes.cpp).
    Response post_session(const Request&, const Token&, const std::vector<std::string>&);
    Response delete_session(const Request&, const Token&, const std::vector<std::string>&);
    Response me(const Request&, const Token&, const std::vector<std::string>&);
    Response search_orgs(const Request&, const Token&, const std::vector<std::string>&);
    Response org_instructors(const Request&, const Token&, const std::vector<std::string>&);
    Response org_history(const Request&, const Token&, const std::vector<std::string>&);
    Response list_areas(const Request&, const Token&, const std::vector<std::string>&);
    Response area_card(const Request&, const Token&, const std::vector<std::string>&);
    Response list_plans(const Request&, const Token&, const std::vector<std::string>&);
    // The monthly reporting duty (report_routes.cpp).
    Response history(const Request&, const Token&, const std::vector<std::string>&);
    Response report(const Request&, const Token&, const std::vector<std::string>&);
    struct TargetState {
        std::vector<geo::Target> targets;
        std::vector<geo::Snapshot> baselines;  // the snapshots relative targets start from
    };
    /// A store handle of its own for targets, baselines and history, opened once (call with
    /// targets_mutex_ held).
    geo::Store& history_store();
    /// The store's targets, re-read at most every 5 s (the command line adds them).
    std::shared_ptr<const TargetState> target_state();
    /// The targets resolved for areas of a level (code "total": the whole), as JSON.
    nlohmann::json targets_json(const std::string& level, const std::vector<std::string>& codes);
    /// On the first request of a month: a snapshot dated today unless the month has one.
    void monthly_snapshot();
    /// A change another process committed to the shared PostGIS store (a NOTIFY payload):
    /// memory, coverage and tiles follow it (remote_changes.cpp).
    void apply_remote(const std::string& payload);
    /// Area index per organization at a level (cached until the data is reloaded).
    std::shared_ptr<const std::vector<int>> located(geo::Level level);
    Response tile(const Request&, const Token&, const std::vector<std::string>&);
    Response tile_response(const Request& req, const tiles::Tile& tile);
    struct TileAddress {
        std::string layer;
        tiles::TileId id;
        int scale = 1;
    };
    /// Parses /tiles/{layer}/{z}/{x}/{y}.png or …@2x.png; an error response when it is not one.
    std::variant<TileAddress, Response> parse_tile(const std::vector<std::string>& args) const;
    Response tilejson(const Request&, const Token&, const std::vector<std::string>&);

    Response set_instructor(const Request& req, const Token& who, const geo::Id& org_id,
                            std::optional<geo::Id> instructor_id);
    nlohmann::json org_json(const geo::Organization& o) const;
    nlohmann::json org_feature(const geo::Organization& o) const;
    nlohmann::json instructor_feature(const geo::Instructor& in) const;
    nlohmann::json branch_feature(const geo::Branch& b, geo::BBox& box) const;  ///< box grows by its organizations
    nlohmann::json area_feature(
        std::size_t area_index,
        const std::unordered_map<std::string, geo::CoverageRow>* coverage) const;  ///< id = index + 1

    AppOptions options_;
    std::vector<Route> routes_;
    Metrics metrics_;

    // The data: read under a shared lock; writers hold write_mutex_ (one writer at a time,
    // store first) and then an exclusive lock to update memory.
    mutable std::shared_mutex data_mutex_;
    geo::Dataset data_;
    std::vector<geo::BBox> area_bounds_;  // per area of data_, made at reload (areas change only there)
    std::unordered_map<geo::Id, std::size_t> org_index_, instructor_index_;
    std::unordered_map<geo::Id, int> load_;
    std::atomic<std::uint64_t> data_version_{0};

    std::mutex write_mutex_;
    std::unique_ptr<geo::Store> store_;

    std::unique_ptr<Auth> auth_;  // tokens and web sessions
    std::atomic<bool> stopping_{false};

    std::mutex cache_mutex_;
    std::map<std::string, std::pair<std::uint64_t, std::string>> coverage_cache_;
    std::map<geo::Level,
             std::pair<std::uint64_t, std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>>>>
        coverage_rows_;

    // Plans live in the store; the last few are also kept here, parsed.
    std::optional<nlohmann::json> find_plan(const std::string& id);
    void remember_plan(const std::string& id, const nlohmann::json& plan);
    std::mutex plans_mutex_;
    std::map<std::string, nlohmann::json> plans_;
    std::vector<std::string> plan_order_;  // oldest first, for the memory bound
    int next_plan_ = 1;
    std::int64_t next_branch_id_ = 1;

    std::unique_ptr<StaticFiles> static_files_;  // the page's files


    // Organizations' and instructors' points in R-trees for OGC bbox queries (ogc_routes.cpp),
    // built again when locations change (reload_generation_).
    struct PointIndex;
    std::shared_ptr<const PointIndex> point_index();
    std::mutex point_index_mutex_;
    std::shared_ptr<const PointIndex> point_index_;
    std::mutex located_mutex_;
    std::map<geo::Level, std::shared_ptr<const std::vector<int>>> located_;
    std::uint64_t located_generation_ = 0;
    std::atomic<std::uint64_t> reload_generation_{0};
    std::unique_ptr<tiles::TileService> tiles_;

    std::mutex targets_mutex_;  // also guards history_store_
    std::shared_ptr<const TargetState> targets_;
    std::chrono::steady_clock::time_point targets_read_{};
    std::unique_ptr<geo::Store> history_store_;  // read-only use, opened once: targets, baselines, history
    std::mutex snapshot_mutex_;
    std::atomic<int> snapshot_month_{0};  // yyyymm whose snapshot was seen to or tried

    std::unique_ptr<geo::Store> remote_store_;  // the listener thread's own handle
    std::unique_ptr<ChangeListener> listener_;  // PostGIS only; last member: stops first
};

}  // namespace covermap::api
