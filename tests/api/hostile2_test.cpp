// Issue #25: the second hostile catalogue. One test per row of the issue's table, each of which
// failed on the main of 2026-12-06; limits and deadlines are shrunk through options so that no
// test waits long.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/http_client.hpp"
#include "api/served.hpp"
#include "covermap/api/app.hpp"
#include "covermap/api/server.hpp"
#include "covermap/geo/store.hpp"
#include "covermap/geo/text.hpp"
#include "support.hpp"

using namespace covermap;
using nlohmann::json;
using test::request;
using test::request_from;
using test::Served;

namespace {

using Clock = std::chrono::steady_clock;

// Sends all of bytes on fd; false when the connection is gone.
bool send_all(int fd, const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

// True when the server closed fd (or reset it) within `within`.
bool closed_within(int fd, std::chrono::milliseconds within) {
    auto until = Clock::now() + within;
    char buf[4096];
    while (Clock::now() < until) {
        pollfd p{fd, POLLIN, 0};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
        if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left))) <= 0) continue;
        auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) return true;
    }
    return false;
}

// The session cookie a sign-in set ("covermap_session=…"), or "".
std::string cookie_of(const test::Reply& r) {
    auto c = r.header("Set-Cookie");
    return c.substr(0, c.find(';'));
}

}  // namespace

// Row 1: 576 connections from 9 addresses announced 1 MB bodies and sent a byte a second:
// /health answered none of 5 from a tenth address, and each held a megabyte reserved.
TEST(Hostile2, Row01TrickledBodiesAreCutAndTheBusiestAddressMakesRoom) {
    api::ServerOptions so;
    so.max_connections = 40;
    so.max_per_client = 8;
    so.rate_per_client = 0;
    so.body_grace = std::chrono::milliseconds(400);
    so.body_min_rate = 1000;
    so.body_timeout = std::chrono::milliseconds(3000);
    Served s(so);
    const std::string head = "POST /api/session HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.viewer +
                             "\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{";
    std::vector<int> fds;
    for (int a = 2; a <= 10; ++a)
        for (int i = 0; i < 8; ++i) {
            int fd = test::connect_from(s.port, "127.0.0." + std::to_string(a));
            if (fd >= 0 && send_all(fd, head)) fds.push_back(fd);
        }
    EXPECT_GE(fds.size(), 60u) << "the attackers' connections were accepted";
    // A tenth address, while the nine hold the server full: every /health is answered.
    int healthy = 0;
    for (int i = 0; i < 5; ++i) healthy += request_from(s.port, "127.0.0.11", "GET", "/health").status == 200;
    EXPECT_EQ(healthy, 5);
    // A signed-in planner's edit gets through too.
    auto org = s.first_org();
    auto got = request_from(s.port, "127.0.0.12", "GET", "/api/orgs/" + test::url(org), s.planner);
    EXPECT_EQ(got.status, 200) << got.body;
    // Each trickled body is cut once its rate drops under the floor (after the grace), long
    // before the total deadline: no connection is held for the body it never sends.
    auto t0 = Clock::now();
    int fd = test::connect_from(s.port, "127.0.0.13");
    ASSERT_TRUE(send_all(fd, head));
    bool cut = false;
    while (!cut && Clock::now() - t0 < std::chrono::seconds(3)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        cut = !send_all(fd, "a") || closed_within(fd, std::chrono::milliseconds(1));
    }
    auto took = Clock::now() - t0;
    EXPECT_TRUE(cut) << "a body trickled at 10 bytes a second must be cut";
    EXPECT_LT(took, std::chrono::milliseconds(2000));
    ::close(fd);
    for (int f : fds) ::close(f);
    // A body sent at once still goes through.
    auto ok = request_from(s.port, "127.0.0.14", "POST", "/api/session", s.viewer, "{}",
                           {"Content-Type: application/json"});
    EXPECT_EQ(ok.status, 201) << ok.body;
    EXPECT_TRUE(s.healthy());
}

