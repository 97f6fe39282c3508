// Several covermap processes on one PostGIS database, behind nginx: an edit through one is seen
// by the other within a bounded time (LISTEN/NOTIFY), concurrent edits through both lose no
// update, and an instructor's last free slot goes to one of them only. Needs COVERMAP_TEST_PG
// (scripts/test starts a PostgreSQL 15 + PostGIS cluster) and nginx (/usr/sbin/nginx).
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <ogrsf_frmts.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "api/http_client.hpp"
#include "api/process.hpp"
#include "change_listener.hpp"
#include "covermap/geo/demo.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/store.hpp"
#include "covermap/tiles/tile_id.hpp"
#include "support.hpp"

using namespace covermap;
using nlohmann::json;
using test::request;

namespace {

void sql(const std::string& uri, const std::string& statement) {
    GDALAllRegister();
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(uri.c_str(), GDAL_OF_VECTOR | GDAL_OF_UPDATE));
    ASSERT_TRUE(ds) << uri;
    if (OGRLayer* r = ds->ExecuteSQL(statement.c_str(), nullptr, nullptr)) ds->ReleaseResultSet(r);
}

unsigned short free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    ::close(fd);
    return ntohs(a.sin_port);
}

json org(unsigned short port, const std::string& token, const std::string& id) {
    auto r = request(port, "GET", "/api/orgs/" + test::url(id), token);
    return r.status == 200 ? json::parse(r.body) : json();
}

// A schema of its own (other tests use the same database) holding a small demo: its name, and
// the store's uri.
std::pair<std::string, std::string> demo_schema(const char* pg, const std::string& prefix) {
    std::string schema = prefix + std::to_string(std::random_device{}() % 100000000);
    sql(pg, "CREATE SCHEMA " + schema);
    std::string uri = std::string(pg) + " active_schema=" + schema;
    geo::DemoParams p;
    p.scale = 0.05;
    p.seed = 9;
    p.borders = std::string(COVERMAP_DATA_DIR) + "/tieling_counties.geojson";
    geo::Store::open(uri).replace(geo::make_demo(p));
    return {schema, uri};
}

}  // namespace

