// The tile cache: exact invalidation after an edit, coalescing, the byte bound, ETags.
#include "covermap/tiles/service.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/demo.hpp"
#include "support.hpp"

using namespace covermap;
using namespace covermap::tiles;

namespace {

geo::Dataset demo() { return test::demo_dataset(1, 2010); }

}  // namespace

TEST(TileService, AnEditDropsExactlyTheTilesItTouches) {
    auto d = demo();
    // An operating organization with an instructor and no branch in the city: removing the
    // instructor makes it uncovered (orgs colour, heatmap, assignments change; coverage does not).
    const geo::Organization* o = nullptr;
    for (const auto& x : d.orgs)
        if (x.operating() && x.instructor_id && !x.branch_id && std::abs(x.location.x - 123.84) < 0.03 &&
            std::abs(x.location.y - 42.29) < 0.03) {
            o = &x;
            break;
        }
    ASSERT_NE(o, nullptr);
    TileService service(d, 256u << 20);
    struct Probe {
        std::string layer;
        TileId tile;
    };
    std::vector<Probe> near, far;
    for (int z : {10, 12, 14, 16}) {
        for (const char* layer : {"orgs", "heatmap", "assignments", "coverage-grid"}) {
            near.push_back({layer, tile_at(o->location, z)});
            far.push_back({layer, tile_at({124.7, 42.75}, z)});  // 西丰县, ~75 km away
        }
    }
    std::map<std::string, std::string> etag;
    auto key = [](const Probe& p) { return p.layer + "/" + p.tile.str(); };
    for (const auto& p : near) etag[key(p)] = service.get(p.layer, p.tile, 1).etag;
    for (const auto& p : far) etag[key(p)] = service.get(p.layer, p.tile, 1).etag;
    auto cached_before = service.stats().entries;
    ASSERT_GT(cached_before, 0u);

    geo::Organization after = *o;
    after.instructor_id.reset();
    after.version += 1;
    auto dropped = service.update(*o, after);
    EXPECT_GT(dropped, 0u);
    EXPECT_LT(dropped, cached_before / 4) << "an edit touches a few tiles, not the cache";

    // Far tiles: still cached, same bytes.
    auto hits = service.stats().hits;
    for (const auto& p : far) EXPECT_EQ(service.get(p.layer, p.tile, 1).etag, etag[key(p)]) << key(p);
    EXPECT_EQ(service.stats().hits, hits + static_cast<long>(far.size())) << "far tiles are served from the cache";

    // Near tiles of the layers the edit changes: re-rendered, and at least the orgs tiles differ.
    auto misses = service.stats().misses;
    int changed = 0;
    for (const auto& p : near) {
        auto now = service.get(p.layer, p.tile, 1).etag;
        if (p.layer == "coverage-grid") {
            EXPECT_EQ(now, etag[key(p)]) << "coverage does not change without a branch";
        }
        if (p.layer == "orgs" && p.tile.z >= 12) {
            EXPECT_NE(now, etag[key(p)]) << key(p) << " shows the new colour";
        }
        changed += now != etag[key(p)];
    }
    EXPECT_GT(service.stats().misses, misses) << "near tiles were re-rendered";
    EXPECT_GE(changed, 6);
}

TEST(TileService, ABranchChangesTheCoverageTilesOfItsAreas) {
    auto d = demo();
    const geo::Organization* o = nullptr;
    for (const auto& x : d.orgs)
        if (x.operating() && !x.branch_id && std::abs(x.location.x - 123.84) < 0.03 &&
            std::abs(x.location.y - 42.29) < 0.03) {
            o = &x;
            break;
        }
    ASSERT_NE(o, nullptr);
    TileService service(d, 256u << 20);
    auto t = tile_at(o->location, 14);
    auto before = service.get("coverage-grid", t, 1).etag;
    service.get("coverage-street", tile_at(o->location, 11), 1);  // cached before the edit
    geo::Organization after = *o;
    after.branch_id = 99999;
    service.add_branch(99999, geo::BranchType::standalone);
    service.update(*o, after);
    EXPECT_NE(service.get("coverage-grid", t, 1).etag, before) << "the grid cell's rate rose from 0";
    // The street's rate moves by one organization: its tile is re-rendered (it may keep its
    // colour class, and then its bytes).
    auto misses = service.stats().misses;
    service.get("coverage-street", tile_at(o->location, 11), 1);
    EXPECT_EQ(service.stats().misses, misses + 1) << "dropped by the edit, so rendered again";
}

