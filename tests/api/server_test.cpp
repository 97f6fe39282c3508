// The HTTP server on a loopback port: every route and status, roles, limits, concurrency,
// OGC API Features through GDAL's OAPIF driver, kill -9 durability.
#include "covermap/api/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <ogrsf_frmts.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "api/http_client.hpp"
#include "covermap/api/app.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/demo.hpp"
#include "covermap/geo/store.hpp"
#include "covermap/tiles/tile_id.hpp"
#include "support.hpp"

using namespace covermap;
using nlohmann::json;
using test::connect_to;
using test::raw;
using test::Reply;
using test::request;

namespace {

// One demo store, one App, one server for the whole suite.
class ServerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new test::TempDir();
        db_ = *dir_ / "s.gpkg";
        // The same tests on PostGIS (ctest's pg.ServerTest.*): a schema of their own.
        const char* pg = std::getenv("COVERMAP_TEST_PG");
        if (std::getenv("COVERMAP_SERVER_ON_PG")) {
            if (!pg || !*pg) return;  // SetUp skips
            schema_ = "srv" + std::to_string(std::random_device{}() % 100000000);
            GDALAllRegister();
            std::unique_ptr<GDALDataset> ds(GDALDataset::Open(pg, GDAL_OF_VECTOR | GDAL_OF_UPDATE));
            if (!ds) {  // a server that is down fails every test, not the process
                failed_ = std::string("cannot open COVERMAP_TEST_PG: ") + CPLGetLastErrorMsg();
                schema_.clear();
                return;
            }
            if (OGRLayer* r = ds->ExecuteSQL(("CREATE SCHEMA " + schema_).c_str(), nullptr, nullptr))
                ds->ReleaseResultSet(r);
            db_ = std::string(pg) + " active_schema=" + schema_;
        }
        geo::DemoParams p;
        p.scale = 0.1;
        p.borders = std::string(COVERMAP_DATA_DIR) + "/tieling_counties.geojson";
        geo::Store::open(db_).replace(geo::make_demo(p));
        api::AppOptions ao;
        ao.db = db_;
        ao.web_root = COVERMAP_WEB_DIR;
        app_ = new api::App(ao);
        admin_ = app_->add_token(api::Role::admin, "admin-test");
        planner_ = app_->add_token(api::Role::planner, "planner-test");
        viewer_ = app_->add_token(api::Role::viewer, "viewer-test");
        api::ServerOptions so;
        so.port = 0;
        so.header_timeout = std::chrono::milliseconds(600);
        so.access_log = false;
        server_ = new api::Server(*app_, so);
        port_ = server_->start();
    }
    static void TearDownTestSuite() {
        delete server_;
        delete app_;
        delete dir_;
        server_ = nullptr;
        app_ = nullptr;
        if (!schema_.empty()) {
            std::unique_ptr<GDALDataset> ds(
                GDALDataset::Open(std::getenv("COVERMAP_TEST_PG"), GDAL_OF_VECTOR | GDAL_OF_UPDATE));
            if (ds)
                if (OGRLayer* r = ds->ExecuteSQL(("DROP SCHEMA " + schema_ + " CASCADE").c_str(), nullptr, nullptr))
                    ds->ReleaseResultSet(r);
        }
    }
    void SetUp() override {
        if (!failed_.empty()) FAIL() << failed_;
        if (!app_) GTEST_SKIP() << "COVERMAP_SERVER_ON_PG without COVERMAP_TEST_PG";
    }

    static json org(const std::string& id) {
        return json::parse(request(port_, "GET", "/api/orgs/" + test::url(id), viewer_).body);
    }

    static test::TempDir* dir_;
    static std::string db_, schema_, failed_;
    static api::App* app_;
    static api::Server* server_;
    static unsigned short port_;
    static std::string admin_, planner_, viewer_;
};

test::TempDir* ServerTest::dir_ = nullptr;
std::string ServerTest::db_;
std::string ServerTest::schema_;
std::string ServerTest::failed_;
api::App* ServerTest::app_ = nullptr;
api::Server* ServerTest::server_ = nullptr;
unsigned short ServerTest::port_ = 0;
std::string ServerTest::admin_, ServerTest::planner_, ServerTest::viewer_;

}  // namespace