TEST(PostGis, TwoProcessesBehindNginxShareEveryEdit) {
    const char* pg = std::getenv("COVERMAP_TEST_PG");
    if (!pg || !*pg) GTEST_SKIP() << "COVERMAP_TEST_PG not set (scripts/test sets it when pg_ctlcluster is available)";
    if (!std::filesystem::exists("/usr/sbin/nginx")) GTEST_SKIP() << "nginx is not installed";
    signal(SIGPIPE, SIG_IGN);
    // A schema of its own: other tests use the same database.
    auto [schema, uri] = demo_schema(pg, "mp");
    auto planner = test::token(uri, "planner");
    ASSERT_EQ(planner.rfind("cm_", 0), 0u);
    auto a = test::serve(uri), b = test::serve(uri);
    ASSERT_GT(a.port, 0);
    ASSERT_GT(b.port, 0);
    test::TempDir dir;
    auto port = free_port();
    {
        std::ofstream conf(dir / "nginx.conf");
        conf << "pid " << (dir / "nginx.pid") << ";\nerror_log " << (dir / "error.log") << ";\n"
             << "events { worker_connections 256; }\nhttp {\n  access_log off;\n"
             << "  client_body_temp_path " << (dir / "body") << ";\n  proxy_temp_path " << (dir / "proxy") << ";\n"
             << "  upstream covermap { server 127.0.0.1:" << a.port << "; server 127.0.0.1:" << b.port
             << "; keepalive 16; }\n"
             << "  server { listen 127.0.0.1:" << port << "; location / { proxy_pass http://covermap;"
             << " proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header X-Forwarded-Host $host; } "
                "}\n}\n";
    }
    pid_t nginx = fork();
    if (nginx == 0) {
        execl("/usr/sbin/nginx", "nginx", "-p", dir.path().c_str(), "-c", (dir / "nginx.conf").c_str(), "-g",
              "daemon off;", nullptr);
        _exit(127);
    }
    for (int i = 0; i < 50 && request(port, "GET", "/health").status != 200; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_EQ(request(port, "GET", "/health").status, 200) << "nginx in front of both";

    auto d = geo::Store::open_existing(uri).load();
    std::vector<const geo::Organization*> assigned, uncovered;
    for (const auto& o : d.orgs) {
        if (o.instructor_id && !o.branch_id && o.operating()) assigned.push_back(&o);  // drawn as "instructor"
        if (o.operating() && !o.instructor_id && !o.branch_id) uncovered.push_back(&o);
    }
    ASSERT_GE(assigned.size(), 2u);

    // 1. An edit through A is seen by B: its record, its coverage figures, its tiles.
    const auto& first = *assigned[0];
    auto coverage_b = [&] {
        return json::parse(request(b.port, "GET", "/api/coverage?level=district", planner).body)["total"];
    };
    auto before = coverage_b();
    auto at = tiles::tile_at(first.location, 15);
    auto tile_path = "/tiles/orgs/15/" + std::to_string(at.x) + "/" + std::to_string(at.y) + ".png";
    auto tile_before = request(b.port, "GET", tile_path, planner);
    ASSERT_EQ(tile_before.status, 200);
    auto t0 = std::chrono::steady_clock::now();
    auto del = request(a.port, "DELETE", "/api/orgs/" + test::url(first.id) + "/instructor", planner, "",
                       {"If-Match: " + std::to_string(first.version)});
    ASSERT_EQ(del.status, 200) << del.body;
    long seen_ms = -1;
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
        if (org(b.port, planner, first.id)["version"] == first.version + 1) {
            seen_ms = static_cast<long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_GE(seen_ms, 0) << "B never saw A's edit";
    EXPECT_LT(seen_ms, 2000);
    EXPECT_EQ(coverage_b()["instructor_covered"].get<long>(), before["instructor_covered"].get<long>() - 1);
    // B's cached tile of the organization was dropped and drawn again: a new ETag and new pixels
    // (the point turns from "instructor" blue to "uncovered" red).
    auto tile_after = request(b.port, "GET", tile_path, planner);
    ASSERT_EQ(tile_after.status, 200);
    EXPECT_NE(tile_after.header("ETag"), tile_before.header("ETag"));
    EXPECT_NE(tile_after.body, tile_before.body);
    std::printf("an edit through one process was seen by the other after %ld ms\n", seen_ms);

    // 2. Eight clients through nginx (both processes) toggle one organization: no lost update.
    const auto& shared = *assigned[1];
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c)
        clients.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                auto o = org(port, planner, shared.id);
                if (o.is_null()) continue;
                auto v = std::to_string(o["version"].get<std::int64_t>());
                auto r = o["instructor_id"].is_null()
                             ? request(port, "PUT", "/api/orgs/" + test::url(shared.id) + "/instructor", planner,
                                       json{{"instructor_id", *shared.instructor_id}}.dump(),
                                       {"If-Match: " + v, "Content-Type: application/json"})
                             : request(port, "DELETE", "/api/orgs/" + test::url(shared.id) + "/instructor", planner, "",
                                       {"If-Match: " + v});
                if (r.status == 200) ++ok;
            }
        });
    for (auto& t : clients) t.join();
    auto stored = geo::Store::open_existing(uri).orgs({shared.id});
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_GT(ok.load(), 0);
    EXPECT_EQ(stored[0].version, shared.version + ok.load()) << "every 200 is one version, none lost";

    // 3. An instructor's last free slot, asked for through A and B at once: one gets it.
    if (uncovered.size() >= 2) {
        // The instructor with the most free slots.
        auto now = geo::Store::open_existing(uri).load();
        std::map<std::string, int> loads;
        for (const auto& o : now.orgs)
            if (o.instructor_id) ++loads[*o.instructor_id];
        const geo::Instructor* pick = &now.instructors.front();
        for (const auto& i : now.instructors)
            if (i.capacity - loads[i.id] > pick->capacity - loads[pick->id]) pick = &i;
        const auto in = *pick;
        int load = loads[in.id];
        // Fill all but one slot through A.
        std::size_t next = 2;
        for (; load < in.capacity - 1 && next < uncovered.size(); ++next, ++load)
            ASSERT_EQ(
                request(a.port, "PUT", "/api/orgs/" + test::url(uncovered[next]->id) + "/instructor", planner,
                        json{{"instructor_id", in.id}}.dump(),
                        {"If-Match: " + std::to_string(uncovered[next]->version), "Content-Type: application/json"})
                    .status,
                200);
        if (load == in.capacity - 1) {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));  // B hears of them
            int statuses[2] = {0, 0};
            std::thread one([&] {
                statuses[0] =
                    request(a.port, "PUT", "/api/orgs/" + test::url(uncovered[0]->id) + "/instructor", planner,
                            json{{"instructor_id", in.id}}.dump(),
                            {"If-Match: " + std::to_string(uncovered[0]->version), "Content-Type: application/json"})
                        .status;
            });
            statuses[1] =
                request(b.port, "PUT", "/api/orgs/" + test::url(uncovered[1]->id) + "/instructor", planner,
                        json{{"instructor_id", in.id}}.dump(),
                        {"If-Match: " + std::to_string(uncovered[1]->version), "Content-Type: application/json"})
                    .status;
            one.join();
            EXPECT_EQ((statuses[0] == 200) + (statuses[1] == 200), 1) << statuses[0] << " " << statuses[1];
            int after = 0;
            for (const auto& o : geo::Store::open_existing(uri).load().orgs) after += o.instructor_id == in.id;
            EXPECT_EQ(after, in.capacity) << "never over capacity";
        }
    }

    // 4. The field loop across processes: a limited token made on the command line holds in both;
    //    a visit recorded through B confirms the ledger that A shows. (EXPECT only from here: an
    //    early return would leave the servers and nginx running.)
    [&] {
        auto line = [](const std::string& out) { return out.substr(0, out.find('\n')); };
        // A server reads an unknown token's row at most every 2 s: a new token works within that.
        auto send = [](auto&& make) {
            auto r = make();
            for (int i = 0; i < 30 && r.status == 401; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                r = make();
            }
            return r;
        };
        // An organization with an instructor now (the steps above moved some assignments).
        const geo::Organization* mine = nullptr;
        std::string instructor;
        for (const auto* o : assigned) {
            auto now = org(a.port, planner, o->id);
            if (!mine && now["instructor_id"].is_string()) mine = o, instructor = now["instructor_id"].get<std::string>();
        }
        EXPECT_TRUE(mine);
        if (!mine) return;
        const auto& own = *mine;
        auto field = line(test::capture(std::string(COVERMAP_BIN) + " token add --db '" + uri +
                                        "' --role instructor --instructor '" + instructor + "' --name 外勤"));
        EXPECT_EQ(field.rfind("cm_", 0), 0u) << field;
        auto visit = send([&] {
            return request(b.port, "POST", "/api/orgs/" + test::url(own.id) + "/visits", field,
                           json{{"kind", "走访"}, {"ledger_confirmed", true}}.dump(), {"Content-Type: application/json"});
        });
        EXPECT_EQ(visit.status, 201) << visit.body;
        bool seen = false;
        for (int i = 0; i < 50 && !seen && visit.status == 201; ++i) {
            seen = !org(a.port, planner, own.id)["ledger_verified_at"].is_null();
            if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        EXPECT_TRUE(seen) << "the other process shows the confirmed ledger";
        const geo::Organization* theirs = nullptr;
        for (const auto& o : d.orgs)
            if (!theirs && !o.instructor_id && o.id != own.id && org(a.port, planner, o.id)["instructor_id"].is_null())
                theirs = &o;
        if (!theirs) return;
        auto refused = send([&] {
            return request(a.port, "POST", "/api/orgs/" + test::url(theirs->id) + "/visits", field,
                           json{{"kind", "走访"}}.dump(), {"Content-Type: application/json"});
        });
        EXPECT_EQ(refused.status, 403) << refused.body;
        // A planner limited to the district of one uncovered organization, refused for another's.
        std::string district;
        const geo::Organization* elsewhere = nullptr;
        for (const auto& ar : d.areas)
            if (ar.level == geo::Level::district && district.empty() &&
                geo::locate_points({&ar.shape}, {uncovered[0]->location})[0] >= 0)
                district = ar.code;
        for (const auto& ar : d.areas)
            if (ar.code == district)
                for (const auto* o : uncovered)
                    if (!elsewhere && geo::locate_points({&ar.shape}, {o->location})[0] < 0) elsewhere = o;
        EXPECT_FALSE(district.empty());
        if (!elsewhere) return;
        auto limited = line(test::capture(std::string(COVERMAP_BIN) + " token add --db '" + uri +
                                          "' --role planner --area " + district + " --name 区县"));
        auto fresh = org(a.port, planner, elsewhere->id);
        auto out = send([&] {
            return request(a.port, "DELETE", "/api/orgs/" + test::url(elsewhere->id) + "/instructor", limited, "",
                           {"If-Match: " + fresh["version"].dump()});
        });
        EXPECT_EQ(out.status, 403) << out.body;
    }();

    kill(nginx, SIGQUIT);
    kill(a.pid, SIGTERM);
    kill(b.pid, SIGTERM);
    int status = 0;
    waitpid(nginx, &status, 0);
    waitpid(a.pid, &status, 0);
    waitpid(b.pid, &status, 0);
    sql(pg, "DROP SCHEMA " + schema + " CASCADE");
}