TEST(TileService, ConcurrentRequestsForOneMetatileRenderItOnce) {
    TileService service(demo(), 256u << 20);
    auto base = tile_at({123.842, 42.286}, 14);
    auto m = metatile_of(base);
    std::vector<std::thread> threads;
    std::vector<std::string> etags(16);
    for (int i = 0; i < 16; ++i)
        threads.emplace_back([&, i] {
            TileId t{14, m.x0 + i % m.n, m.y0 + (i / m.n) % m.n};
            etags[static_cast<std::size_t>(i)] = service.get("coverage-grid", t, 1).etag;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(service.stats().renders, 1) << "one metatile, one render";
    for (const auto& e : etags) EXPECT_FALSE(e.empty());
}

TEST(TileService, CacheStaysWithinItsBytes) {
    TileService service(demo(), 200 * 1024);
    for (int z : {10, 11, 12, 13})
        for (int dx = -2; dx <= 2; ++dx) {
            auto t = tile_at({123.842, 42.286}, z);
            service.get("coverage-grid", TileId{z, t.x + dx * 8, t.y}, 1);
            EXPECT_LE(service.stats().bytes, 200u * 1024);
        }
    EXPECT_GT(service.stats().entries, 0u);
}

TEST(TileService, BadAddressesAndTileJson) {
    TileService service(demo(), 1 << 20);
    EXPECT_THROW(service.get("roads", TileId{10, 0, 0}, 1), std::invalid_argument);
    EXPECT_THROW(service.get("orgs", TileId{10, 1024, 0}, 1), std::invalid_argument);
    EXPECT_THROW(service.get("orgs", TileId{10, 0, 0}, 3), std::invalid_argument);
    auto empty = service.get("orgs", TileId{10, 0, 0}, 1);
    EXPECT_TRUE(empty.empty);
    EXPECT_EQ(empty.etag, service.get("heatmap", TileId{10, 1, 1}, 1).etag) << "one shared transparent PNG";
    auto j = nlohmann::json::parse(service.tilejson("coverage-grid", "http://h"));
    EXPECT_EQ(j["tilejson"], "3.0.0");
    EXPECT_EQ(j["tiles"][0], "http://h/tiles/coverage-grid/{z}/{x}/{y}.png");
    EXPECT_EQ(j["bounds"].size(), 4u);
    EXPECT_EQ(j["center"].size(), 3u);
    EXPECT_EQ(j["legend"].size(), 7u);
    EXPECT_THROW(service.tilejson("roads", "http://h"), std::invalid_argument);
}

// An import (a bulk change): only the tiles near the organizations it changed are dropped.
TEST(TileService, AnImportDropsOnlyTheTilesNearWhatItChanged) {
    auto d = demo();
    TileService service(d, 256u << 20);
    geo::Organization* o = nullptr;
    for (auto& x : d.orgs)
        if (x.operating() && std::abs(x.location.x - 123.84) < 0.03 && std::abs(x.location.y - 42.29) < 0.03) {
            o = &x;
            break;
        }
    ASSERT_NE(o, nullptr);
    std::vector<std::pair<std::string, TileId>> near, far;
    for (int z : {10, 12, 14})
        for (const char* layer : {"orgs", "coverage-street", "coverage-grid"}) {
            near.push_back({layer, tile_at(o->location, z)});
            far.push_back({layer, tile_at({124.7, 42.75}, z)});
        }
    std::map<std::string, std::string> etag;
    for (const auto& [layer, t] : near) etag[layer + t.str()] = service.get(layer, t, 1).etag;
    for (const auto& [layer, t] : far) etag[layer + t.str()] = service.get(layer, t, 1).etag;
    // The registry closed it.
    o->status = geo::OrgStatus::deregistered;
    o->version += 1;
    auto dropped = service.replace(d, {o->location});
    EXPECT_GE(dropped, near.size() - 2) << "near tiles dropped";
    auto hits = service.stats().hits;
    for (const auto& [layer, t] : far) EXPECT_EQ(service.get(layer, t, 1).etag, etag[layer + t.str()]);
    EXPECT_EQ(service.stats().hits, hits + static_cast<long>(far.size())) << "far tiles still cached";
    int changed = 0;
    for (const auto& [layer, t] : near) changed += service.get(layer, t, 1).etag != etag[layer + t.str()];
    EXPECT_GE(changed, 3) << "the organization's point and its areas' rates changed";
}

// ledger-due: the organizations whose ledger no visit confirmed this quarter; when the next
// quarter begins, every operating one is due again and the layer's cached tiles go.
TEST(TileService, TheLedgerDueLayerRollsOverWhenAQuarterBegins) {
    auto d = test::demo_dataset(0.05, 3);
    const geo::Organization* o = nullptr;
    for (const auto& x : d.orgs)
        if (x.operating() && !o) o = &x;
    ASSERT_NE(o, nullptr);
    auto today = geo::china_date();
    d.ledger_verified[o->id] = today;  // confirmed today: not due
    TileService service(d, 64u << 20);
    auto at = tile_at(o->location, 17);
    auto confirmed = service.get("ledger-due", at, 1);
    EXPECT_EQ(service.roll_quarter(today), 0u) << "the same quarter: nothing to roll";
    auto next = geo::add_days(geo::quarter_start(today), 95);
    EXPECT_GT(service.roll_quarter(next), 0u) << "the cached ledger-due tile goes";
    auto due_again = service.get("ledger-due", at, 1);
    EXPECT_NE(*due_again.png, *confirmed.png) << "the organization is due again in the new quarter";
    EXPECT_EQ(service.roll_quarter(next), 0u);
}

// The size of an organization's marker (from z15) follows its employees: a correction of them
// redraws the tiles around it, and only from the zoom that draws sizes.
TEST(TileService, ACorrectionOfEmployeesRedrawsItsMarker) {
    auto d = demo();
    const geo::Organization* o = nullptr;
    for (const auto& x : d.orgs)
        if (x.operating() && std::abs(x.location.x - 123.84) < 0.03 && std::abs(x.location.y - 42.29) < 0.03) {
            o = &x;
            break;
        }
    ASSERT_NE(o, nullptr);
    TileService service(d, 64u << 20);
    auto at16 = tile_at(o->location, 16);
    auto before = service.get("orgs", at16, 1).etag;
    auto after = *o;
    after.employees = o->employees + 5000;
    after.version += 1;
    EXPECT_GT(service.update(*o, after), 0u);
    EXPECT_NE(service.get("orgs", at16, 1).etag, before) << "a bigger marker";
}
