// The coverage a server keeps up to date edit by edit (each change's organizations taken out of
// their rows and put back) against a full recount of what the store holds, after thousands of
// random edits through the HTTP API: assignments and removals, corrected records, visits that
// confirm ledgers, draw-and-assign, accepted plans, imports and reverts, at every level and kind.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "api/http_client.hpp"
#include "api/served.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/coverage.hpp"

using namespace covermap;
using nlohmann::json;
using test::request;
using test::Served;

namespace {

// Every level's and kind's /api/coverage against compute_coverage on the store's data.
void expect_counts_match(const Served& s, int step) {
    auto d = geo::Store::open_existing(s.db).load();
    for (auto level : {geo::Level::district, geo::Level::street, geo::Level::community, geo::Level::grid, geo::Level::park})
        for (std::optional<geo::OrgKind> kind :
             {std::optional<geo::OrgKind>(), std::optional(geo::OrgKind::enterprise), std::optional(geo::OrgKind::social)}) {
            std::string path = "/api/coverage?level=" + std::string(geo::to_string(level)) +
                               (kind ? "&kind=" + std::string(geo::to_string(*kind)) : "");
            auto r = request(s.port, "GET", path, s.viewer);
            ASSERT_EQ(r.status, 200) << path;
            auto got = json::parse(r.body);
            got.erase("targets");
            auto want = geo::to_json(geo::compute_coverage(d, level, kind));
            ASSERT_EQ(got, want) << path << " after step " << step;
        }
}

}  // namespace

TEST(IncrementalCoverage, EqualsAFullRecountAfterThousandsOfRandomEditsImportsAndReverts) {
    Served s({}, {}, false, 0.1);
    auto start = geo::Store::open_existing(s.db).load();
    std::vector<std::string> orgs, instructors;
    for (const auto& o : start.orgs) orgs.push_back(o.id);
    for (const auto& in : start.instructors) instructors.push_back(in.id);
    std::vector<std::int64_t> branches;
    for (const auto& b : start.branches) branches.push_back(b.id);
    expect_counts_match(s, 0);  // the tables are counted once, then kept up to date

    std::mt19937 rng(20261207);
    auto pick = [&](const auto& v) { return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)]; };
    auto org_json = [&](const std::string& id) { return json::parse(request(s.port, "GET", "/api/orgs/" + test::url(id), s.viewer).body); };
    auto if_match = [&](const json& o) { return std::vector<std::string>{"If-Match: " + o["version"].dump()}; };
    const std::string today = geo::china_date();
    int edits = 0, imports = 0, reverts = 0, accepted = 0;
    const int steps = 3000;
    for (int step = 1; step <= steps; ++step) {
        int op = std::uniform_int_distribution<int>(0, 99)(rng);

        auto id = pick(orgs);
        auto o = org_json(id);
        if (op < 35) {  // assign or remove an instructor
            auto r = o["instructor_id"].is_null()
                         ? request(s.port, "PUT", "/api/orgs/" + test::url(id) + "/instructor", s.planner,
                                   json{{"instructor_id", pick(instructors)}}.dump(), if_match(o))
                         : request(s.port, "DELETE", "/api/orgs/" + test::url(id) + "/instructor", s.planner, "", if_match(o));
            edits += r.status == 200;
        } else if (op < 55) {  // a corrected record: status, branch
            json patch;
            int what = std::uniform_int_distribution<int>(0, 2)(rng);
            if (what == 0) patch["status"] = o["status"] == "operating" ? "suspended" : "operating";
            if (what == 1) patch["branch_id"] = nullptr;
            if (what == 2) patch["branch_id"] = pick(branches);
            edits += request(s.port, "PATCH", "/api/orgs/" + test::url(id), s.planner, patch.dump(), if_match(o)).status == 200;
        } else if (op < 70) {  // a visit that confirms the ledger
            auto r = request(s.port, "POST", "/api/orgs/" + test::url(id) + "/visits", s.planner,
                             json{{"date", today}, {"kind", "走访"}, {"ledger_confirmed", true}}.dump());
            edits += r.status == 201;
        } else if (op < 80) {  // draw and assign, by a list of ids
            json ids = json::array();
            for (int k = 0; k < 5; ++k) ids.push_back(pick(orgs));
            auto r = request(s.port, "POST", "/api/assign", s.planner, json{{"orgs", ids}}.dump());
            edits += r.status == 200;
        } else if (op < 93) {  // undo one of the last changes
            auto log = json::parse(request(s.port, "GET", "/api/changes?limit=10", s.viewer).body);
            if (!log["items"].empty()) {
                auto change = pick(log["items"]);
                reverts += request(s.port, "POST", "/api/changes/" + change["id"].dump() + "/revert", s.planner).status == 200;
            }
        } else if (op < 97) {  // accept a few proposals of a fresh plan
            auto plan = json::parse(request(s.port, "POST", "/api/plan", s.planner, R"({"level":"community"})").body);
            json some = json::array();
            for (const auto& p : plan["proposals"])
                if (some.size() < 3) some.push_back(p["id"]);
            auto r = request(s.port, "POST", "/api/plan/" + plan["id"].get<std::string>() + "/accept", s.planner,
                             json{{"proposals", some}}.dump());
            accepted += r.status == 200;
        } else {  // an import: the registry's extract again, one organization's staff changed
            auto csv = request(s.port, "GET", "/api/export/orgs?format=csv", s.admin).body;
            auto at = csv.find(",\"" + std::to_string(std::uniform_int_distribution<int>(1, 9)(rng)) + "\",");
            if (at != std::string::npos) csv.insert(at + 2, "1");
            auto r = request(s.port, "POST", "/api/import/orgs?format=csv&skip_bad=true", s.admin, csv);
            imports += r.status == 201;
        }
        if (step % 150 == 0) {
            expect_counts_match(s, step);
            if (HasFatalFailure()) return;
        }
    }
    // Thousands of writes of every kind went through (not refused wholesale).
    EXPECT_GT(edits, 1000);
    EXPECT_GT(reverts, 100);
    EXPECT_GT(imports, 20);
    EXPECT_GT(accepted, 20);
    std::printf("incremental coverage: %d edits, %d reverts, %d imports, %d accepted plans\n", edits, reverts, imports,
                accepted);
}
