// Issue #13: one request must never take the service down, and no acknowledged edit is lost.
// One test per row of the issue's table, each of which failed on the main of 2026-11-23.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "api/http_client.hpp"
#include "api/process.hpp"
#include "api/served.hpp"
#include "covermap/api/app.hpp"
#include "covermap/api/server.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/import.hpp"
#include "covermap/geo/store.hpp"
#include "covermap/geo/text.hpp"
#include "support.hpp"

using namespace covermap;
using nlohmann::json;
using test::connect_to;
using test::raw;
using test::request;
using test::Served;

namespace {

bool is_json(const std::string& body) { return !json::parse(body, nullptr, false).is_discarded(); }

std::string write_file(const test::TempDir& dir, const std::string& name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return dir / name;
}

// Runs the covermap executable; returns its exit status and what it wrote to stderr.
std::pair<int, std::string> run_covermap(const std::vector<std::string>& args) {
    std::string cmd = COVERMAP_BIN;
    for (const auto& a : args) cmd += " '" + a + "'";
    cmd += " 2>&1 >/dev/null";
    auto ran = test::shell(cmd);
    return {ran.status, ran.out};
}

// Runs the covermap executable; returns what it wrote to stdout.
std::string covermap_line(const std::string& args) { return test::capture(std::string(COVERMAP_BIN) + " " + args); }

// Starts `covermap serve` on db; returns its pid and port (0 when it did not start).
std::pair<pid_t, unsigned short> start_serve(const std::string& db, std::string* err_out = nullptr) {
    std::string err;
    auto p = test::serve(db, {}, &err);
    if (err_out) *err_out = err;
    return {p.pid, p.port};
}

}  // namespace

// Row 1: an invalid UTF-8 layer name on the cached-tile path aborted the process.
TEST(Hostile, Row01InvalidUtf8TileLayerIsA400NotACrash) {
    Served s;
    for (const char* path : {"/tiles/%FF/1/0/0.png", "/tiles/%FF.json", "/tiles/coverage-street/1/0/%FF.png"}) {
        auto r = request(s.port, "GET", path, s.viewer);
        EXPECT_EQ(r.status, 400) << path;
        EXPECT_TRUE(is_json(r.body)) << r.body;
    }
    EXPECT_TRUE(s.healthy());
}

// Row 2: out-of-range numbers were cast (undefined behaviour) into wrong values.
TEST(Hostile, Row02OutOfRangeNumbersAreRefusedNotWrapped) {
    test::TempDir dir;
    auto store_path = dir / "n.gpkg";
    geo::Store::open(store_path).replace(test::demo_dataset(0.02, 5));
    const std::string head = "id,name,kind,employees,party_members,status,lon,lat\n";
    for (std::string row :
         {"90001,甲,enterprise,1e30,0,operating,123.8,42.3", "90001,甲,enterprise,4294967297,0,operating,123.8,42.3",
          "90001,甲,enterprise,-3,0,operating,123.8,42.3", "90001,甲,enterprise,nan,0,operating,123.8,42.3"}) {
        geo::ImportParams p;
        p.kind = geo::ImportKind::orgs;
        p.source = write_file(dir, "o.csv", head + row + "\n");
        auto store = geo::Store::open_existing(store_path);
        auto before = store.count("orgs");
        try {
            geo::import_into(store, p);
            ADD_FAILURE() << "accepted " << row;
        } catch (const geo::format_error& e) {
            EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("employees"), std::string::npos) << e.what();
        }
        EXPECT_EQ(store.count("orgs"), before) << "nothing written";
    }
    geo::ImportParams p;
    p.kind = geo::ImportKind::instructors;
    p.source = write_file(dir, "i.csv", "id,name,capacity,lon,lat\n9001,乙,4294967301,123.8,42.3\n");
    auto store = geo::Store::open_existing(store_path);
    EXPECT_THROW(geo::import_into(store, p), geo::format_error);
}