// Row 2: 10,050 sign-ins with one viewer token filled the session table; an admin was then
// locked out for twelve hours with 503 "too many sessions".
TEST(Hostile2, Row02SessionsAreCappedPerTokenAndAnotherTokenCanAlwaysSignIn) {
    api::ServerOptions so;
    so.rate_per_client = 0;
    api::AppOptions ao;
    ao.sessions_per_token = 3;
    ao.max_sessions = 4;
    Served s(so, ao);
    std::vector<std::string> cookies;
    for (int i = 0; i < 60; ++i) {
        auto r = request(s.port, "POST", "/api/session", s.viewer, "{}");
        ASSERT_EQ(r.status, 201) << r.body;
        cookies.push_back(cookie_of(r));
    }
    auto me = [&](const std::string& cookie) {
        return request(s.port, "GET", "/api/me", "", "", {"Cookie: " + cookie}).status;
    };
    EXPECT_EQ(me(cookies.back()), 200) << "the newest session works";
    EXPECT_EQ(me(cookies[cookies.size() - 3]), 200);
    EXPECT_EQ(me(cookies[cookies.size() - 4]), 401) << "beyond the cap the oldest session ended";
    EXPECT_EQ(me(cookies.front()), 401);
    // Other tokens sign in, also when the table is full: the busiest token makes room.
    std::vector<std::string> others;
    for (const auto& t : {s.planner, s.admin}) {
        auto r = request(s.port, "POST", "/api/session", t, "{}");
        ASSERT_EQ(r.status, 201) << r.body;
        others.push_back(cookie_of(r));
    }
    for (const auto& c : others) EXPECT_EQ(me(c), 200) << c;
    EXPECT_EQ(me(cookies.back()), 200) << "the viewer keeps its newest sessions";
    EXPECT_EQ(me(cookies[cookies.size() - 2]), 200);
    EXPECT_EQ(me(cookies[cookies.size() - 3]), 401) << "the viewer's oldest made room for the admin";
}

namespace {

// A CSV of organizations with one row per name given (ids 90001…), in Yinzhou.
std::string orgs_csv(const std::vector<std::string>& names, std::string extra_head = "",
                     std::string extra_cell = "") {
    std::string csv = "id,name,kind,employees,party_members,status,lon,lat" + extra_head + "\n";
    int id = 90001;
    for (const auto& n : names)
        csv += std::to_string(id++) + "," + n + ",enterprise,10,0,operating,123.84,42.29" + extra_cell + "\n";
    return csv;
}

// The store a Served was made from, with one organization's name holding `bytes` as an older
// covermap could store it, behind a server of its own.
struct ServedWithBadText {
    explicit ServedWithBadText(const std::string& bytes) {
        auto d = test::demo_dataset(0.02, 5);
        id = d.orgs.front().id;
        d.orgs.front().name = "坏" + bytes + "名";
        geo::Store::open(db).replace(d);
        api::AppOptions ao;
        ao.db = db;
        app = std::make_unique<api::App>(ao);
        admin = app->add_token(api::Role::admin, "admin");
        api::ServerOptions so;
        so.port = 0;
        so.access_log = false;
        server = std::make_unique<api::Server>(*app, so);
        port = server->start();
    }
    test::TempDir dir;
    std::string db = dir / "bad.gpkg";
    std::string id;
    std::unique_ptr<api::App> app;
    std::unique_ptr<api::Server> server;
    unsigned short port = 0;
    std::string admin;
};

}  // namespace