TEST_F(ServerTest, HealthNeedsNoTokenEverythingElseDoes) {
    auto h = request(port_, "GET", "/health");
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(json::parse(h.body)["status"], "ok");
    auto none = request(port_, "GET", "/api/coverage?level=district");
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(json::parse(none.body)["code"], "Unauthorized");
    EXPECT_EQ(request(port_, "GET", "/api/coverage?level=district", "cm_not_a_token").status, 401);
    EXPECT_EQ(request(port_, "GET", "/api/coverage?level=district", viewer_).status, 200);
    EXPECT_EQ(
        request(port_, "PUT", "/api/orgs/1/instructor", viewer_, R"({"instructor_id":1})", {"If-Match: \"1\""}).status,
        403);
    EXPECT_EQ(request(port_, "POST", "/api/import/orgs?format=csv", planner_, "x").status, 403);
    EXPECT_EQ(request(port_, "GET", "/api/nothing", viewer_).status, 404);
    EXPECT_EQ(request(port_, "POST", "/api/coverage", viewer_, "{}").status, 405);
    auto page = request(port_, "GET", "/");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.header("Content-Type").find("text/html"), std::string::npos);
    EXPECT_EQ(request(port_, "GET", "/web/../../etc/passwd").status, 404);
    EXPECT_EQ(request(port_, "GET", "/web/%2e%2e%2fCMakeLists.txt").status, 404);
    EXPECT_NE(request(port_, "GET", "/web/style.css").header("Content-Type").find("text/css"), std::string::npos);
}

TEST_F(ServerTest, CoverageMatchesTheLibrary) {
    auto r = request(port_, "GET", "/api/coverage?level=district&kind=enterprise", viewer_);
    ASSERT_EQ(r.status, 200);
    auto j = json::parse(r.body);
    EXPECT_EQ(j["level"], "district");
    EXPECT_EQ(j["areas"].size(), 7u);
    EXPECT_EQ(j["kind"], "enterprise");
    EXPECT_EQ(request(port_, "GET", "/api/coverage?level=county", viewer_).status, 400);
    EXPECT_EQ(request(port_, "GET", "/api/coverage", viewer_).status, 400);
}

TEST_F(ServerTest, OptimisticConcurrencyOnInstructorEdits) {
    // An operating organization without instructor, and an instructor with room.
    auto d = geo::Store::open_existing(db_).load();
    std::string target, other;
    for (const auto& o : d.orgs)
        if (!o.instructor_id && o.operating() && std::stol(o.id) > 200) {
            (!target.empty() ? other : target) = o.id;
            if (!other.empty()) break;
        }
    ASSERT_TRUE(!target.empty() && !other.empty());
    std::map<std::string, int> load;
    for (const auto& o : d.orgs)
        if (o.instructor_id) ++load[*o.instructor_id];
    std::string roomy, full;
    for (const auto& in : d.instructors) {
        if (roomy.empty() && load[in.id] + 2 <= in.capacity) roomy = in.id;
        if (full.empty() && load[in.id] >= in.capacity && load[in.id] > 0) full = in.id;
    }
    ASSERT_TRUE(!roomy.empty() && !full.empty());
    std::string path = "/api/orgs/" + test::url(target) + "/instructor";
    auto got = request(port_, "GET", "/api/orgs/" + test::url(target), viewer_);
    ASSERT_EQ(got.status, 200);
    auto version = json::parse(got.body)["version"].get<std::int64_t>();
    EXPECT_EQ(got.header("ETag"), "\"" + std::to_string(version) + "\"");
    std::string body = json{{"instructor_id", roomy}}.dump();
    std::string match = "If-Match: \"" + std::to_string(version) + "\"";

    EXPECT_EQ(request(port_, "PUT", path, planner_, body).status, 428);
    EXPECT_EQ(request(port_, "PUT", path, planner_, "{not json", {match}).status, 400);
    EXPECT_EQ(request(port_, "PUT", path, planner_, R"({"instructor_id":true})", {match}).status, 400);
    EXPECT_EQ(request(port_, "PUT", path, planner_, R"({"instructor_id":"no-such"})", {match}).status, 404);
    std::string deep(100, '[');
    EXPECT_EQ(request(port_, "PUT", path, planner_, deep + std::string(100, ']'), {match}).status, 400);
    EXPECT_EQ(request(port_, "PUT", "/api/orgs/99999999/instructor", planner_, body, {match}).status, 404);
    EXPECT_EQ(request(port_, "PUT", path, planner_, R"({"instructor_id":99999999})", {match}).status, 404);
    EXPECT_EQ(request(port_, "PUT", path, planner_, json{{"instructor_id", full}}.dump(), {match}).status, 409);

    auto ok = request(port_, "PUT", path, planner_, body, {match});
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(json::parse(ok.body)["version"], version + 1);
    EXPECT_EQ(json::parse(ok.body)["instructor_id"], roomy);
    EXPECT_EQ(ok.header("ETag"), "\"" + std::to_string(version + 1) + "\"");
    EXPECT_EQ(request(port_, "PUT", path, planner_, body, {match}).status, 412) << "the old version is stale now";
    EXPECT_EQ(org(target)["instructor_id"], roomy);

    auto del = request(port_, "DELETE", path, planner_, "", {"If-Match: " + std::to_string(version + 1)});
    ASSERT_EQ(del.status, 200);
    EXPECT_TRUE(json::parse(del.body)["instructor_id"].is_null());

    // Written to the store before the answer, with audit rows naming the token.
    auto store = geo::Store::open_existing(db_);
    auto stored = store.load();
    for (const auto& o : stored.orgs)
        if (o.id == target) {
            EXPECT_EQ(o.version, version + 2);
            EXPECT_FALSE(o.instructor_id);
        }
    auto audit = store.audit();
    ASSERT_GE(audit.size(), 2u);
    const auto& a1 = audit[audit.size() - 2];
    const auto& a2 = audit.back();
    EXPECT_EQ(a1.org_id, target);
    EXPECT_EQ(a1.token_name, "planner-test");
    EXPECT_EQ(a1.action, "assign_instructor");
    EXPECT_EQ(json::parse(a1.after)["instructor_id"], roomy);
    EXPECT_EQ(a2.action, "remove_instructor");
    EXPECT_EQ(json::parse(a2.before)["version"], version + 1);
    EXPECT_FALSE(a1.time.empty());
}