// Row 3: two servers on one GeoPackage both acknowledged the same If-Match. Now the second
// is refused at start, and so is a demo that would replace the file under the first.
TEST(Hostile, Row03And16OneServerPerGeoPackageAndNoDemoOverIt) {
    test::TempDir dir;
    auto db = dir / "two.gpkg";
    geo::Store::open(db).replace(test::demo_dataset(0.02, 5));
    auto [pid, port] = start_serve(db);
    ASSERT_GT(port, 0);
    std::string why;
    auto [pid2, port2] = start_serve(db, &why);
    EXPECT_EQ(port2, 0) << "a second server on the same file must not start";
    EXPECT_NE(why.find("in use by another covermap process"), std::string::npos) << why;
    auto [code, msg] = run_covermap({"demo", "--out", db, "--scale", "0.01"});
    EXPECT_NE(code, 0);
    EXPECT_NE(msg.find("--force"), std::string::npos) << msg;
    std::tie(code, msg) = run_covermap({"demo", "--out", db, "--scale", "0.01", "--force"});
    EXPECT_NE(code, 0);
    EXPECT_NE(msg.find("running covermap"), std::string::npos) << msg;
    EXPECT_EQ(request(port, "GET", "/health").status, 200);
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    // Once the server is gone the file may be replaced on request.
    std::tie(code, msg) = run_covermap({"demo", "--out", db, "--scale", "0.01", "--force"});
    EXPECT_EQ(code, 0) << msg;
    // A file that is not a store says why.
    auto junk = write_file(dir, "junk.gpkg", std::string(4096, 'x'));
    std::tie(code, msg) = run_covermap({"coverage", "--db", junk, "--level", "district"});
    EXPECT_NE(code, 0);
    EXPECT_NE(msg.find("not a GeoPackage"), std::string::npos) << msg;
}

// Row 5: a GBK CSV without --encoding stored invalid UTF-8, then reads of it answered 500.
TEST(Hostile, Row05GbkCsvIsDetectedAndInvalidTextNeverBreaksAReader) {
    Served s;
    test::TempDir dir;
    // 铁岭公司 in GBK.
    std::string gbk_name = "\xCC\xFA\xC1\xEB\xB9\xAB\xCB\xBE";
    geo::ImportParams p;
    p.kind = geo::ImportKind::orgs;
    p.source = write_file(dir, "gbk.csv",
                          "id,name,kind,employees,party_members,status,lon,lat\n90001," + gbk_name +
                              ",enterprise,5,0,operating,123.84,42.29\n");
    geo::ImportReport report;
    auto d = geo::read_source(p, report);
    ASSERT_EQ(d.orgs.size(), 1u);
    EXPECT_EQ(d.orgs[0].name, "铁岭公司");
    ASSERT_FALSE(report.notes.empty());
    EXPECT_NE(report.notes[0].find("GBK"), std::string::npos);
    // A store that already holds invalid bytes (written by an older version) still answers.
    auto data = test::demo_dataset(0.02, 5);
    data.orgs[0].name = "bad \xFF\xFE name";
    geo::Store::open(s.db).replace(data);
    api::AppOptions ao;
    ao.db = s.db;
    api::App app(ao);
    auto token = app.add_token(api::Role::viewer, "v");
    api::ServerOptions so;
    so.port = 0;
    so.access_log = false;
    api::Server server(app, so);
    auto port = server.start();
    auto one = request(port, "GET", "/api/orgs/" + test::url(data.orgs[0].id), token);
    EXPECT_EQ(one.status, 200);
    EXPECT_TRUE(is_json(one.body));
    EXPECT_TRUE(geo::valid_utf8(one.body));
    auto items = request(port, "GET", "/ogc/collections/orgs/items?limit=5", token);
    EXPECT_EQ(items.status, 200);
    EXPECT_TRUE(is_json(items.body));
}