// Row 3: a name holding the UTF-8 bytes of a surrogate (ED A0 80) was imported; from then on
// every import touching that id answered 500, and nothing could repair the store.
TEST(Hostile2, Row03SurrogatesAreRefusedAtTheDoorAndDoctorRepairsTheStore) {
    const std::string surrogate = "\xED\xA0\x80";
    EXPECT_FALSE(geo::valid_utf8("甲" + surrogate));
    EXPECT_FALSE(geo::valid_utf8(std::string("a\0b", 3)));
    EXPECT_TRUE(geo::valid_utf8("银州区红旗街道"));
    {
        Served s;
        auto before = request(s.port, "GET", "/api/orgs?limit=1", s.viewer).body;
        auto r = request(s.port, "POST", "/api/import/orgs?format=csv", s.admin,
                         orgs_csv({"好名", "坏" + surrogate + "名"}), {"Content-Type: text/csv"});
        EXPECT_EQ(r.status, 400) << r.body;
        EXPECT_NE(r.body.find("line 3"), std::string::npos) << r.body;
        EXPECT_NE(r.body.find("UTF-8"), std::string::npos) << r.body;
        EXPECT_EQ(request(s.port, "GET", "/api/orgs/90001", s.viewer).status, 404) << "the import was refused whole";
        // The same rule on PATCH.
        auto org = s.first_org();
        auto p = request(s.port, "PATCH", "/api/orgs/" + test::url(org), s.planner,
                         json{{"address", "x"}}.dump().substr(0, 12) + surrogate + "\"}", {"If-Match: 1"});
        EXPECT_EQ(p.status, 400) << p.body;
    }
    // A store that already holds such text: imports touching it answer, and doctor repairs it.
    ServedWithBadText s(surrogate);
    auto got = request(s.port, "GET", "/api/orgs/" + test::url(s.id), s.admin);
    EXPECT_EQ(got.status, 200);
    EXPECT_TRUE(json::accept(got.body)) << "stored text is written as valid JSON";
    std::string csv = "id,name,kind,employees,party_members,status,lon,lat\n" + s.id +
                      ",改正的名称,enterprise,12,0,operating,123.84,42.29\n";
    auto up = request(s.port, "POST", "/api/import/orgs?format=csv&missing=deregister", s.admin, csv,
                      {"Content-Type: text/csv"});
    EXPECT_EQ(up.status, 201) << up.body;
    s.server.reset();
    s.app.reset();
    // The update replaced the name; put a bad one back in the stored rows to repair.
    {
        auto store = geo::Store::open_existing(s.db);
        auto d = store.load();
        for (auto& o : d.orgs)
            if (o.id == s.id) o.name = "坏" + surrogate + "名";
        store.replace(d);
    }
    auto doctor = test::shell(std::string(COVERMAP_BIN) + " doctor --db " + s.db + " 2>&1");
    EXPECT_EQ(doctor.status, 1) << doctor.out;
    EXPECT_NE(doctor.out.find("not valid UTF-8"), std::string::npos) << doctor.out;
    EXPECT_NE(doctor.out.find(s.id), std::string::npos) << doctor.out;
    auto fixed = test::shell(std::string(COVERMAP_BIN) + " doctor --db " + s.db + " --fix 2>&1");
    EXPECT_EQ(fixed.status, 0) << fixed.out;
    auto again = test::shell(std::string(COVERMAP_BIN) + " doctor --db " + s.db + " 2>&1");
    EXPECT_EQ(again.status, 0) << again.out;
    EXPECT_NE(again.out.find("no problems found"), std::string::npos) << again.out;
    auto store = geo::Store::open_existing(s.db);
    for (const auto& o : store.load().orgs)
        if (o.id == s.id) EXPECT_EQ(o.name, "坏\xEF\xBF\xBD名");
    auto audit = store.audit(s.id);
    ASSERT_FALSE(audit.empty());
    EXPECT_EQ(audit.back().action, "doctor");
}

