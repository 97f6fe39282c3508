// The routes the web page needs, on a real server: its files and headers, the session cookie,
// who is signed in, search, nearby instructors, history, area cards, the list of plans.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/http_client.hpp"
#include "api/served.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/geometry.hpp"

using namespace covermap;
using nlohmann::json;
using test::request;
using test::Served;

namespace {

std::string cookie_from(const test::Reply& r) {
    auto set = r.header("Set-Cookie");
    return set.substr(0, set.find(';'));
}

api::AppOptions with_web() {
    api::AppOptions ao;
    ao.web_root = COVERMAP_WEB_DIR;
    return ao;
}

}  // namespace

TEST(WebRoutes, PageFilesCarryTheirTypesCachingAndPolicy) {
    Served s({}, with_web());
    auto page = request(s.port, "GET", "/");
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
    EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");
    EXPECT_NE(page.body.find("/web/src/app.js"), std::string::npos);
    auto lib = request(s.port, "GET", "/web/vendor/leaflet-1.9.4/leaflet-src.esm.js");
    ASSERT_EQ(lib.status, 200);
    EXPECT_EQ(lib.header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_NE(lib.header("Cache-Control").find("immutable"), std::string::npos);
    auto own = request(s.port, "GET", "/web/src/app.js");
    ASSERT_EQ(own.status, 200);
    EXPECT_EQ(own.header("Cache-Control"), "no-cache");
    EXPECT_EQ(request(s.port, "GET", "/web/../../etc/passwd").status, 404);
    EXPECT_EQ(request(s.port, "GET", "/web/%2e%2e/CMakeLists.txt").status, 404);
    // The page never names a host but its own: no CDN.
    EXPECT_EQ(page.body.find("http"), std::string::npos);
}

TEST(WebRoutes, ABasemapWidensImagesToItsOneOrigin) {
    auto ao = with_web();
    ao.basemap = "https://t0.tianditu.gov.cn/vec_w/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY";
    Served s({}, ao);
    auto csp = request(s.port, "GET", "/").header("Content-Security-Policy");
    EXPECT_NE(csp.find("img-src 'self' data: blob: https://t0.tianditu.gov.cn;"), std::string::npos) << csp;
    auto me = json::parse(request(s.port, "GET", "/api/me", s.viewer).body);
    EXPECT_EQ(me["basemap"], ao.basemap);
}

TEST(WebRoutes, TheSessionCookieAuthorizesReadsButNeverWrites) {
    Served s;
    auto made = request(s.port, "POST", "/api/session", s.planner, "");
    ASSERT_EQ(made.status, 201) << made.body;
    auto set = made.header("Set-Cookie");
    EXPECT_NE(set.find("HttpOnly"), std::string::npos);
    EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
    auto cookie = "Cookie: " + cookie_from(made);
    EXPECT_EQ(json::parse(made.body)["role"], "planner");
    // Reads with the cookie alone: a tile, coverage, who am I.
    EXPECT_EQ(request(s.port, "GET", "/tiles/coverage-street/8/215/94.png", "", "", {cookie}).status, 200);
    EXPECT_EQ(request(s.port, "GET", "/api/coverage?level=street", "", "", {cookie}).status, 200);
    auto me = request(s.port, "GET", "/api/me", "", "", {cookie});
    EXPECT_EQ(json::parse(me.body)["name"], "planner");
    // A write with the cookie alone is refused: edits need the header (no CSRF).
    auto put = request(s.port, "PUT", "/api/orgs/" + test::url(s.first_org()) + "/instructor", "",
                       R"({"instructor_id":"x"})", {cookie, "If-Match: 1"});
    EXPECT_EQ(put.status, 401);
    // A made-up cookie is nobody.
    EXPECT_EQ(request(s.port, "GET", "/api/me", "", "", {"Cookie: covermap_session=" + std::string(64, 'a')}).status,
              401);
    // Signing out ends the session.
    auto out = request(s.port, "DELETE", "/api/session", s.planner, "", {cookie});
    EXPECT_EQ(out.status, 204);
    EXPECT_NE(out.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
    EXPECT_EQ(request(s.port, "GET", "/api/me", "", "", {cookie}).status, 401);
}

TEST(WebRoutes, SearchFindsByNameCreditCodeAreaAndPlace) {
    Served s;
    const auto& d = test::demo_dataset(0.02, 5);
    const auto& o = d.orgs[3];
    auto by_name = json::parse(request(s.port, "GET", "/api/orgs?q=" + test::url(o.name), s.viewer).body);
    ASSERT_GE(by_name["items"].size(), 1u);
    EXPECT_EQ(by_name["items"][0]["id"], o.id);
    auto by_code =
        json::parse(request(s.port, "GET", "/api/orgs?q=" + o.credit_code.substr(0, 14), s.viewer).body)["items"];
    EXPECT_TRUE(std::any_of(by_code.begin(), by_code.end(), [&](const json& i) { return i["id"] == o.id; }));
    auto uncovered = json::parse(request(s.port, "GET", "/api/orgs?covered=false&limit=500", s.viewer).body);
    long expect = 0;
    for (const auto& x : d.orgs) expect += x.operating() && !x.branch_id && !x.instructor_id;
    EXPECT_EQ(uncovered["matched"], expect);
    // Near a point: the organization itself first.
    auto near = json::parse(request(s.port, "GET",
                                    "/api/orgs?near=" + std::to_string(o.location.x) + "," +
                                        std::to_string(o.location.y) + "&radius_m=50&limit=1",
                                    s.viewer)
                                .body);
    ASSERT_EQ(near["items"].size(), 1u);
    EXPECT_EQ(near["items"][0]["id"], o.id);
    // An area: the organizations coverage counts in it.
    auto table = geo::compute_coverage(d, geo::Level::street);
    const auto& row =
        *std::max_element(table.areas.begin(), table.areas.end(), [](auto& a, auto& b) { return a.orgs < b.orgs; });
    auto in_area = json::parse(request(s.port, "GET", "/api/orgs?area=" + row.code + "&limit=500", s.viewer).body);
    EXPECT_EQ(in_area["matched"], row.orgs);
    EXPECT_EQ(request(s.port, "GET", "/api/orgs?covered=maybe", s.viewer).status, 400);
    EXPECT_EQ(request(s.port, "GET", "/api/orgs?near=nan,1", s.viewer).status, 400);
    EXPECT_EQ(request(s.port, "GET", "/api/orgs?limit=x", s.viewer).status, 400);
}

TEST(WebRoutes, AreaCardsMatchCoverageAndInstructorsComeNearestFirst) {
    Served s;
    const auto& d = test::demo_dataset(0.02, 5);
    auto table = geo::compute_coverage(d, geo::Level::park);
    for (const auto& row : table.areas) {
        auto card = json::parse(request(s.port, "GET", "/api/areas/" + row.code, s.viewer).body);
        EXPECT_EQ(card["operating"], row.operating) << row.code;
        EXPECT_EQ(card["org_covered"], row.org_covered) << row.code;
        EXPECT_EQ(card["standalone"], row.standalone) << row.code;
        EXPECT_EQ(card["work_covered"], row.work_covered) << row.code;
        EXPECT_EQ(card["uncovered"].size(), static_cast<std::size_t>(row.operating - row.work_covered)) << row.code;
        EXPECT_EQ(card["geometry"]["type"], "MultiPolygon");
    }
    EXPECT_EQ(request(s.port, "GET", "/api/areas/999", s.viewer).status, 404);
    auto parks = json::parse(request(s.port, "GET", "/api/areas?level=park", s.viewer).body)["items"];
    EXPECT_EQ(parks.size(), table.areas.size());
    const auto& o = d.orgs.front();
    auto list =
        json::parse(request(s.port, "GET", "/api/orgs/" + test::url(o.id) + "/instructors?limit=5", s.viewer).body);
    ASSERT_EQ(list["items"].size(), 5u);
    double last = 0;
    for (const auto& i : list["items"]) {
        EXPECT_GE(i["distance_m"].get<double>(), last);
        last = i["distance_m"];
        EXPECT_TRUE(i.contains("load") && i.contains("capacity") && i.contains("industry_match"));
    }
}

TEST(WebRoutes, HistoryAndPlansFollowTheEdits) {
    Served s;
    const auto& d = test::demo_dataset(0.02, 5);
    const geo::Organization* o = nullptr;
    for (const auto& x : d.orgs)
        if (x.operating() && x.instructor_id && !o) o = &x;
    ASSERT_NE(o, nullptr);
    auto path = "/api/orgs/" + test::url(o->id);
    EXPECT_EQ(request(s.port, "DELETE", path + "/instructor", s.planner, "", {"If-Match: 1"}).status, 200);
    auto history = json::parse(request(s.port, "GET", path + "/history", s.viewer).body)["items"];
    ASSERT_EQ(history.size(), 1u);
    EXPECT_EQ(history[0]["by"], "planner");
    EXPECT_EQ(history[0]["action"], "remove_instructor");
    EXPECT_EQ(history[0]["before"]["instructor_id"], *o->instructor_id);
    // Plans: listed newest first; accepting one records it in the plan's status.
    auto plan = json::parse(request(s.port, "POST", "/api/plan", s.planner, "{}").body);
    ASSERT_TRUE(plan["reach"].contains("org_coverage_after"));
    ASSERT_FALSE(plan["proposals"].empty());
    EXPECT_FALSE(plan["proposals"][0]["places"].empty()) << "proposals name their organizations and places";
    auto list = json::parse(request(s.port, "GET", "/api/plans", s.viewer).body)["items"];
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["status"], "open");
    auto pick = plan["proposals"][0]["id"];
    auto acc = request(s.port, "POST", "/api/plan/" + plan["id"].get<std::string>() + "/accept", s.planner,
                       json{{"proposals", {pick}}}.dump());
    ASSERT_EQ(acc.status, 200) << acc.body;
    list = json::parse(request(s.port, "GET", "/api/plans", s.viewer).body)["items"];
    EXPECT_EQ(list[0]["status"].get<std::string>().rfind("accepted 1/", 0), 0u) << list[0]["status"];
}

// An export of one area holds what lies inside it, and is named after what it holds.
TEST(WebRoutes, AnExportOfOneAreaHoldsItsOrganizationsAndIsNamedAfterThem) {
    Served s;
    auto d = test::demo_dataset(0.02, 5);
    auto coverage = geo::compute_coverage(d, geo::Level::district);
    const auto* district = &coverage.areas.front();
    for (const auto& a : coverage.areas)
        if (a.orgs > district->orgs) district = &a;
    ASSERT_GT(district->orgs, 0);
    auto r = request(s.port, "GET", "/api/export/orgs?format=csv&area=" + district->code, s.viewer);
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 200);
    long lines = std::count(r.body.begin(), r.body.end(), '\n');
    EXPECT_EQ(lines - 1, district->orgs) << "a heading and one row per organization in the district";
    auto disposition = r.header("Content-Disposition");
    EXPECT_NE(disposition.find("filename*=UTF-8''" + test::url(district->name + "_组织_")), std::string::npos)
        << disposition;
    EXPECT_NE(disposition.find("filename=\"orgs-" + district->code + "-"), std::string::npos) << disposition;
    auto all = request(s.port, "GET", "/api/export/orgs?format=csv", s.viewer);
    EXPECT_EQ(std::count(all.body.begin(), all.body.end(), '\n') - 1, static_cast<long>(d.orgs.size()));
    EXPECT_NE(all.header("Content-Disposition").find(test::url("全市_组织_")), std::string::npos);
    EXPECT_EQ(request(s.port, "GET", "/api/export/orgs?format=csv&area=nowhere", s.viewer).status, 404);
}