// Rows 6 and 7: a CRS parameter made GDAL read files and fetch URLs; uploads could be VRTs.
TEST(Hostile, Row06And07NoCrsTextOrUploadReachesGdalFileOrNetworkAccess) {
    Served s;
    test::Bait bait;  // records whether anyone connects to it
    std::string url = bait.url("/crs");
    auto t0 = std::chrono::steady_clock::now();
    for (std::string srs : {url, "/vsicurl/" + url, std::string("/etc/passwd"), std::string("+proj=longlat")}) {
        auto r = request(s.port, "GET", "/api/export/orgs?format=csv&srs=" + srs, s.viewer);
        EXPECT_EQ(r.status, 400) << srs << ": " << r.body;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    EXPECT_FALSE(bait.connected()) << "the server connected to the URL";
    // A VRT upload naming a server file is not opened by the VRT driver.
    std::string vrt =
        "<OGRVRTDataSource><OGRVRTLayer name=\"x\"><SrcDataSource>/etc/passwd</SrcDataSource>"
        "</OGRVRTLayer></OGRVRTDataSource>";
    auto up = request(s.port, "POST", "/api/import/orgs?format=geojson", s.admin, vrt,
                      {"Content-Type: application/geo+json"});
    EXPECT_EQ(up.status, 400) << up.body;
    EXPECT_EQ(up.body.find("passwd"), std::string::npos);
    auto enc = request(s.port, "POST", "/api/import/orgs?format=csv&encoding=/etc/passwd", s.admin, "id\n1\n",
                       {"Content-Type: text/csv"});
    EXPECT_EQ(enc.status, 400) << enc.body;
    EXPECT_TRUE(s.healthy());
}

// Row 8: a pathological LIKE took 102 s; slow work now has a bound and its own pool.
TEST(Hostile, Row08CostlyFiltersAreRefusedAndSlowWorkHasADeadline) {
    api::AppOptions ao;
    ao.slow_deadline = std::chrono::milliseconds(0);  // every export is past its deadline at once
    Served s({}, ao);
    auto like =
        request(s.port, "GET", "/api/export/orgs?format=csv&where=name%20LIKE%20'%25%25_%25_%25_%25_Z'", s.viewer);
    EXPECT_EQ(like.status, 400) << like.body;
    auto late = request(s.port, "GET", "/api/export/orgs?format=csv", s.viewer);
    EXPECT_EQ(late.status, 503) << late.body;
    EXPECT_EQ(json::parse(late.body)["code"], "Cancelled");
    EXPECT_TRUE(s.healthy());
}

// Row 9: bodies to /api/import were buffered before the token was checked.
TEST(Hostile, Row09RefusedBeforeTheBodyIsRead) {
    Served s;
    for (const std::string& auth : {std::string(), "Authorization: Bearer " + s.viewer}) {
        int fd = connect_to(s.port);
        ASSERT_GE(fd, 0);
        std::string head = "POST /api/import/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: 95000000\r\n" +
                           (auth.empty() ? "" : auth + "\r\n") + "\r\n";
        ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
        // No body sent: the answer comes anyway, at once.
        char buf[512];
        auto n = ::recv(fd, buf, sizeof buf, 0);
        ::close(fd);
        ASSERT_GT(n, 12);
        int status = std::atoi(buf + 9);
        EXPECT_EQ(status, auth.empty() ? 401 : 403);
    }
}

// Row 10: 600 slow-header connections starved /health.
TEST(Hostile, Row10SlowHeaderFloodDoesNotStarveOthers) {
    api::ServerOptions so;
    so.max_connections = 256;
    so.max_per_client = 64;
    so.header_timeout = std::chrono::seconds(30);
    Served s(so);
    std::vector<int> slow;
    for (int i = 0; i < 600; ++i) {
        int fd = connect_to(s.port);
        if (fd < 0) continue;
        ::send(fd, "GET /health HTTP/1.1\r\nX-a: ", 26, MSG_NOSIGNAL);
        slow.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    int ok = 0;
    for (int i = 0; i < 14; ++i) ok += s.healthy();
    for (int fd : slow) ::close(fd);
    EXPECT_EQ(ok, 14);
}

// Row 11: every plan was kept in memory forever; now plans are in the store, a few in memory.
TEST(Hostile, Row11PlansLiveInTheStoreNotForeverInMemory) {
    api::AppOptions ao;
    ao.plans_in_memory = 2;
    Served s({}, ao);
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) {
        auto r = request(s.port, "POST", "/api/plan", s.planner, "{}");
        ASSERT_EQ(r.status, 201) << r.body;
        ids.push_back(json::parse(r.body)["id"]);
    }
    EXPECT_EQ(geo::Store::open_existing(s.db).plans("", false).size(), 4u);
    for (const auto& id : ids) EXPECT_EQ(request(s.port, "GET", "/api/plan/" + id, s.viewer).status, 200) << id;
}

// Row 12: a %0a in a path wrote a forged line into the access log.
TEST(Hostile, Row12NoLogLineCanBeForged) {
    test::CaptureStderr log;
    {
        Served s({}, {}, true);
        request(s.port, "GET", "/api/orgs/1%0a2026-01-01T00:00:00.000Z%20GET%20/forged%20200", s.viewer);
    }
    std::istringstream in(log.text());
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);)
        if (l.rfind("covermap: ", 0) != 0) lines.push_back(l);  // the server's own notices (its start-up snapshot)
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("%0A"), std::string::npos) << lines[0];
}

