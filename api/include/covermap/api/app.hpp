#pragma once
/// \file covermap's HTTP application: roles and callers, its options, and App, which wires the
/// services of api/src together.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "covermap/api/app_options.hpp"
#include "covermap/api/http.hpp"
#include "covermap/api/metrics.hpp"

namespace covermap::geo {
class Editor;
class Store;
}
namespace covermap::tiles {
class TileService;
}

namespace covermap::api {

class Auth;
class StaticFiles;
class ChangeListener;
class Router;
struct Context;
class CoverageCache;
class Reports;
class AreaRoutes;
class OrgRoutes;
class Plans;
class Ogc;
class TileRoutes;
class Transfer;
class SessionRoutes;
class ChangeRoutes;
class VisitRoutes;
class SiteRoutes;
class WorkloadRoutes;
class Basemap;
class EventHub;

/// The HTTP application: the services (each with its own state and lock, in api/src) wired
/// together over the editing service and the tiles, and the route table they fill. It knows
/// nothing of sockets; the Beast server (server.hpp) feeds it requests on worker threads.
class App {
public:
    explicit App(const AppOptions& options);
    ~App();

    /// Handles one request (called on a worker thread, never on an I/O thread).
    Response handle(const Request& req);
    /// The answer when it costs no CPU work (a cached tile), else nullopt; never throws.
    std::optional<Response> handle_fast(const Request& req);
    /// Called with the header only: the refusal (400, 401, 403, 404, 405) the request would
    /// get whatever its body, else nullopt.
    std::optional<Response> admit(const Request& req) const;
    /// True for work that may take seconds (export, import, plan, report): it has its own pool.
    bool is_slow(const Request& req) const;
    /// Makes slow work in progress stop soon (a graceful shutdown).
    void stop_slow_work();

    /// Creates a token (valid through `expires`, YYYY-MM-DD, when given; a planner's limited to
    /// `area`, an instructor's for `instructor`); returns the secret. Throws invalid_argument.
    std::string add_token(Role role, const std::string& name, const std::string& expires = "",
                          const std::string& area = "", const std::string& instructor = "");
    bool has_tokens() const;  ///< the store holds a token

    Metrics& metrics() { return metrics_; }
    EventHub& events() { return *events_; }  ///< committed changes, for open pages
    tiles::TileService& tiles() { return *tiles_; }

private:
    Response health(const Request& req);
    Response metrics_text(const Request&, const Caller&, const std::vector<std::string>&);
    Response post_token(const Request&, const Caller&, const std::vector<std::string>&);

    AppOptions options_;
    Metrics metrics_;
    std::atomic<bool> stopping_{false};
    std::unique_ptr<geo::Editor> editor_;  // the data and every write
    std::unique_ptr<tiles::TileService> tiles_;
    std::unique_ptr<Context> context_;
    std::unique_ptr<Router> router_;
    std::unique_ptr<Auth> auth_;  // tokens and web sessions
    std::unique_ptr<StaticFiles> static_files_;
    std::unique_ptr<CoverageCache> coverage_;
    std::unique_ptr<Reports> reports_;
    std::unique_ptr<AreaRoutes> areas_;
    std::unique_ptr<OrgRoutes> orgs_;
    std::unique_ptr<Plans> plans_;
    std::unique_ptr<Ogc> ogc_;
    std::unique_ptr<TileRoutes> tile_routes_;
    std::unique_ptr<Transfer> transfer_;
    std::unique_ptr<SessionRoutes> sessions_;
    std::unique_ptr<ChangeRoutes> changes_;
    std::unique_ptr<VisitRoutes> visits_;
    std::unique_ptr<SiteRoutes> sites_;
    std::unique_ptr<WorkloadRoutes> workload_;
    std::unique_ptr<Basemap> basemap_;  // --basemap of local tiles
    std::unique_ptr<EventHub> events_;
    std::unique_ptr<ChangeListener> listener_;  // PostGIS only; last member: stops first
};

/// The rules of a token's limits, for the command line and POST /api/tokens: an area (a
/// district, street or park code in `store`) for planners only; an instructor's token names an
/// existing instructor, and only it does. Throws geo::invalid_argument.
void check_token_limits(Role role, const std::string& area, const std::string& instructor, const geo::Store& store);

}  // namespace covermap::api