// Row 4: a 100,000-character name was stored as it came; the same length limits now hold on
// every way in, as a row error.
TEST(Hostile2, Row04TextLengthsAreLimitedOnEveryWayIn) {
    Served s;
    std::string huge(100000, 'x');
    auto r = request(s.port, "POST", "/api/import/orgs?format=csv", s.admin, orgs_csv({"正常", huge}),
                     {"Content-Type: text/csv"});
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    EXPECT_NE(r.body.find("line 3"), std::string::npos) << r.body.substr(0, 300);
    EXPECT_NE(r.body.find("longer than 200 characters"), std::string::npos) << r.body.substr(0, 300);
    EXPECT_LT(r.body.size(), 2000u) << "the error does not echo the text";
    // 200 Chinese characters are 600 bytes and fit; 201 do not.
    std::string two_hundred, more;
    for (int i = 0; i < 200; ++i) two_hundred += "企";
    more = two_hundred + "业";
    EXPECT_FALSE(geo::text_problem("name", two_hundred));
    EXPECT_TRUE(geo::text_problem("name", more));
    auto ok = request(s.port, "POST", "/api/import/orgs?format=csv", s.admin, orgs_csv({two_hundred}),
                      {"Content-Type: text/csv"});
    EXPECT_EQ(ok.status, 201) << ok.body.substr(0, 300);
    // PATCH: the ledger's limits, in characters.
    auto org = s.first_org();
    std::string address(301, 'a');
    auto p = request(s.port, "PATCH", "/api/orgs/" + test::url(org), s.planner, json{{"address", address}}.dump(),
                     {"If-Match: 1"});
    EXPECT_EQ(p.status, 400) << p.body;
    EXPECT_NE(p.body.find("longer than 300 characters"), std::string::npos) << p.body;
    auto phone = request(s.port, "PATCH", "/api/orgs/" + test::url(org), s.planner,
                         json{{"phone", "138\n0000"}}.dump(), {"If-Match: 1"});
    EXPECT_EQ(phone.status, 400) << phone.body;
    auto fine = request(s.port, "PATCH", "/api/orgs/" + test::url(org), s.planner,
                        json{{"measure", "第一步：建立联系\n第二步：发展党员"}}.dump(), {"If-Match: 1"});
    EXPECT_EQ(fine.status, 200) << fine.body;
    // The command line's import uses the same rule.
    test::TempDir dir;
    geo::Store::open(dir / "x.gpkg").replace(test::demo_dataset(0.02, 5));
    std::ofstream(dir / "long.csv") << orgs_csv({huge});
    auto cli = test::shell(std::string(COVERMAP_BIN) + " import --db " + dir / "x.gpkg" + " --kind orgs " +
                           dir / "long.csv" + " 2>&1");
    EXPECT_NE(cli.status, 0);
    EXPECT_NE(cli.out.find("longer than 200 characters"), std::string::npos) << cli.out.substr(0, 300);
    // Search text is bounded too.
    auto q = request(s.port, "GET", "/api/orgs?q=" + std::string(1000, 'q'), s.viewer);
    EXPECT_EQ(q.status, 400) << q.body;
    EXPECT_TRUE(s.healthy());
}

namespace {

// n organizations (ids 500000…) spread over the demo's Yinzhou streets, as a registry CSV.
std::string big_csv(int n) {
    std::string csv = "id,name,kind,employees,party_members,status,lon,lat\n";
    csv.reserve(static_cast<std::size_t>(n) * 70);
    for (int i = 0; i < n; ++i) {
        char row[160];
        std::snprintf(row, sizeof row, "%d,测试企业%d,enterprise,%d,0,operating,%.5f,%.5f\n", 500000 + i, i, i % 90,
                      123.80 + (i % 997) * 0.0001, 42.25 + (i % 991) * 0.0001);
        csv += row;
    }
    return csv;
}

}  // namespace

// Row 5: a 400,000-row dry run held the write lock for its whole run (every edit waited up to
// 3.2 s); a huge self-intersecting GeoJSON held it for minutes and SIGTERM did not stop it.
TEST(Hostile2, Row05ADryRunImportDoesNotHoldEditsBack) {
    api::ServerOptions so;
    so.rate_per_client = 0;
    Served s(so);
    auto csv = big_csv(150000);
    auto org = s.first_org();
    using ms = std::chrono::milliseconds;
    Clock::time_point import_done;
    int import_status = 0;
    std::thread dry([&] {
        auto r = request(s.port, "POST", "/api/import/orgs?format=csv&dry_run=true", s.admin, csv,
                         {"Content-Type: text/csv"});
        import_status = r.status;
        import_done = Clock::now();
    });
    auto t0 = Clock::now();
    std::this_thread::sleep_for(ms(300));  // the upload is in, the dry run reading it
    std::vector<std::pair<Clock::time_point, long>> edits;  // done at, took ms
    for (int i = 0; i < 8; ++i) {
        auto a = Clock::now();
        auto r = request(s.port, "PATCH", "/api/orgs/" + test::url(org), s.planner,
                         json{{"phone", "0410-" + std::to_string(1000 + i)}}.dump(), {"If-Match: " + std::to_string(i + 1)});
        ASSERT_EQ(r.status, 200) << r.body;
        edits.emplace_back(Clock::now(), std::chrono::duration_cast<ms>(Clock::now() - a).count());
        std::this_thread::sleep_for(ms(50));
    }
    dry.join();
    EXPECT_EQ(import_status, 200) << "a dry run answers 200, nothing written";
    auto import_took = std::chrono::duration_cast<ms>(import_done - t0).count();
    int during = 0;
    for (const auto& [at, took] : edits)
        if (at < import_done) {
            ++during;
            EXPECT_LT(took, std::max<long>(200, import_took / 3)) << "an edit waited for the dry run";
        }
    EXPECT_GE(during, 2) << "the dry run (" << import_took << " ms) was too quick to overlap edits";
    EXPECT_EQ(request(s.port, "GET", "/api/orgs/500001", s.viewer).status, 404) << "nothing written";
}