// Row 13: the import limit was 1 MiB with a Content-Length (checked before the route raised it).
TEST(Hostile, Row13TheImportLimitIsTheImportLimit) {
    api::ServerOptions so;
    so.import_body_limit = 8u << 20;
    Served s(so);
    std::string body = "id,name\n" + std::string(3u << 20, 'x');
    auto r = request(s.port, "POST", "/api/import/orgs?format=csv", s.admin, body, {"Content-Type: text/csv"});
    EXPECT_EQ(r.status, 400) << "read whole and refused as data, not as size: " << r.body;
    int fd = connect_to(s.port);
    std::string head = "POST /api/import/orgs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.admin +
                       "\r\nContent-Length: " + std::to_string(9u << 20) + "\r\n\r\n";
    ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    char buf[256];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    ::close(fd);
    ASSERT_GT(n, 12);
    EXPECT_EQ(std::atoi(buf + 9), 413);
}

// Row 14: invalid UTF-8 in paths and parameters answered 500; token names too.
TEST(Hostile, Row14InvalidUtf8IsA400Everywhere) {
    Served s;
    for (const char* path :
         {"/api/plan/%FF", "/ogc/collections/%FF", "/ogc/collections/%FF/items", "/api/export/%FF", "/tiles/%FF.json",
          "/api/export/orgs?encoding=%FF", "/api/export/orgs?srs=%FF", "/api/coverage?level=%C0%AF"}) {
        auto r = request(s.port, "GET", path, s.viewer);
        EXPECT_EQ(r.status, 400) << path << " " << r.body;
        EXPECT_TRUE(is_json(r.body));
    }
    EXPECT_THROW(s.app->add_token(api::Role::admin, "bad\xFF"), geo::invalid_argument);
    auto [code, msg] = run_covermap({"token", "add", "--db", s.db, "--role", "viewer", "--name", "bad\xFF"});
    EXPECT_NE(code, 0);
    EXPECT_TRUE(s.healthy());
}