namespace {

// A metric of a process's /metrics: a plain line's value, or the sum of a labelled family's.
long metric(unsigned short port, const std::string& token, const std::string& name) {
    auto r = request(port, "GET", "/metrics", token);
    long sum = 0;
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(name + " ", 0) == 0 || line.rfind(name + "{", 0) == 0)
            sum += std::stol(line.substr(line.rfind(' ') + 1));
    return sum;
}

}  // namespace

// Two processes with one tile directory (serve --tile-dir): a tile rendered by one is served by
// the other without rendering, an edit through one reaches the other's tiles (and its files), a
// restart keeps the directory, a visit through one clears the ledger-due tile in the other.
TEST(PostGis, TwoProcessesShareOneTileDirectory) {
    const char* pg = std::getenv("COVERMAP_TEST_PG");
    if (!pg || !*pg) GTEST_SKIP() << "COVERMAP_TEST_PG not set (scripts/test sets it when pg_ctlcluster is available)";
    signal(SIGPIPE, SIG_IGN);
    auto [schema, uri] = demo_schema(pg, "td");
    auto planner = test::token(uri, "planner");
    ASSERT_EQ(planner.rfind("cm_", 0), 0u);
    test::TempDir dir;
    const std::vector<std::string> args = {"--tile-dir", dir / "tiles", "--tile-dir-mb", "64"};
    auto a = test::serve(uri, args), b = test::serve(uri, args);
    ASSERT_GT(a.port, 0);
    ASSERT_GT(b.port, 0);
    auto d = geo::Store::open_existing(uri).load();
    const geo::Organization *first = nullptr, *due = nullptr;
    for (const auto& o : d.orgs) {
        if (!first && o.instructor_id && !o.branch_id && o.operating()) first = &o;
        if (!due && o.operating() && !o.instructor_id && !o.branch_id) due = &o;
    }
    ASSERT_TRUE(first && due);
    // The organization farthest from the edited one: its tiles are far from the edit.
    const geo::Organization* far = &d.orgs.front();
    auto dist = [&](const geo::Organization& o) {
        return std::hypot(o.location.x - first->location.x, o.location.y - first->location.y);
    };
    for (const auto& o : d.orgs)
        if (dist(o) > dist(*far)) far = &o;
    ASSERT_GT(dist(*far), 0.3);
    auto tile = [&](unsigned short port, const std::string& layer, const tiles::TileId& t) {
        return request(port, "GET", "/tiles/" + layer + "/" + t.str() + ".png", planner);
    };
    auto renders = [&](unsigned short port) { return metric(port, planner, "covermap_tile_renders_total"); };
    auto dir_hits = [&](unsigned short port) { return metric(port, planner, "covermap_tile_dir_hits_total"); };

    // 1. Rendered by A, served by B from the directory.
    auto at = tiles::tile_at(first->location, 15), far1 = tiles::tile_at(far->location, 15),
         far2 = tiles::tile_at(far->location, 13);
    auto a_tile = tile(a.port, "orgs", at), a_far1 = tile(a.port, "orgs", far1), a_far2 = tile(a.port, "orgs", far2);
    ASSERT_EQ(a_tile.status, 200);
    EXPECT_GE(renders(a.port), 3);
    long b_renders = renders(b.port), b_hits = dir_hits(b.port);
    auto b_tile = tile(b.port, "orgs", at), b_far1 = tile(b.port, "orgs", far1);
    EXPECT_EQ(b_tile.header("ETag"), a_tile.header("ETag"));
    EXPECT_EQ(b_tile.body, a_tile.body);
    EXPECT_EQ(b_far1.body, a_far1.body);
    EXPECT_EQ(renders(b.port), b_renders) << "B rendered nothing";
    EXPECT_EQ(dir_hits(b.port), b_hits + 2);

    // 2. An edit through A: B draws the organization anew (and writes it), A takes B's file, and
    //    a far tile A rendered before the edit still comes from the directory to B.
    auto del = request(a.port, "DELETE", "/api/orgs/" + test::url(first->id) + "/instructor", planner, "",
                       {"If-Match: " + std::to_string(first->version)});
    ASSERT_EQ(del.status, 200) << del.body;
    test::Reply b_new;
    for (int i = 0; i < 100; ++i) {
        b_new = tile(b.port, "orgs", at);
        if (b_new.header("ETag") != a_tile.header("ETag")) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_NE(b_new.header("ETag"), a_tile.header("ETag")) << "B never drew the edit";
    long a_renders = renders(a.port), a_hits = dir_hits(a.port);
    auto a_new = tile(a.port, "orgs", at);
    EXPECT_EQ(a_new.header("ETag"), b_new.header("ETag"));
    EXPECT_EQ(renders(a.port), a_renders) << "A served B's file: both name the edited data alike";
    EXPECT_EQ(dir_hits(a.port), a_hits + 1);
    b_renders = renders(b.port);
    EXPECT_EQ(tile(b.port, "orgs", far2).body, a_far2.body);
    EXPECT_EQ(renders(b.port), b_renders) << "a far tile from before the edit is still good";

    // 3. B restarts (A still serving): the directory is kept, the new tile served without a render.
    kill(b.pid, SIGTERM);
    int status = 0;
    waitpid(b.pid, &status, 0);
    b = test::serve(uri, args);
    ASSERT_GT(b.port, 0);
    auto again = tile(b.port, "orgs", at);
    EXPECT_EQ(again.header("ETag"), b_new.header("ETag"));
    EXPECT_EQ(renders(b.port), 0) << "a fresh load names the data as the edits did";
    EXPECT_EQ(dir_hits(b.port), 1);

    // 4. A visit through A confirms a ledger: B's ledger-due tile no longer shows the organization.
    auto ledger_at = tiles::tile_at(due->location, 15);
    auto before = tile(b.port, "ledger-due", ledger_at);
    ASSERT_EQ(before.status, 200);
    auto visit = request(a.port, "POST", "/api/orgs/" + test::url(due->id) + "/visits", planner,
                         json{{"kind", "走访"}, {"ledger_confirmed", true}}.dump(), {"Content-Type: application/json"});
    EXPECT_EQ(visit.status, 201) << visit.body;
    test::Reply after;
    for (int i = 0; i < 100 && visit.status == 201; ++i) {
        after = tile(b.port, "ledger-due", ledger_at);
        if (after.header("ETag") != before.header("ETag")) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_NE(after.header("ETag"), before.header("ETag")) << "B's ledger-due tile follows A's visit";
    EXPECT_EQ(tile(a.port, "ledger-due", ledger_at).header("ETag"), after.header("ETag"));

    kill(a.pid, SIGTERM);
    kill(b.pid, SIGTERM);
    waitpid(a.pid, &status, 0);
    waitpid(b.pid, &status, 0);
    sql(pg, "DROP SCHEMA " + schema + " CASCADE");
}

// A server makes its listener before it loads the data: LISTEN is in place when the listener is
// made, and what other processes commit meanwhile is held, in order, until the server is built
// (start()), then applied. Nothing committed between loading and listening is missed.
TEST(PostGis, ListenerHoldsWhatComesBeforeStart) {
    const char* pg = std::getenv("COVERMAP_TEST_PG");
    if (!pg || !*pg) GTEST_SKIP() << "COVERMAP_TEST_PG not set (scripts/test sets it when pg_ctlcluster is available)";
    auto [schema, uri] = demo_schema(pg, "covermap_listen_");
    std::mutex mutex;
    std::vector<std::string> got;
    auto received = [&] {
        std::lock_guard lock(mutex);
        return got;
    };
    // Another process's commits (another origin) through a connection opened beforehand, sent the
    // moment the listener is made: had LISTEN not been in place by then, they would be lost.
    const std::string channel = geo::change_channel(uri);
    std::unique_ptr<GDALDataset> other(GDALDataset::Open(uri.c_str(), GDAL_OF_VECTOR | GDAL_OF_UPDATE));
    ASSERT_TRUE(other);
    auto notify = [&](int k) {
        std::string statement =
            "NOTIFY " + channel + ", '{\"origin\":\"elsewhere\",\"orgs\":[\"" + std::to_string(k) + "\"]}'";
        if (OGRLayer* r = other->ExecuteSQL(statement.c_str(), nullptr, nullptr)) other->ReleaseResultSet(r);
    };
    api::ChangeListener listener(uri, [&](const std::string& payload) {
        std::lock_guard lock(mutex);
        got.push_back(payload);
    });
    for (int k = 1; k <= 3; ++k) notify(k);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    EXPECT_TRUE(received().empty()) << "delivered before start()";
    listener.start();
    for (int i = 0; i < 50 && received().size() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto all = received();
    ASSERT_EQ(all.size(), 3u);
    for (int k = 1; k <= 3; ++k)
        EXPECT_EQ(json::parse(all[static_cast<std::size_t>(k - 1)])["orgs"][0], std::to_string(k)) << "in order";
    // And after start(), as they come.
    notify(4);
    for (int i = 0; i < 50 && received().size() < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(received().size(), 4u);
    other.reset();
    sql(pg, "DROP SCHEMA " + schema + " CASCADE");
}