// Targets over HTTP, with the rules of `covermap target set`; the coverage shows them at once.
TEST(WebRoutes, AdminsSetAndRemoveTargetsByTheCommandLinesRules) {
    Served s;
    auto empty = json::parse(request(s.port, "GET", "/api/targets", s.viewer).body);
    EXPECT_TRUE(empty["items"].empty());
    json target = {{"metric", "org_coverage"}, {"value", 0.9}, {"deadline", "2027-06-30"}, {"note", "市委文件"}};
    EXPECT_EQ(request(s.port, "POST", "/api/targets", s.planner, target.dump()).status, 403);
    auto made = request(s.port, "POST", "/api/targets", s.admin, target.dump());
    ASSERT_EQ(made.status, 201) << made.body;
    auto id = json::parse(made.body)["id"].get<std::string>();
    auto list = json::parse(request(s.port, "GET", "/api/targets", s.viewer).body)["items"];
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["level"], "total");
    EXPECT_EQ(list[0]["note"], "市委文件");
    auto coverage = json::parse(request(s.port, "GET", "/api/coverage?level=district", s.viewer).body);
    ASSERT_FALSE(coverage["targets"].empty()) << "shown beside the rates without waiting";
    for (const auto& bad : {json{{"value", 1.5}, {"deadline", "2027-06-30"}}, json{{"value", 0.9}, {"deadline", "2027-02-30"}},
                            json{{"value", 0.9}, {"deadline", "2027-06-30"}, {"area", "nowhere"}},
                            json{{"value", 2}, {"deadline", "2027-06-30"}, {"baseline", "2020-01-01"}},
                            json{{"value", "90%"}, {"deadline", "2027-06-30"}}}) {
        auto r = request(s.port, "POST", "/api/targets", s.admin, bad.dump());
        EXPECT_EQ(r.status, 400) << bad.dump() << " " << r.body;
    }
    EXPECT_EQ(request(s.port, "DELETE", "/api/targets/" + id, s.admin).status, 204);
    EXPECT_EQ(request(s.port, "DELETE", "/api/targets/" + id, s.admin).status, 404);
    EXPECT_TRUE(json::parse(request(s.port, "GET", "/api/targets", s.viewer).body)["items"].empty());
}