TEST(Hostile2, Row05ServerImportsHaveADeadline) {
    api::AppOptions ao;
    ao.import_deadline = std::chrono::milliseconds(100);
    Served s({}, ao);
    auto r = request(s.port, "POST", "/api/import/orgs?format=csv", s.admin, big_csv(90000), {"Content-Type: text/csv"});
    EXPECT_EQ(r.status, 503) << r.body.substr(0, 300);
    EXPECT_NE(r.body.find("nothing written"), std::string::npos) << r.body.substr(0, 300);
    EXPECT_EQ(request(s.port, "GET", "/api/orgs/500001", s.viewer).status, 404);
}

TEST(Hostile2, Row05ServerImportsHaveFeatureAndVertexLimits) {
    api::AppOptions ao;
    ao.import_max_features = 100000;
    ao.import_max_vertices = 1000;
    Served s({}, ao);
    auto many = request(s.port, "POST", "/api/import/orgs?format=csv", s.admin, big_csv(100001),
                        {"Content-Type: text/csv"});
    EXPECT_EQ(many.status, 400) << many.body.substr(0, 300);
    EXPECT_NE(many.body.find("more than 100000 rows"), std::string::npos) << many.body.substr(0, 300);
    std::string ring;
    for (int i = 0; i <= 1500; ++i) {  // a zigzag: self-intersecting, 1,501 vertices
        double x = 123.8 + 0.0001 * i, y = 42.3 + (i % 2 ? 0.01 : -0.01);
        ring += (i ? "," : "") + std::string("[") + std::to_string(x) + "," + std::to_string(y) + "]";
    }
    ring += ",[123.8,42.29]";
    std::string geojson = R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"211202999","name":"锯齿","level":"park"},"geometry":{"type":"Polygon","coordinates":[[)" +
                          ring + "]]}}]}";
    auto big = request(s.port, "POST", "/api/import/areas?format=geojson", s.admin, geojson,
                       {"Content-Type: application/geo+json"});
    EXPECT_EQ(big.status, 400) << big.body.substr(0, 300);
    EXPECT_NE(big.body.find("vertices, more than 1000"), std::string::npos) << big.body.substr(0, 300);
    EXPECT_TRUE(s.healthy());
}

TEST(Hostile2, Row05SigtermRollsBackACommandLineImport) {
    test::TempDir dir;
    auto db = dir / "s.gpkg";
    geo::Store::open(db).replace(test::demo_dataset(0.02, 5));
    auto before = geo::Store::open_existing(db).count("orgs");
    std::ofstream(dir / "big.csv") << big_csv(300000);
    for (int sig : {SIGTERM, SIGINT}) {
        pid_t pid = fork();
        if (pid == 0) {
            int null = ::open("/dev/null", O_WRONLY);
            dup2(null, 1);
            execl(COVERMAP_BIN, COVERMAP_BIN, "import", "--db", db.c_str(), "--kind", "orgs",
                  (dir / "big.csv").c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
        ::kill(pid, sig);
        int status = 0;
        waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFEXITED(status)) << "the import handled the signal and exited";
        EXPECT_EQ(WEXITSTATUS(status), 128 + sig);
        EXPECT_EQ(geo::Store::open_existing(db).count("orgs"), before) << "nothing written";
    }
    // The store is whole and a later import works.
    std::ofstream(dir / "small.csv") << big_csv(10);
    auto ok = test::shell(std::string(COVERMAP_BIN) + " import --db " + db + " --kind orgs " + dir / "small.csv" +
                          " 2>&1");
    EXPECT_EQ(ok.status, 0) << ok.out;
    EXPECT_EQ(geo::Store::open_existing(db).count("orgs"), before + 10);
}