TEST_F(ServerTest, ConcurrentEditsLoseNothing) {
    auto d = geo::Store::open_existing(db_).load();
    std::vector<std::string> orgs;
    for (const auto& o : d.orgs)
        if (std::stol(o.id) > 100 && std::stol(o.id) <= 140) orgs.push_back(o.id);
    std::map<std::string, int> load;
    for (const auto& o : d.orgs)
        if (o.instructor_id) ++load[*o.instructor_id];
    std::vector<std::string> roomy;  // instructors with plenty of room, one per worker
    for (const auto& in : d.instructors)
        if (load[in.id] + 2 <= in.capacity) roomy.push_back(in.id);
    ASSERT_GE(roomy.size(), 9u);
    std::atomic<int> successes{0}, conflicts{0};
    std::string shared_org = orgs.front();
    auto shared_before = org(shared_org)["version"].get<std::int64_t>();
    std::vector<std::thread> workers;
    for (int w = 0; w < 8; ++w) {
        workers.emplace_back([&, w] {
            // Each worker toggles its own organization, then fights for the shared one.
            std::string mine = orgs[static_cast<std::size_t>(w + 1)];
            std::string path = "/api/orgs/" + test::url(mine) + "/instructor";
            for (int round = 0; round < 5; ++round) {
                auto v = org(mine)["version"].get<std::int64_t>();
                auto r = round % 2 == 0
                             ? request(port_, "PUT", path, planner_,
                                       json{{"instructor_id", roomy[static_cast<std::size_t>(w)]}}.dump(),
                                       {"If-Match: " + std::to_string(v)})
                             : request(port_, "DELETE", path, planner_, "", {"If-Match: " + std::to_string(v)});
                EXPECT_EQ(r.status, 200) << r.body;
            }
            std::string shared_path = "/api/orgs/" + test::url(shared_org) + "/instructor";
            for (int round = 0; round < 5; ++round) {
                auto v = org(shared_org)["version"].get<std::int64_t>();
                auto r = request(port_, "PUT", shared_path, planner_, json{{"instructor_id", roomy[8]}}.dump(),
                                 {"If-Match: " + std::to_string(v)});
                if (r.status == 200)
                    ++successes;
                else if (r.status == 412)
                    ++conflicts;
                else
                    ADD_FAILURE() << r.status << " " << r.body;
            }
        });
    }
    for (auto& t : workers) t.join();
    EXPECT_EQ(successes + conflicts, 40);
    EXPECT_GE(successes.load(), 1);
    // Every acknowledged edit is one version step: none lost, none doubled.
    EXPECT_EQ(org(shared_org)["version"].get<std::int64_t>(), shared_before + successes);
    for (int w = 0; w < 8; ++w)
        EXPECT_TRUE(org(orgs[static_cast<std::size_t>(w + 1)])["instructor_id"] == roomy[static_cast<std::size_t>(w)]);
}