// Row 15: HEAD sent a body; nan bboxes passed; "bearer" was refused; 404 came before 401.
TEST(Hostile, Row15ProtocolDetails) {
    Served s;
    auto two = raw(
        s.port, "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(two.status, 200);
    // The HEAD answer has no body: the next bytes are the GET's status line.
    EXPECT_EQ(two.body.rfind("HTTP/1.1 200", 0), 0u) << two.body;
    for (const char* bbox : {"nan,nan,nan,nan", "0x1p3,0,1,1", "inf,0,1,1", "1,2,3"}) {
        auto r = request(s.port, "GET", std::string("/ogc/collections/orgs/items?bbox=") + bbox, s.viewer);
        EXPECT_EQ(r.status, 400) << bbox;
    }
    auto lower = raw(s.port,
                     "GET /api/coverage?level=district HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Authorization: bearer " +
                         s.viewer + "\r\n\r\n");
    EXPECT_EQ(lower.status, 200);
    EXPECT_EQ(request(s.port, "GET", "/no/such/route").status, 401);
    EXPECT_EQ(request(s.port, "DELETE", "/api/coverage").status, 401);
    EXPECT_EQ(request(s.port, "GET", "/no/such/route", s.viewer).status, 404);
    auto big = request(s.port, "PUT", "/api/orgs/" + s.first_org() + "/instructor", s.planner,
                       R"({"instructor_id": 18446744073709551615})", {"If-Match: 1"});
    EXPECT_TRUE(big.status == 400 || big.status == 404) << big.body;
    EXPECT_EQ(big.body.find("-1"), std::string::npos) << big.body;
}

// Row 4 (and issue #11's keys): ids are text as the registry gives them; the store's FIDs stay
// internal, so no id can collide with another row's FID.
TEST(Hostile, Row04TextIdsThroughEveryRoute) {
    Served s;
    std::vector<std::string> ids = {"-1", "GCJ1", "91211202MA0A1B2C3D", "铁岭/2024 第7号", "1"};
    std::string csv = "id,name,kind,employees,party_members,status,lon,lat\n";
    for (std::size_t i = 0; i < ids.size(); ++i)
        csv += "\"" + ids[i] + "\",文本编号" + std::to_string(i) + ",enterprise,10,0,operating,123.84" +
               std::to_string(i) + ",42.29\n";
    // "1" is a demo id already: the import is an upsert, so that row updates organization 1.
    auto imp = request(s.port, "POST", "/api/import/orgs?format=csv", s.admin, csv, {"Content-Type: text/csv"});
    ASSERT_EQ(imp.status, 201) << imp.body;
    auto summary = json::parse(imp.body)["summary"];
    EXPECT_EQ(summary["added"], 4);
    EXPECT_EQ(summary["updated"], 1);
    auto instr =
        request(s.port, "POST", "/api/import/instructors?format=csv", s.admin,
                "id,name,capacity,lon,lat\n\"ZD 甲/1\",文本指导员,3,123.84,42.29\n", {"Content-Type: text/csv"});
    ASSERT_EQ(instr.status, 201) << instr.body;
    for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
        auto path = "/api/orgs/" + test::url(ids[i]);
        auto got = request(s.port, "GET", path, s.viewer);
        ASSERT_EQ(got.status, 200) << ids[i] << " " << got.body;
        EXPECT_EQ(json::parse(got.body)["id"], ids[i]);
        auto put = request(s.port, "PUT", path + "/instructor", s.planner, json{{"instructor_id", "ZD 甲/1"}}.dump(),
                           {"If-Match: 1"});
        if (i < 3) {
            ASSERT_EQ(put.status, 200) << put.body;
            EXPECT_EQ(json::parse(put.body)["instructor_id"], "ZD 甲/1");
        } else {
            EXPECT_EQ(put.status, 409) << "capacity 3: " << put.body;
        }
        auto item = request(s.port, "GET", "/ogc/collections/orgs/items/" + test::url(ids[i]), s.viewer);
        EXPECT_EQ(item.status, 200) << ids[i];
        EXPECT_EQ(json::parse(item.body)["id"], ids[i]);
    }
    auto exp = request(s.port, "GET", "/api/export/orgs?format=csv", s.viewer);
    ASSERT_EQ(exp.status, 200);
    for (std::size_t i = 0; i + 1 < ids.size(); ++i) EXPECT_NE(exp.body.find(ids[i]), std::string::npos) << ids[i];
    // A plan that holds a text id accepts (it answered 500 when ids were FIDs).
    auto plan = request(s.port, "POST", "/api/plan", s.planner, "{}");
    ASSERT_EQ(plan.status, 201);
    auto p = json::parse(plan.body);
    std::string pick;
    for (const auto& pr : p["proposals"])
        for (const auto& o : pr["orgs"])
            if (o == ids[3] && pick.empty()) pick = pr["id"];
    ASSERT_FALSE(pick.empty()) << "the uncovered text-id organization is in a proposal";
    auto acc = request(s.port, "POST", "/api/plan/" + p["id"].get<std::string>() + "/accept", s.planner,
                       json{{"proposals", {pick}}}.dump());
    EXPECT_EQ(acc.status, 200) << acc.body;
    EXPECT_EQ(json::parse(acc.body)["applied"].size(), 1u) << acc.body;
}

