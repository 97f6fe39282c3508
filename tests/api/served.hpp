#pragma once
// A small demo store behind a real server on a loopback port, with a token of each role.

#include <memory>
#include <string>

#include "api/http_client.hpp"
#include "covermap/api/app.hpp"
#include "covermap/api/server.hpp"
#include "covermap/geo/store.hpp"
#include "support.hpp"

namespace covermap::test {

// A small demo behind a real server, with a token of each role.
struct Served {
    explicit Served(api::ServerOptions so = {}, api::AppOptions ao = {}, bool access_log = false,
                    double scale = 0.02)
        : Served(demo_dataset(scale, 5), so, ao, access_log) {}
    /// The same with data of the test's own making.
    explicit Served(const geo::Dataset& data, api::ServerOptions so = {}, api::AppOptions ao = {},
                    bool access_log = false) {
        geo::Store::open(db).replace(data);
        ao.db = db;
        app = std::make_unique<api::App>(ao);
        admin = app->add_token(api::Role::admin, "admin");
        planner = app->add_token(api::Role::planner, "planner");
        viewer = app->add_token(api::Role::viewer, "viewer");
        so.port = 0;
        so.access_log = access_log;
        server = std::make_unique<api::Server>(*app, so);
        port = server->start();
    }
    bool healthy() const { return request(port, "GET", "/health").status == 200; }
    std::string first_org() const { return demo_dataset(0.02, 5).orgs.front().id; }

    TempDir dir;
    std::string db = dir / "h.gpkg";
    std::unique_ptr<api::App> app;
    std::unique_ptr<api::Server> server;
    unsigned short port = 0;
    std::string admin, planner, viewer;
};

}  // namespace covermap::test