TEST_F(ServerTest, PlanAndAcceptWithConflicts) {
    auto made = request(port_, "POST", "/api/plan", planner_, R"({"level":"grid","cost":"distance"})");
    ASSERT_EQ(made.status, 201) << made.body;
    auto plan = json::parse(made.body);
    std::string id = plan["id"];
    EXPECT_EQ(request(port_, "GET", "/api/plan/" + id, viewer_).status, 200);
    EXPECT_EQ(request(port_, "GET", "/api/plan/plan-999", viewer_).status, 404);
    EXPECT_EQ(request(port_, "POST", "/api/plan", planner_, R"({"level":"park"})").status, 400);
    std::vector<std::string> pick;
    std::map<std::string, json> by_id;
    for (const auto& p : plan["proposals"]) {
        by_id[p["id"]] = p;
        if (pick.size() < 3 && (p["type"] == "standalone" || p["type"] == "instructor" || p["type"] == "joint"))
            pick.push_back(p["id"]);
    }
    ASSERT_FALSE(pick.empty());
    json body = {{"proposals", pick}};
    body["proposals"].push_back("no-such-proposal");
    auto acc = request(port_, "POST", "/api/plan/" + id + "/accept", planner_, body.dump());
    ASSERT_EQ(acc.status, 200) << acc.body;
    auto result = json::parse(acc.body);
    EXPECT_EQ(result["applied"].size(), pick.size());
    ASSERT_EQ(result["conflicts"].size(), 1u);
    EXPECT_EQ(result["conflicts"][0]["id"], "no-such-proposal");
    // Applied: organizations now have their branch or instructor.
    for (const auto& pid : pick) {
        const auto& p = by_id[pid];
        for (const auto& oid : p["orgs"]) {
            auto o = org(oid.get<std::string>());
            if (p["type"] == "instructor")
                EXPECT_EQ(o["instructor_id"], p["instructor_id"]);
            else
                EXPECT_FALSE(o["branch_id"].is_null());
        }
    }
    // Accepting the same proposals again conflicts on each, per proposal.
    auto again = json::parse(
        request(port_, "POST", "/api/plan/" + id + "/accept", planner_, json{{"proposals", pick}}.dump()).body);
    EXPECT_TRUE(again["applied"].empty());
    EXPECT_EQ(again["conflicts"].size(), pick.size());
}

TEST_F(ServerTest, ExportAndImport) {
    auto zip = request(port_, "GET", "/api/export/orgs?format=shp&encoding=GBK&srs=EPSG:4490", viewer_);
    ASSERT_EQ(zip.status, 200);
    EXPECT_EQ(zip.header("Content-Type"), "application/zip");
    EXPECT_EQ(zip.body.substr(0, 2), "PK");
    auto gj = request(port_, "GET", "/api/export/areas?format=geojson&level=street", viewer_);
    ASSERT_EQ(gj.status, 200);
    EXPECT_FALSE(json::parse(gj.body)["features"].empty());
    auto bad = request(port_, "GET", "/api/export/orgs?format=dwg", viewer_);
    EXPECT_EQ(bad.status, 400);
    auto badsrs = request(port_, "GET", "/api/export/orgs?srs=EPSG:0", viewer_);
    EXPECT_EQ(badsrs.status, 400);
    EXPECT_EQ(badsrs.body.find("/tmp"), std::string::npos) << "no file paths in errors";
    EXPECT_EQ(request(port_, "GET", "/api/export/people", viewer_).status, 404);

    std::string csv =
        "id,name,kind,credit_code,industry,employees,party_members,status,above_scale,lon,lat\n"
        "900001,新导入公司,enterprise,91211202MA0A1B2C3D,C,12,1,operating,0,123.845,42.285\n";
    auto imp = request(port_, "POST", "/api/import/orgs?format=csv", admin_, csv);
    ASSERT_EQ(imp.status, 201) << imp.body;
    EXPECT_EQ(json::parse(imp.body)["imported"], 1);
    EXPECT_EQ(org("900001")["name"], "新导入公司");
    auto before = geo::Store::open_existing(db_).count("orgs");
    auto broken = request(
        port_, "POST", "/api/import/orgs?format=csv", admin_,
        "id,name,kind,employees,party_members,status,lon,lat\n900002,甲,enterprise,many,0,operating,123.8,42.2\n");
    EXPECT_EQ(broken.status, 400);
    EXPECT_NE(broken.body.find("line 2: employees 'many' is not an integer"), std::string::npos) << broken.body;
    EXPECT_EQ(broken.body.find("/tmp"), std::string::npos) << broken.body;
    EXPECT_EQ(geo::Store::open_existing(db_).count("orgs"), before);
    EXPECT_EQ(request(port_, "POST", "/api/import/people", admin_, "x").status, 404);

    auto tok = request(port_, "POST", "/api/tokens", admin_, R"({"role":"viewer","name":"grid-system"})");
    ASSERT_EQ(tok.status, 201);
    EXPECT_EQ(request(port_, "GET", "/api/orgs/1", json::parse(tok.body)["token"]).status, 200);
    EXPECT_EQ(request(port_, "POST", "/api/tokens", planner_, R"({"role":"admin","name":"x"})").status, 403);
}