// #13 standards: tokens made, listed and revoked on the command line act on a running server
// (no restart), their web sessions end with them, and an expired token is refused.
TEST(Hostile, TokensAreListedRevokedAndExpireOnARunningServer) {
    api::AppOptions ao;  // the store's tokens re-read every 100 ms instead of 5 s: the test waits less
    ao.refresh_interval = std::chrono::milliseconds(100);
    ao.unknown_token_interval = std::chrono::milliseconds(50);
    Served s({}, ao);
    std::string made = covermap_line("token add --db '" + s.db + "' --role viewer --name 网格系统");
    made = made.substr(0, made.find('\n'));
    ASSERT_EQ(made.rfind("cm_", 0), 0u);
    EXPECT_EQ(request(s.port, "GET", "/api/me", made).status, 200) << "works at once, without a restart";
    auto session = request(s.port, "POST", "/api/session", made, "");
    ASSERT_EQ(session.status, 201);
    auto cookie = "Cookie: " + session.header("Set-Cookie").substr(0, session.header("Set-Cookie").find(';'));
    EXPECT_EQ(request(s.port, "GET", "/api/me", "", "", {cookie}).status, 200);
    // An expired one never works.
    std::string old = covermap_line("token add --db '" + s.db + "' --role admin --name 旧令牌 --expires 2020-12-31");
    old = old.substr(0, old.find('\n'));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    EXPECT_EQ(request(s.port, "GET", "/api/me", old).status, 401);
    // Listed without secrets.
    std::string listing = covermap_line("token list --db '" + s.db + "'");
    EXPECT_NE(listing.find("网格系统"), std::string::npos) << listing;
    EXPECT_NE(listing.find("expired"), std::string::npos) << listing;
    EXPECT_EQ(listing.find("cm_"), std::string::npos) << "no secret";
    EXPECT_EQ(listing.find(geo::replace_invalid_utf8(api::hash_token(made))), std::string::npos) << "no hash";
    // Revoked: the token and its session stop within the refresh interval.
    auto [rc, rout] = run_covermap({"token", "revoke", "--db", s.db, "--name", "网格系统"});
    EXPECT_EQ(rc, 0) << rout;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(request(s.port, "GET", "/api/me", made).status, 401);
    EXPECT_EQ(request(s.port, "GET", "/api/me", "", "", {cookie}).status, 401);
    EXPECT_EQ(request(s.port, "GET", "/api/me", s.viewer).status, 200) << "the others still work";
}

// OGC links come from the configured public URL, a trusted proxy's X-Forwarded-Host/Proto or
// the address the client connected to: never from the Host header, which any client sets.
TEST(Hostile, LinksNeverComeFromTheHostHeader) {
    auto landing = [](unsigned short port, const std::string& token, const std::string& extra) {
        auto r =
            test::raw(port, "GET /ogc HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\nAuthorization: Bearer " +
                                token + "\r\n" + extra + "\r\n");
        return json::parse(r.body)["links"][0]["href"].get<std::string>();
    };
    {
        Served s;
        auto own = "http://127.0.0.1:" + std::to_string(s.port) + "/ogc";
        EXPECT_EQ(landing(s.port, s.viewer, ""), own);
        EXPECT_EQ(landing(s.port, s.viewer, "X-Forwarded-Host: evil.example\r\n"), own) << "no proxy is trusted";
    }
    {
        api::AppOptions ao;
        ao.public_url = "https://gis.example.gov.cn/covermap";
        Served s({}, ao);
        EXPECT_EQ(landing(s.port, s.viewer, "X-Forwarded-Host: evil.example\r\n"),
                  "https://gis.example.gov.cn/covermap/ogc");
    }
    {
        api::AppOptions ao;
        ao.trust_proxy = true;
        Served s({}, ao);
        EXPECT_EQ(landing(s.port, s.viewer, "X-Forwarded-Host: gis.example.gov.cn\r\nX-Forwarded-Proto: https\r\n"),
                  "https://gis.example.gov.cn/ogc");
        EXPECT_EQ(landing(s.port, s.viewer, "X-Forwarded-Host: a\"b\r\n"),
                  "http://127.0.0.1:" + std::to_string(s.port) + "/ogc");
    }
}

// One address sending faster than its rate gets 429 with Retry-After (valid JSON), others and
// /health are not held up, and the address is served again once it slows down.
TEST(Hostile, RequestRateIsLimitedPerAddress) {
    api::ServerOptions so;
    so.rate_per_client = 20;  // bursts of 40
    Served s(so);
    int ok = 0, limited = 0;
    for (int i = 0; i < 100; ++i) {
        auto r = request(s.port, "GET", "/api/coverage?level=district", s.viewer);
        if (r.status == 200) ++ok;
        if (r.status == 429) {
            ++limited;
            EXPECT_EQ(r.header("Retry-After"), "1");
            EXPECT_EQ(json::parse(r.body)["code"], "TooManyRequests");
        }
    }
    EXPECT_EQ(ok + limited, 100);
    EXPECT_GE(ok, 40);
    EXPECT_GT(limited, 0);
    EXPECT_TRUE(s.healthy()) << "/health is never limited";
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the bucket refills 20 a second
    EXPECT_EQ(request(s.port, "GET", "/api/coverage?level=district", s.viewer).status, 200);
}

