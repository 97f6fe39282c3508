// kill -9 at random moments, looped: the real executable serving a GeoPackage while a client
// edits and (every other round) an import is uploaded. After every kill: each acknowledged edit
// is in the store, an import is there whole or not at all, SQLite's integrity check passes and
// every reference between layers resolves.
#include <fcntl.h>
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "api/http_client.hpp"
#include "api/process.hpp"
#include "covermap/geo/demo.hpp"
#include "covermap/geo/store.hpp"
#include "support.hpp"

using namespace covermap;
using test::request;

namespace {

std::string integrity(const std::string& db) {
    GDALAllRegister();
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(db.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
    if (!ds) return "cannot open";
    OGRLayer* r = ds->ExecuteSQL("PRAGMA integrity_check", nullptr, nullptr);
    if (!r) return "no result";
    std::string verdict;
    if (auto* f = r->GetNextFeature()) {
        verdict = f->GetFieldAsString(0);
        OGRFeature::DestroyFeature(f);
    }
    ds->ReleaseResultSet(r);
    return verdict;
}

}  // namespace

TEST(Faults, KillNineLoopLosesNoAcknowledgedEditAndNoImportHalf) {
    signal(SIGPIPE, SIG_IGN);  // a request written to a server just killed must not end the test
    test::TempDir dir;
    std::string db = dir / "k.gpkg";
    {
        geo::DemoParams p;
        p.scale = 0.05;
        p.seed = 21;
        p.borders = std::string(COVERMAP_DATA_DIR) + "/tieling_counties.geojson";
        geo::Store::open(db).replace(geo::make_demo(p));
    }
    auto planner = test::token(db, "planner"), admin = test::token(db, "admin");
    ASSERT_EQ(planner.rfind("cm_", 0), 0u);
    std::mt19937 rng(7);
    struct Acked {
        std::int64_t version;
        std::optional<std::string> instructor;
    };
    std::map<std::string, Acked> acked;  // every acknowledged edit's outcome, over all rounds
    std::size_t edits = 0, imports_whole = 0, imports_none = 0;
    const int rounds = 20;
    // The organizations that start with an instructor: the edits take it away and give it back.
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& o : geo::Store::open_existing(db).load().orgs)
        if (o.instructor_id) pairs.emplace_back(o.id, *o.instructor_id);
    ASSERT_FALSE(pairs.empty());
    for (int round = 1; round <= rounds; ++round) {
        auto d = geo::Store::open_existing(db).load();
        auto s = test::serve(db);
        ASSERT_GT(s.port, 0) << "round " << round;
        std::atomic<bool> stop{false};
        std::mutex m;
        // Edits: take an instructor away and give it back, one organization after another.
        std::thread editor([&, port = s.port, seed = round] {
            std::mt19937 r(static_cast<unsigned>(seed));
            while (!stop) {
                const auto& [org, instructor] = pairs[r() % pairs.size()];
                auto get = request(port, "GET", "/api/orgs/" + test::url(org), planner);
                if (get.status != 200) return;
                auto j = nlohmann::json::parse(get.body);
                auto v = j["version"].get<std::int64_t>();
                bool has = !j["instructor_id"].is_null();
                auto res = has ? request(port, "DELETE", "/api/orgs/" + test::url(org) + "/instructor", planner, "",
                                         {"If-Match: " + std::to_string(v)})
                               : request(port, "PUT", "/api/orgs/" + test::url(org) + "/instructor", planner,
                                         nlohmann::json{{"instructor_id", instructor}}.dump(),
                                         {"If-Match: " + std::to_string(v), "Content-Type: application/json"});
                if (res.status != 200) continue;  // 409 (someone's capacity), or the kill
                std::lock_guard lock(m);
                acked[org] = {v + 1, has ? std::nullopt : std::optional<std::string>(instructor)};
                ++edits;
            }
        });
        // Every other round, an import renaming every organization with this round's mark.
        std::string mark = "·r" + std::to_string(round);
        std::thread importer;
        if (round % 2 == 0) {
            std::string csv = "id,name,kind,lon,lat\n";
            for (const auto& o : d.orgs) {
                char at[64];
                std::snprintf(at, sizeof at, "%.9f,%.9f", o.location.x, o.location.y);
                csv += o.id + "," + o.name.substr(0, o.name.find("·r")) + mark + "," +
                       std::string(geo::to_string(o.kind)) + "," + at + "\n";
            }
            importer = std::thread([&, port = s.port, csv] {
                request(port, "POST", "/api/import/orgs?format=csv", admin, csv, {"Content-Type: text/csv"});
            });
        }
        // Import rounds are killed sooner, often while the import's transaction is open.
        std::this_thread::sleep_for(std::chrono::milliseconds(round % 2 == 0 ? 30 + rng() % 300 : 100 + rng() % 1200));
        kill(s.pid, SIGKILL);
        int status = 0;
        waitpid(s.pid, &status, 0);
        stop = true;
        editor.join();
        if (importer.joinable()) importer.join();

        ASSERT_EQ(integrity(db), "ok") << "round " << round;
        auto after = geo::Store::open_existing(db).load();
        std::set<std::string> instructors;
        for (const auto& in : after.instructors) instructors.insert(in.id);
        std::set<std::int64_t> branches;
        for (const auto& b : after.branches) branches.insert(b.id);
        std::size_t marked = 0;
        for (const auto& o : after.orgs) {
            if (o.instructor_id) { EXPECT_TRUE(instructors.count(*o.instructor_id)) << o.id << " round " << round; }
            if (o.branch_id) { EXPECT_TRUE(branches.count(*o.branch_id)) << o.id << " round " << round; }
            if (o.name.size() >= mark.size() && o.name.compare(o.name.size() - mark.size(), mark.size(), mark) == 0)
                ++marked;
            auto it = acked.find(o.id);
            if (it == acked.end()) continue;
            // The acknowledged state, or a later edit that committed just before the kill.
            EXPECT_GE(o.version, it->second.version) << o.id << " round " << round;
            if (o.version == it->second.version) { EXPECT_EQ(o.instructor_id, it->second.instructor) << o.id; }
        }
        if (round % 2 == 0) {
            EXPECT_TRUE(marked == 0 || marked == after.orgs.size())
                << "round " << round << ": " << marked << " of " << after.orgs.size() << " renamed";
            (marked ? imports_whole : imports_none)++;
        }
        // The acknowledged versions are the store's from now on (an import bumps versions).
        for (auto& [id, a] : acked)
            for (const auto& o : after.orgs)
                if (o.id == id) a = {o.version, o.instructor_id};
    }
    EXPECT_GT(edits, 20u) << "the loop must really edit";
    std::printf("%d rounds: %zu acknowledged edits, imports whole %zu, not applied %zu\n", rounds, edits, imports_whole,
                imports_none);
}