TEST_F(ServerTest, LimitsAndHostileRequests) {
    std::string big_header = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
    EXPECT_EQ(raw(port_, big_header).status, 431);
    std::string body(2 << 20, ' ');
    auto r413 = request(port_, "PUT", "/api/orgs/1/instructor", planner_, body, {"If-Match: 1"});
    EXPECT_TRUE(r413.status == 413 || r413.closed_without_answer) << r413.status;
    EXPECT_EQ(raw(port_, "GARBAGE\r\n\r\n").status, 400);
    EXPECT_EQ(raw(port_, "GET /health HTTP/9.9\r\n\r\n").status, 400);
    // A slow client that never finishes its header is cut off after the header timeout.
    int fd = connect_to(port_);
    ASSERT_GE(fd, 0);
    ::send(fd, "GET /health HTTP/1.1\r\nHo", 24, MSG_NOSIGNAL);
    auto t0 = std::chrono::steady_clock::now();
    char buf[64];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    auto waited = std::chrono::steady_clock::now() - t0;
    ::close(fd);
    EXPECT_LE(n, 0) << "closed without an answer";
    EXPECT_LT(waited, std::chrono::seconds(5));
    // Pipelined requests on one connection are answered in order.
    auto two =
        raw(port_, "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(two.status, 200);
    EXPECT_NE(two.body.find("HTTP/1.1 401"), std::string::npos) << "no token: 401 before any routing";
    // Still serving.
    EXPECT_EQ(request(port_, "GET", "/health").status, 200);
}

TEST_F(ServerTest, OgcApiFeaturesThroughGdal) {
    EXPECT_EQ(json::parse(request(port_, "GET", "/ogc/conformance", viewer_).body)["conformsTo"].size(), 2u);
    auto page = json::parse(request(port_, "GET", "/ogc/collections/orgs/items?limit=5&offset=0", viewer_).body);
    EXPECT_EQ(page["numberReturned"], 5);
    EXPECT_GT(page["numberMatched"].get<int>(), 5);
    bool has_next = false;
    for (const auto& l : page["links"]) has_next |= l["rel"] == "next";
    EXPECT_TRUE(has_next);
    EXPECT_EQ(request(port_, "GET", "/ogc/collections/orgs/items?bbox=1,2,3", viewer_).status, 400);
    EXPECT_EQ(request(port_, "GET", "/ogc/collections/orgs/items?limit=0", viewer_).status, 400);
    EXPECT_EQ(request(port_, "GET", "/ogc/collections/nope", viewer_).status, 404);
    EXPECT_EQ(request(port_, "GET", "/ogc/collections/orgs/items/99999999", viewer_).status, 404);

    GDALAllRegister();
    CPLSetConfigOption("GDAL_HTTP_HEADERS", ("Authorization: Bearer " + viewer_).c_str());
    std::string url = "OAPIF:http://127.0.0.1:" + std::to_string(port_) + "/ogc";
    const char* opts[] = {"PAGE_SIZE=100", nullptr};
    auto* ds = static_cast<GDALDataset*>(GDALOpenEx(url.c_str(), GDAL_OF_VECTOR, nullptr, opts, nullptr));
    ASSERT_NE(ds, nullptr) << CPLGetLastErrorMsg();
    EXPECT_EQ(ds->GetLayerCount(), 7);
    auto* orgs = ds->GetLayerByName("orgs");
    ASSERT_NE(orgs, nullptr);
    auto d = geo::Store::open_existing(db_).load();
    GIntBig n = 0;
    orgs->ResetReading();
    bool chinese = false;
    while (OGRFeature* f = orgs->GetNextFeature()) {  // follows the next links, 100 at a time
        ++n;
        chinese |= std::string(f->GetFieldAsString("name")).find("公司") != std::string::npos;
        OGRFeature::DestroyFeature(f);
    }
    EXPECT_EQ(n, static_cast<GIntBig>(d.orgs.size()));
    EXPECT_TRUE(chinese);
    auto* grid = ds->GetLayerByName("areas-grid");
    ASSERT_NE(grid, nullptr);
    grid->SetSpatialFilterRect(123.8, 42.25, 123.9, 42.3);
    GIntBig in_box = 0;
    while (OGRFeature* f = grid->GetNextFeature()) {
        ++in_box;
        EXPECT_EQ(wkbFlatten(f->GetGeometryRef()->getGeometryType()), wkbMultiPolygon);
        OGRFeature::DestroyFeature(f);
    }
    EXPECT_GT(in_box, 0);
    // Areas carry their coverage as attributes: GDAL reads them, so QGIS can colour by them.
    auto* streets = ds->GetLayerByName("areas-street");
    ASSERT_NE(streets, nullptr);
    auto table = geo::compute_coverage(geo::Store::open_existing(db_).load(), geo::Level::street);
    std::map<std::string, double> want;
    for (const auto& r : table.areas) want[r.code] = r.org_coverage();
    int checked = 0;
    streets->ResetReading();
    while (OGRFeature* f = streets->GetNextFeature()) {
        int i = f->GetFieldIndex("org_coverage");
        EXPECT_GE(i, 0);
        if (i >= 0) {
            EXPECT_NEAR(f->GetFieldAsDouble(i), want[f->GetFieldAsString("code")], 1e-4);
        }
        ++checked;
        OGRFeature::DestroyFeature(f);
    }
    EXPECT_EQ(checked, static_cast<int>(table.areas.size()));
    GDALClose(ds);
    CPLSetConfigOption("GDAL_HTTP_HEADERS", nullptr);
    // The landing page names its OpenAPI document; unknown parameters are refused.
    auto landing = json::parse(request(port_, "GET", "/ogc", viewer_).body);
    std::string desc;
    for (const auto& l : landing["links"])
        if (l["rel"] == "service-desc") desc = l["href"];
    ASSERT_FALSE(desc.empty());
    auto api = request(port_, "GET", desc.substr(desc.find("/ogc")), viewer_);
    ASSERT_EQ(api.status, 200);
    EXPECT_EQ(json::parse(api.body)["openapi"], "3.0.3");
    EXPECT_TRUE(json::parse(api.body)["paths"].contains("/collections/{collectionId}/items"));
    auto unknown = request(port_, "GET", "/ogc/collections/orgs/items?limt=5", viewer_);
    EXPECT_EQ(unknown.status, 400);
    EXPECT_NE(unknown.body.find("limt"), std::string::npos);
}

TEST_F(ServerTest, MetricsAreScraped) {
    request(port_, "GET", "/health");
    auto m = request(port_, "GET", "/metrics", viewer_);
    ASSERT_EQ(m.status, 200);
    EXPECT_NE(m.header("Content-Type").find("text/plain"), std::string::npos);
    EXPECT_NE(m.body.find("covermap_http_requests_total{route=\"/health\",status=\"200\"}"), std::string::npos)
        << m.body;
    EXPECT_NE(m.body.find("covermap_http_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"}"),
              std::string::npos);
    // Buckets are cumulative and never fall: /health answers in well under 5 s, so the le="5"
    // bucket holds every request counted.
    auto value_of = [&](const std::string& series) {
        auto at = m.body.find(series + " ");
        return at == std::string::npos ? -1L : std::stol(m.body.substr(at + series.size() + 1));
    };
    const std::string histogram = "covermap_http_request_duration_seconds";
    long count = value_of(histogram + "_count{route=\"/health\"}"), previous = 0;
    EXPECT_GE(count, 1);
    for (const char* le : {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "1", "5"}) {
        long v = value_of(histogram + "_bucket{route=\"/health\",le=\"" + le + "\"}");
        EXPECT_GE(v, previous) << le;
        previous = v;
    }
    EXPECT_EQ(previous, count);
    EXPECT_NE(m.body.find("covermap_open_connections "), std::string::npos);
    EXPECT_NE(m.body.find("covermap_planner_runs_total "), std::string::npos);
    EXPECT_EQ(request(port_, "GET", "/metrics").status, 401);
}

// The real executable: an acknowledged edit survives kill -9; SIGTERM drains and exits 0.
TEST(ServeProcess, KillNineKeepsAcknowledgedEditsAndSigtermDrains) {
    test::TempDir dir;
    std::string db = dir / "k.gpkg";
    {
        geo::DemoParams p;
        p.scale = 0.05;
        p.borders = std::string(COVERMAP_DATA_DIR) + "/tieling_counties.geojson";
        geo::Store::open(db).replace(geo::make_demo(p));
    }
    auto start = [&](std::string& token) -> std::pair<pid_t, unsigned short> {
        int out[2];
        EXPECT_EQ(pipe(out), 0);
        pid_t pid = fork();
        if (pid == 0) {
            dup2(out[1], STDOUT_FILENO);
            int devnull = ::open("/dev/null", O_WRONLY);
            dup2(devnull, STDERR_FILENO);
            execl(COVERMAP_BIN, COVERMAP_BIN, "serve", "--db", db.c_str(), "--port", "0", nullptr);
            _exit(127);
        }
        ::close(out[1]);
        std::string text;
        char c;
        unsigned short port = 0;
        while (::read(out[0], &c, 1) == 1) {
            text += c;
            if (c == '\n' && text.find("http://127.0.0.1:") != std::string::npos) break;
        }
        auto at = text.find("http://127.0.0.1:");
        if (at != std::string::npos) port = static_cast<unsigned short>(std::atoi(text.c_str() + at + 17));
        auto tk = text.find("cm_");
        if (tk != std::string::npos) token = text.substr(tk, text.find('\n', tk) - tk);
        ::close(out[0]);
        return {pid, port};
    };
    std::string token;
    auto [pid, port] = start(token);
    ASSERT_GT(port, 0);
    ASSERT_FALSE(token.empty()) << "first start prints an admin token";
    // Edits acknowledged with 200, then kill -9 at once.
    auto d = geo::Store::open_existing(db).load();
    std::vector<std::string> edited;
    for (const auto& o : d.orgs) {
        if (edited.size() == 5) break;
        if (!o.instructor_id) continue;
        auto r = request(port, "DELETE", "/api/orgs/" + test::url(o.id) + "/instructor", token, "",
                         {"If-Match: " + std::to_string(o.version)});
        ASSERT_EQ(r.status, 200);
        edited.push_back(o.id);
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    auto after = geo::Store::open_existing(db).load();
    for (const auto& o : after.orgs)
        if (std::find(edited.begin(), edited.end(), o.id) != edited.end()) {
            EXPECT_FALSE(o.instructor_id) << o.id;
            EXPECT_EQ(o.version, 2);
        }
    // Restart (the token survives: only its hash was stored), then a graceful SIGTERM.
    std::string none;
    auto [pid2, port2] = start(none);
    ASSERT_GT(port2, 0);
    EXPECT_TRUE(none.empty()) << "no new admin token once one exists";
    EXPECT_EQ(request(port2, "GET", "/api/orgs/" + test::url(edited[0]), token).status, 200);
    kill(pid2, SIGTERM);
    waitpid(pid2, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(ServerTest, TilesWithEtagsAndErrors) {
    // Tieling city at z12.
    int z = 12, x = 3457, y = 1516;
    std::string path =
        "/tiles/coverage-street/" + std::to_string(z) + "/" + std::to_string(x) + "/" + std::to_string(y) + ".png";
    auto t = request(port_, "GET", path, viewer_);
    ASSERT_EQ(t.status, 200) << t.body;
    EXPECT_EQ(t.header("Content-Type"), "image/png");
    EXPECT_EQ(t.body.substr(1, 3), "PNG");
    auto etag = t.header("ETag");
    EXPECT_FALSE(etag.empty());
    EXPECT_EQ(t.header("Cache-Control"), "no-cache");
    auto again = request(port_, "GET", path, viewer_, "", {"If-None-Match: " + etag});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());
    auto retina = request(port_, "GET", "/tiles/orgs/12/3457/1516@2x.png", viewer_);
    EXPECT_EQ(retina.status, 200);
    EXPECT_EQ(request(port_, "GET", path).status, 401);
    EXPECT_EQ(request(port_, "GET", "/tiles/roads/12/3457/1516.png", viewer_).status, 404);
    EXPECT_EQ(request(port_, "GET", "/tiles/orgs/25/0/0.png", viewer_).status, 400);
    EXPECT_EQ(request(port_, "GET", "/tiles/orgs/12/4096/0.png", viewer_).status, 400);
    EXPECT_EQ(request(port_, "GET", "/tiles/orgs/12/-1/0.png", viewer_).status, 400);
    EXPECT_EQ(request(port_, "GET", "/tiles/orgs/12/abc/0.png", viewer_).status, 400);
    EXPECT_EQ(request(port_, "GET", "/tiles/orgs/12/1/0.jpg", viewer_).status, 400);
    EXPECT_EQ(request(port_, "GET", "/tiles/orgs/99999999999999999999/1/0.png", viewer_).status, 400);
    auto tj = request(port_, "GET", "/tiles/heatmap.json", viewer_);
    ASSERT_EQ(tj.status, 200);
    auto j = json::parse(tj.body);
    EXPECT_EQ(j["tilejson"], "3.0.0");
    EXPECT_NE(j["tiles"][0].get<std::string>().find("/tiles/heatmap/{z}/{x}/{y}.png"), std::string::npos);
    EXPECT_EQ(request(port_, "GET", "/tiles/roads.json", viewer_).status, 404);
    auto metrics = request(port_, "GET", "/metrics", viewer_).body;
    EXPECT_NE(metrics.find("covermap_tile_cache_hits_total"), std::string::npos);
    EXPECT_NE(metrics.find("covermap_tile_renders_total{layer=\"coverage-street\",zoom=\"12\"}"), std::string::npos);
}

TEST_F(ServerTest, AnEditChangesItsTileAndNotAFarOne) {
    auto d = geo::Store::open_existing(db_).load();
    const geo::Organization* o = nullptr;
    for (const auto& x : d.orgs)
        if (x.operating() && x.instructor_id && !x.branch_id) {
            o = &x;
            break;
        }
    ASSERT_NE(o, nullptr);
    auto here = tiles::tile_at(o->location, 15);
    auto far = tiles::tile_at({o->location.x + 0.5, o->location.y}, 15);
    auto url = [](const tiles::TileId& t) { return "/tiles/orgs/" + t.str() + ".png"; };
    auto e_here = request(port_, "GET", url(here), viewer_).header("ETag");
    auto e_far = request(port_, "GET", url(far), viewer_).header("ETag");
    auto cur = org(o->id);
    auto r = request(port_, "DELETE", "/api/orgs/" + test::url(o->id) + "/instructor", planner_, "",
                     {"If-Match: " + std::to_string(cur["version"].get<std::int64_t>())});
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(request(port_, "GET", url(here), viewer_).header("ETag"), e_here) << "the organization turned red";
    EXPECT_EQ(request(port_, "GET", url(far), viewer_, "", {"If-None-Match: " + e_far}).status, 304);
}

TEST_F(ServerTest, ConcurrentTileRequests) {
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 12; ++i)
        threads.emplace_back([&, i] {
            for (int k = 0; k < 4; ++k) {
                int x = 3456 + (i + k) % 8, y = 1512 + (i * 3 + k) % 8;
                auto r =
                    request(port_, "GET",
                            "/tiles/coverage-grid/12/" + std::to_string(x) + "/" + std::to_string(y) + ".png", viewer_);
                ok += r.status == 200;
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 48);
}

// A second, small server for tests that need their own options.
struct SmallServer {
    explicit SmallServer(api::ServerOptions so) {
        geo::Store::open(db).replace(test::demo_dataset(0.02, 5));
        api::AppOptions ao;
        ao.db = db;
        app = std::make_unique<api::App>(ao);
        so.port = 0;
        server = std::make_unique<api::Server>(*app, so);
        port = server->start();
    }
    test::TempDir dir;
    std::string db = dir / "small.gpkg";
    std::unique_ptr<api::App> app;
    std::unique_ptr<api::Server> server;
    unsigned short port = 0;
};

TEST(ServerLimits, AtTheCapTheOldestIdleConnectionMakesRoom) {
    api::ServerOptions so;
    so.max_connections = 2;
    so.access_log = false;
    SmallServer small(so);
    auto port = small.port;
    // Two idle connections take the slots; a third client is served, and the oldest idle
    // connection is the one closed to make room.
    int a = connect_to(port), b = connect_to(port);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(request(port, "GET", "/health").status, 200);
    char c;
    EXPECT_LE(::recv(a, &c, 1, 0), 0) << "the oldest idle connection was closed";
    ::close(a);
    ::close(b);
}

TEST(ServerLog, OneLinePerRequestWithoutQueries) {
    // Capture stderr (the access log, opened when the server starts) in a file while a server
    // answers two requests and stops (which flushes the log).
    test::TempDir dir;
    std::string log_path = dir / "access.log";
    std::fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = ::open(log_path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    dup2(fd, STDERR_FILENO);
    test::Reply ok, denied;
    {
        SmallServer small(api::ServerOptions{});
        auto token = small.app->add_token(api::Role::viewer, "log-viewer");
        ok = request(small.port, "GET", "/api/coverage?level=district&secret=HUNTER2", token);
        denied = request(small.port, "GET", "/api/orgs/1");
    }
    std::fflush(stderr);
    dup2(saved, STDERR_FILENO);
    ::close(saved);
    ::close(fd);
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(denied.status, 401);
    std::ifstream in(log_path);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);)
        if (l.rfind("covermap: ", 0) != 0) lines.push_back(l);  // the server's own notices
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[0].find("GET /api/coverage 200 "), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("ms log-viewer"), std::string::npos) << lines[0];
    EXPECT_EQ(lines[0].find("HUNTER2"), std::string::npos) << "queries never reach the log";
    EXPECT_NE(lines[1].find("GET /api/orgs/1 401 "), std::string::npos) << lines[1];
    EXPECT_EQ(lines[0].substr(4, 1), "-") << "starts with an ISO 8601 time";
}