// JSON bodies nest at most 32 levels (the parser's callback stops deeper ones); a body of
// 100,000 brackets is a 400 and the server keeps serving.
TEST(Hostile, DeeplyNestedJsonIsRefused) {
    Served s;
    auto nested = [](int levels) { return std::string(levels, '[') + std::string(levels, ']'); };
    for (int levels : {33, 100000}) {
        auto r = request(s.port, "POST", "/api/plan", s.planner, nested(levels));
        EXPECT_EQ(r.status, 400) << levels;
        EXPECT_NE(r.body.find("nested deeper than 32"), std::string::npos) << r.body;
    }
    auto r = request(s.port, "POST", "/api/plan", s.planner, nested(32));
    EXPECT_EQ(r.body.find("nested deeper"), std::string::npos) << "32 levels are allowed: " << r.body;
    EXPECT_TRUE(s.healthy());
}

// OGC bbox queries on points go through an R-tree: the same features in the same order as a
// pass over the store's points, and a moved organization is found at its new place at once.
TEST(OgcBbox, ThroughTheIndexAsAPassWouldAndAfterAMove) {
    Served s;
    auto d = geo::Store::open_existing(s.db).load();
    geo::BBox all;
    for (const auto& o : d.orgs) all.expand(o.location);
    // A box a little inside the points' extent, rounded as the query sends it.
    auto rounded = [](double v) { return std::round(v * 1e6) / 1e6; };
    geo::BBox box{rounded(all.minx + 1e-4), rounded(all.miny + 1e-4), rounded((all.minx + all.maxx) / 2),
                  rounded((all.miny + all.maxy) / 2)};
    auto ids = [&](const std::string& collection) {
        char q[200];
        std::snprintf(q, sizeof q, "?bbox=%.6f,%.6f,%.6f,%.6f&limit=10000", box.minx, box.miny, box.maxx, box.maxy);
        auto r = request(s.port, "GET", "/ogc/collections/" + collection + "/items" + q, s.viewer);
        EXPECT_EQ(r.status, 200) << r.body;
        auto j = json::parse(r.body);
        std::vector<std::string> out;
        for (const auto& f : j["features"]) out.push_back(f["properties"]["id"].get<std::string>());
        EXPECT_EQ(j["numberMatched"].get<std::size_t>(), out.size());
        return out;
    };
    auto inside = [&](geo::Point p) {
        return p.x >= box.minx && p.x <= box.maxx && p.y >= box.miny && p.y <= box.maxy;
    };
    std::vector<std::string> want_orgs, want_instructors;
    for (const auto& o : d.orgs)
        if (inside(o.location)) want_orgs.push_back(o.id);
    for (const auto& in : d.instructors)
        if (inside(in.home)) want_instructors.push_back(in.id);
    ASSERT_GT(want_orgs.size(), 0u);
    EXPECT_EQ(ids("orgs"), want_orgs);
    EXPECT_EQ(ids("instructors"), want_instructors);

    // Move an organization from outside the box into it.
    auto outside = std::find_if(d.orgs.begin(), d.orgs.end(), [&](const auto& o) { return !inside(o.location); });
    ASSERT_NE(outside, d.orgs.end());
    char body[120];
    std::snprintf(body, sizeof body, R"({"lon":%.9f,"lat":%.9f})", (box.minx + box.maxx) / 2,
                  (box.miny + box.maxy) / 2);
    auto moved = request(s.port, "PATCH", "/api/orgs/" + outside->id, s.planner, body,
                         {"If-Match: " + std::to_string(outside->version)});
    ASSERT_EQ(moved.status, 200) << moved.body;
    auto after = ids("orgs");
    EXPECT_NE(std::find(after.begin(), after.end(), outside->id), after.end()) << "found at its new place";
    EXPECT_EQ(after.size(), want_orgs.size() + 1);
}
