#pragma once
// A small demo store behind a real App (no sockets), made once per fuzzer process, and the
// properties every answer must have whatever the request: a valid status, and JSON bodies
// that parse (errors are always valid JSON).

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "covermap/api/app.hpp"
#include "covermap/geo/demo.hpp"
#include "covermap/geo/store.hpp"

namespace covermap::fuzz {

struct Fixture {
    std::unique_ptr<api::App> app;
    std::string viewer, planner;
    std::string dir;
};

inline Fixture& fixture() {
    // Never destroyed: the process exits with it (the exit handler only removes the folder).
    static Fixture* f = [] {
        auto* x_ = new Fixture;
        auto& x = *x_;
        char tmpl[] = "/tmp/covermap-fuzz-XXXXXX";
        x.dir = mkdtemp(tmpl);
        geo::DemoParams p;
        p.scale = 0.01;
        p.seed = 3;
        p.borders = COVERMAP_FUZZ_DATA_DIR "/tieling_counties.geojson";
        geo::Store::open(x.dir + "/f.gpkg").replace(geo::make_demo(p));
        api::AppOptions ao;
        ao.db = x.dir + "/f.gpkg";
        ao.slow_deadline = std::chrono::milliseconds(2000);
        x.app = std::make_unique<api::App>(ao);
        x.viewer = x.app->add_token(api::Role::viewer, "fuzz-viewer");
        x.planner = x.app->add_token(api::Role::planner, "fuzz-planner");
        std::atexit([] { std::filesystem::remove_all(fixture().dir); });
        return x_;
    }();
    return *f;
}

/// Aborts (a finding) when an answer breaks a property every answer has.
inline void check(const api::Response& r) {
    if (r.status < 100 || r.status > 599) std::abort();
    if (r.content_type == "application/json" && nlohmann::json::parse(r.body, nullptr, false).is_discarded()) {
        std::fprintf(stderr, "invalid JSON answer %d: %.200s\n", r.status, r.body.c_str());
        std::abort();
    }
}

}  // namespace covermap::fuzz
