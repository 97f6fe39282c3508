// The tile directory (serve --tile-dir): metatile files shared by services on one directory, as
// processes on one store share it; invalidation by the same edits; the race of a render from
// data an edit already changed elsewhere; restarts; the byte bound; damaged files.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "covermap/geo/clock.hpp"
#include "covermap/tiles/disk_cache.hpp"
#include "covermap/tiles/service.hpp"
#include "support.hpp"

using namespace covermap;
using namespace covermap::tiles;
namespace fs = std::filesystem;

namespace {

const geo::Dataset& demo() { return test::demo_dataset(1, 2010); }

// An operating organization with an instructor and no branch near Tieling's centre: removing its
// instructor changes the orgs, heatmap and assignments layers around it, not the coverage.
const geo::Organization& assigned_org(const geo::Dataset& d) {
    for (const auto& x : d.orgs)
        if (x.operating() && x.instructor_id && !x.branch_id && std::abs(x.location.x - 123.84) < 0.03 &&
            std::abs(x.location.y - 42.29) < 0.03)
            return x;
    throw std::runtime_error("no such organization in the demo");
}

geo::Organization without_instructor(const geo::Organization& o) {
    auto after = o;
    after.instructor_id.reset();
    after.version += 1;
    return after;
}

// The data after that edit, as a process starting later would load it.
geo::Dataset edited(const geo::Dataset& d, const geo::Organization& after) {
    auto out = d;
    for (auto& o : out.orgs)
        if (o.id == after.id) o = after;
    return out;
}

TileDirOptions on(const test::TempDir& dir, std::uint64_t max_bytes = 1024ULL << 20) {
    return TileDirOptions{(dir.path() / "tiles").string(), max_bytes};
}

std::vector<fs::path> meta_files(const test::TempDir& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir.path() / "tiles", ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".meta") out.push_back(it->path());
    return out;
}

std::uintmax_t meta_bytes(const test::TempDir& dir) {
    std::uintmax_t n = 0;
    for (const auto& f : meta_files(dir)) n += fs::file_size(f);
    return n;
}

fs::path file_of(const test::TempDir& dir, const std::string& layer, int scale, const TileId& t) {
    auto m = metatile_of(t);
    return dir.path() / "tiles" / layer / std::to_string(scale) / std::to_string(m.z) / std::to_string(m.x0) /
           (std::to_string(m.y0) + ".meta");
}

struct Probe {
    std::string layer;
    TileId tile;
    std::string str() const { return layer + "/" + tile.str(); }
};

// Near the organization and ~75 km away (西丰县), in the layers its instructor's removal changes.
std::vector<Probe> near_probes(const geo::Organization& o) {
    std::vector<Probe> out;
    for (int z : {12, 14, 16})
        for (const char* layer : {"orgs", "heatmap", "assignments"}) out.push_back({layer, tile_at(o.location, z)});
    return out;
}
std::vector<Probe> far_probes() {
    std::vector<Probe> out;
    for (int z : {12, 14, 16})
        for (const char* layer : {"orgs", "heatmap", "assignments", "coverage-grid"})
            out.push_back({layer, tile_at({124.7, 42.75}, z)});
    return out;
}

}  // namespace

TEST(TileDir, ASecondServiceServesWhatTheFirstRenderedWithoutRendering) {
    test::TempDir dir;
    const auto& o = assigned_org(demo());
    std::vector<Probe> probes = near_probes(o);
    probes.push_back({"coverage-street", tile_at(o.location, 11)});
    std::map<std::string, Tile> first;
    TileService one(demo(), 64u << 20, 1500, on(dir));
    for (const auto& p : probes) first[p.str()] = one.get(p.layer, p.tile, 1);
    auto s1 = one.stats();
    EXPECT_GT(s1.renders, 0);
    EXPECT_EQ(s1.disk_writes, s1.renders) << "each metatile rendered is written";
    EXPECT_EQ(s1.disk_hits, 0);
    EXPECT_GT(s1.disk_bytes, 0);
    EXPECT_EQ(static_cast<std::uintmax_t>(s1.disk_bytes), meta_bytes(dir));

    // Another process on the same directory, same data.
    TileService two(demo(), 64u << 20, 1500, on(dir));
    for (const auto& p : probes) {
        auto t = two.get(p.layer, p.tile, 1);
        EXPECT_EQ(t.etag, first[p.str()].etag) << p.str();
        EXPECT_EQ(*t.png, *first[p.str()].png) << p.str();
        EXPECT_EQ(t.empty, first[p.str()].empty) << p.str();
    }
    auto s2 = two.stats();
    EXPECT_EQ(s2.renders, 0) << "every tile came from the directory";
    EXPECT_EQ(s2.disk_hits, s1.renders);
    EXPECT_EQ(s2.disk_writes, 0);
    // A neighbour in one of those metatiles is in memory already: a hit, no file read.
    auto t = tile_at(o.location, 14);
    auto m = metatile_of(t);
    two.get("orgs", TileId{14, m.x0 + (t.x - m.x0 + 1) % m.n, t.y}, 1);
    EXPECT_EQ(two.stats().disk_hits, s2.disk_hits);
    EXPECT_EQ(two.stats().hits, s2.hits + 1);
    // @2x is a metatile of its own.
    two.get("orgs", t, 2);
    EXPECT_EQ(two.stats().renders, 1);
}

TEST(TileDir, AnEditAppliedByEveryServiceRendersOnlyWhatItTouched) {
    test::TempDir dir;
    const auto& o = assigned_org(demo());
    auto after = without_instructor(o);
    auto near = near_probes(o), far = far_probes();
    std::map<std::string, std::string> etag;
    TileService one(demo(), 64u << 20, 1500, on(dir));
    TileService two(demo(), 64u << 20, 1500, on(dir));
    for (const auto& p : near) etag[p.str()] = one.get(p.layer, p.tile, 1).etag;
    for (const auto& p : far) etag[p.str()] = one.get(p.layer, p.tile, 1).etag;
    ASSERT_TRUE(fs::exists(file_of(dir, "orgs", 1, tile_at(o.location, 14))));

    // The edit, in the process that made it and in the other as it hears of it (NOTIFY).
    EXPECT_GT(one.update(o, after), 0u);
    EXPECT_FALSE(fs::exists(file_of(dir, "orgs", 1, tile_at(o.location, 14)))) << "its files are deleted";
    EXPECT_TRUE(fs::exists(file_of(dir, "orgs", 1, tile_at({124.7, 42.75}, 14)))) << "far files stay";
    two.update(o, after);

    // The other process: far tiles from the directory, as they were; near ones rendered anew.
    for (const auto& p : far) EXPECT_EQ(two.get(p.layer, p.tile, 1).etag, etag[p.str()]) << p.str();
    auto s = two.stats();
    EXPECT_EQ(s.renders, 0) << "far tiles are served from the directory";
    EXPECT_GT(s.disk_hits, 0);
    int changed = 0;
    std::map<std::string, std::string> now;
    for (const auto& p : near) {
        now[p.str()] = two.get(p.layer, p.tile, 1).etag;
        changed += now[p.str()] != etag[p.str()];
        if (p.layer == "orgs") {
            EXPECT_NE(now[p.str()], etag[p.str()]) << p.str() << " shows the new colour";
        }
    }
    EXPECT_GT(two.stats().renders, 0) << "near tiles rendered again";
    EXPECT_GE(changed, 6);
    // The first process's near tiles: dropped from its memory, now the second's files.
    auto renders = one.stats().renders, hits = one.stats().disk_hits;
    for (const auto& p : near) EXPECT_EQ(one.get(p.layer, p.tile, 1).etag, now[p.str()]) << p.str();
    EXPECT_EQ(one.stats().renders, renders);
    EXPECT_GT(one.stats().disk_hits, hits);
    // And a fresh load of the edited data draws the same (the directory's tiles are current; the
    // heatmap's classes would be the new data's there, so it is left out).
    TileService fresh(edited(demo(), after), 64u << 20);
    for (const auto& p : near)
        if (p.layer != "heatmap") {
            EXPECT_EQ(fresh.get(p.layer, p.tile, 1).etag, now[p.str()]) << p.str();
        }
}

// The race: process two renders from the data before an edit that process one has already
// applied (and deleted the files of), and writes its file after that. Process one must not serve
// that file; tiles the edit did not reach may still come from it.
TEST(TileDir, AFileRenderedBeforeAnEditIsNeverServedAfterIt) {
    test::TempDir dir;
    const auto& o = assigned_org(demo());
    auto after = without_instructor(o);
    TileService one(demo(), 64u << 20, 1500, on(dir));
    TileService two(demo(), 64u << 20, 1500, on(dir));
    auto near = tile_at(o.location, 14), far = tile_at({124.7, 42.75}, 14);
    one.update(o, after);  // two has not heard of it yet
    auto stale = two.get("orgs", near, 1);
    two.get("orgs", far, 1);
    ASSERT_TRUE(fs::exists(file_of(dir, "orgs", 1, near))) << "two wrote the file one deleted";
    ASSERT_EQ(two.stats().disk_writes, 2);

    auto t = one.get("orgs", near, 1);
    EXPECT_EQ(one.stats().renders, 1) << "one rendered rather than serve two's file";
    EXPECT_EQ(one.stats().disk_stale, 1);
    EXPECT_EQ(one.stats().disk_hits, 0);
    EXPECT_NE(t.etag, stale.etag) << "the organization's new colour";
    TileService fresh(edited(demo(), after), 64u << 20);
    EXPECT_EQ(t.etag, fresh.get("orgs", near, 1).etag);
    // Far from the edit two's file is as good as one's own render.
    one.get("orgs", far, 1);
    EXPECT_EQ(one.stats().renders, 1);
    EXPECT_EQ(one.stats().disk_hits, 1);

    // Two hears of the edit: its stale tile goes (from memory, and the file) and it draws the new one.
    two.update(o, after);
    EXPECT_EQ(two.get("orgs", near, 1).etag, t.etag);
    // A service on the data before the edit (a process that has not heard of it yet) does not
    // take the file drawn after the edit either: it renders from what it has.
    TileService behind(demo(), 64u << 20, 1500, on(dir));
    EXPECT_EQ(behind.get("orgs", near, 1).etag, stale.etag);
    EXPECT_EQ(behind.stats().disk_stale, 1);
}

TEST(TileDir, ARestartKeepsTheTilesOfUnchangedDataAndWipesThemAfterAChange) {
    test::TempDir dir;
    const auto& o = assigned_org(demo());
    auto near = near_probes(o);
    std::map<std::string, std::string> etag;
    {
        TileService one(demo(), 64u << 20, 1500, on(dir));
        for (const auto& p : near) etag[p.str()] = one.get(p.layer, p.tile, 1).etag;
    }
    auto files = meta_files(dir).size();
    ASSERT_GT(files, 0u);
    ASSERT_TRUE(fs::exists(dir.path() / "tiles" / "fingerprint"));
    {
        TileService again(demo(), 64u << 20, 1500, on(dir));
        EXPECT_EQ(meta_files(dir).size(), files) << "kept";
        for (const auto& p : near) EXPECT_EQ(again.get(p.layer, p.tile, 1).etag, etag[p.str()]) << p.str();
        EXPECT_EQ(again.stats().renders, 0) << "a restart on the same data renders nothing";
    }
    // The data changed while no process served it (an import from the command line).
    auto changed = edited(demo(), without_instructor(o));
    {
        TileService later(changed, 64u << 20, 1500, on(dir));
        EXPECT_EQ(meta_files(dir).size(), 0u) << "wiped at start";
        for (const auto& p : near) later.get(p.layer, p.tile, 1);
        EXPECT_GT(later.stats().renders, 0);
        EXPECT_EQ(later.stats().disk_hits, 0);
    }
    // A process that stopped between an edit and its note (its note names other data) counts as a
    // change: the next one alone wipes.
    std::ofstream(dir.path() / "tiles" / "fingerprint") << "covermap tile directory\nfingerprint 0\n";
    {
        TileService after_crash(changed, 64u << 20, 1500, on(dir));
        EXPECT_EQ(meta_files(dir).size(), 0u);
    }
}

// A tile directory pointed at a folder that holds other things (a checkout, /var/cache): a
// wipe at start and a reset (an import) delete metatiles and their folders, nothing else.
TEST(TileDir, AWipeDeletesOnlyWhatTheCacheWrote) {
    test::TempDir dir;
    auto root = dir.path() / "tiles";
    fs::create_directories(root / "src");
    std::ofstream(root / "notes.txt") << "mine";
    std::ofstream(root / "src" / "keep.cpp") << "mine too";
    fs::create_directories(root / "orgs" / "1");
    std::ofstream(root / "orgs" / "1" / "README") << "and this";
    const auto& o = assigned_org(demo());
    TileService one(demo(), 64u << 20, 1500, on(dir));  // no note yet: wiped at start
    for (const auto& p : near_probes(o)) one.get(p.layer, p.tile, 1);
    ASSERT_GT(meta_files(dir).size(), 0u);
    one.reset(demo());  // an import: every tile goes
    EXPECT_EQ(meta_files(dir).size(), 0u);
    EXPECT_TRUE(fs::exists(root / "notes.txt"));
    EXPECT_TRUE(fs::exists(root / "src" / "keep.cpp"));
    EXPECT_TRUE(fs::exists(root / "orgs" / "1" / "README"));
    EXPECT_FALSE(fs::exists(root / "heatmap")) << "a layer's emptied folders go";
}

// With another process still serving the directory, a process starting on other data (it loaded
// during an edit) does not wipe what the other uses, and still serves none of it.
TEST(TileDir, AProcessStartingBesideAnotherLeavesItsFilesAndJudgesThem) {
    test::TempDir dir;
    const auto& o = assigned_org(demo());
    TileService one(demo(), 64u << 20, 1500, on(dir));
    auto near = tile_at(o.location, 14), far = tile_at({124.7, 42.75}, 14);
    one.get("orgs", near, 1);
    one.get("orgs", far, 1);
    auto files = meta_files(dir).size();
    TileService two(edited(demo(), without_instructor(o)), 64u << 20, 1500, on(dir));
    EXPECT_EQ(meta_files(dir).size(), files) << "not wiped under a running process";
    two.get("orgs", near, 1);
    two.get("orgs", far, 1);
    EXPECT_EQ(two.stats().disk_hits, 0) << "drawn from other data: neither is served";
    EXPECT_EQ(two.stats().disk_stale, 2);
    EXPECT_EQ(two.stats().renders, 2);
}

TEST(TileDir, StaysWithinItsBoundLeastRecentlyUsedFirst) {
    auto centre = tile_at({123.842, 42.286}, 14);
    std::vector<TileId> asked;
    for (int dx = -4; dx <= 4; ++dx)
        for (int dy = -1; dy <= 1; ++dy) asked.push_back(TileId{14, centre.x + dx * 8, centre.y + dy * 8});
    // What the files take without a bound, to bound the directory at a third of it.
    std::uintmax_t all = 0, largest = 0;
    {
        test::TempDir probe;
        TileService s(demo(), 64u << 20, 1500, on(probe));
        for (const auto& t : asked) s.get("coverage-grid", t, 1);
        for (const auto& f : meta_files(probe)) all += fs::file_size(f), largest = std::max(largest, fs::file_size(f));
    }
    const std::uint64_t bound = std::max(all / 3, largest * 2);
    ASSERT_LT(bound, all) << "files of similar sizes";
    test::TempDir dir;
    TileService s(demo(), 64u << 20, 1500, on(dir, bound));
    for (const auto& t : asked) {
        s.get("coverage-grid", t, 1);
        EXPECT_LE(meta_bytes(dir), bound);
        // Files' times are the clock's ticks: a few milliseconds apart, least recently used is exact.
        std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
    auto st = s.stats();
    EXPECT_GT(st.disk_evicted, 0);
    EXPECT_LE(static_cast<std::uint64_t>(st.disk_bytes), bound);
    EXPECT_EQ(static_cast<std::uintmax_t>(st.disk_bytes), meta_bytes(dir)) << "its count is the directory's";
    EXPECT_LT(meta_files(dir).size(), asked.size());
    EXPECT_TRUE(fs::exists(file_of(dir, "coverage-grid", 1, asked.back()))) << "the newest stays";
    EXPECT_FALSE(fs::exists(file_of(dir, "coverage-grid", 1, asked.front()))) << "the oldest went";
    // A file served from the directory counts as used: serve the oldest file left through another
    // service, then write until something is evicted: the next oldest goes, not that one.
    std::vector<std::pair<fs::file_time_type, TileId>> left;
    for (const auto& t : asked)
        if (auto f = file_of(dir, "coverage-grid", 1, t); fs::exists(f)) left.emplace_back(fs::last_write_time(f), t);
    std::sort(left.begin(), left.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    ASSERT_GE(left.size(), 2u);
    TileService reader(demo(), 64u << 20, 1500, on(dir, bound));
    reader.get("coverage-grid", left[0].second, 1);
    EXPECT_EQ(reader.stats().disk_hits, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    TileService writer(demo(), 64u << 20, 1500, on(dir, bound));
    for (const auto& t : asked) {
        if (writer.stats().disk_evicted > 0) break;
        if (!fs::exists(file_of(dir, "coverage-grid", 1, t))) writer.get("coverage-grid", t, 1);
    }
    ASSERT_GT(writer.stats().disk_evicted, 0);
    EXPECT_TRUE(fs::exists(file_of(dir, "coverage-grid", 1, left[0].second))) << "used just now: kept";
    EXPECT_FALSE(fs::exists(file_of(dir, "coverage-grid", 1, left[1].second))) << "the least recently used went";
}

TEST(TileDir, DamagedOrForeignFilesAreRenderedAgainNeverServed) {
    test::TempDir dir;
    auto t = tile_at({123.842, 42.286}, 14), other = tile_at({124.7, 42.75}, 14);
    std::string etag;
    {
        TileService s(demo(), 64u << 20, 1500, on(dir));
        etag = s.get("orgs", t, 1).etag;
        s.get("orgs", other, 1);
    }
    auto path = file_of(dir, "orgs", 1, t);
    std::string good;
    {
        std::ifstream in(path, std::ios::binary);
        good.assign(std::istreambuf_iterator<char>(in), {});
    }
    ASSERT_GT(good.size(), 100u);
    std::string flipped = good;
    flipped[flipped.size() - 10] ^= 0x55;
    std::string foreign;
    {
        std::ifstream in(file_of(dir, "orgs", 1, other), std::ios::binary);
        foreign.assign(std::istreambuf_iterator<char>(in), {});
    }
    const std::pair<const char*, std::string> damages[] = {
        {"truncated", good.substr(0, good.size() / 2)},
        {"a flipped byte", flipped},
        {"empty", ""},
        {"a header only", good.substr(0, 72)},
        {"not a metatile file", std::string(5000, 'x')},
        {"another metatile's file", foreign},
        {"trailing bytes", good + "more"},
    };
    for (const auto& [what, bytes] : damages) {
        { std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes; }
        TileService s(demo(), 64u << 20, 1500, on(dir));
        auto tile = s.get("orgs", t, 1);
        EXPECT_EQ(tile.etag, etag) << what;
        EXPECT_EQ(s.stats().renders, 1) << what;
        EXPECT_EQ(s.stats().disk_damaged, 1) << what;
        EXPECT_EQ(s.stats().disk_hits, 0) << what;
        // Replaced by a sound file again.
        std::ifstream in(path, std::ios::binary);
        EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), good) << what;
    }
    // A folder where the file would be: not read, the failure to replace it logged, the tile served.
    fs::remove(path);
    fs::create_directories(path);
    test::CaptureStderr err;
    TileService s(demo(), 64u << 20, 1500, on(dir));
    EXPECT_EQ(s.get("orgs", t, 1).etag, etag);
    EXPECT_EQ(s.stats().renders, 1);
    EXPECT_GT(s.stats().disk_errors, 0);
    EXPECT_NE(err.text().find("tile directory"), std::string::npos);
}

TEST(TileDir, ADirectoryThatCannotBeWrittenOnlyCostsRenders) {
    test::TempDir dir;
    std::ofstream(dir / "file") << "x";
    auto t = tile_at({123.842, 42.286}, 14);
    test::CaptureStderr err;
    TileService s(demo(), 64u << 20, 1500, TileDirOptions{dir / "file/tiles", 1u << 20});
    auto tile = s.get("orgs", t, 1);
    s.get("orgs", tile_at({124.7, 42.75}, 14), 1);
    auto log = err.text();
    TileService plain(demo(), 64u << 20);
    EXPECT_EQ(tile.etag, plain.get("orgs", t, 1).etag);
    EXPECT_EQ(s.stats().renders, 2);
    EXPECT_EQ(s.stats().disk_writes, 0);
    EXPECT_GT(s.stats().disk_errors, 0);
    EXPECT_NE(log.find("tile directory"), std::string::npos) << log;
    EXPECT_LE(std::count(log.begin(), log.end(), '\n'), 2) << "failures are logged, not flooded:\n" << log;
}

TEST(TileDir, ANewQuarterDeletesTheLedgerDueLayersFiles) {
    test::TempDir dir;
    auto d = test::demo_dataset(0.05, 3);
    const geo::Organization* o = nullptr;
    for (const auto& x : d.orgs)
        if (x.operating() && !o) o = &x;
    ASSERT_NE(o, nullptr);
    auto today = geo::china_date();
    d.ledger_verified[o->id] = today;
    TileService s(d, 64u << 20, 1500, on(dir));
    auto at = tile_at(o->location, 17);
    auto confirmed = s.get("ledger-due", at, 1);
    s.get("orgs", at, 1);
    ASSERT_TRUE(fs::exists(file_of(dir, "ledger-due", 1, at)));
    s.roll_quarter(geo::add_days(geo::quarter_start(today), 95));
    EXPECT_FALSE(fs::exists(dir.path() / "tiles" / "ledger-due")) << "the layer's files went";
    EXPECT_TRUE(fs::exists(file_of(dir, "orgs", 1, at))) << "other layers' stay";
    EXPECT_NE(*s.get("ledger-due", at, 1).png, *confirmed.png);
}

// The fingerprint names what is drawn, however the drawing was reached: edits applied one by one
// in either order give the fingerprint of the edited data loaded afresh.
TEST(TileSource, TheFingerprintFollowsEditsInAnyOrder) {
    auto d = demo();
    std::vector<std::pair<geo::Organization, geo::Organization>> edits;
    int took = 0;
    for (const auto& o : d.orgs) {
        if (!o.operating() || took >= 4) continue;
        auto after = o;
        after.version += 1;
        switch (took) {
            case 0:
                after.instructor_id.reset();
                break;
            case 1:
                after.employees += 7;
                break;
            case 2:
                after.status = geo::OrgStatus::deregistered;
                break;
            case 3:
                after.branch_id = d.branches.front().id;
                break;
        }
        if (after.instructor_id == o.instructor_id && took == 0) continue;
        edits.emplace_back(o, after);
        ++took;
    }
    ASSERT_EQ(edits.size(), 4u);
    TileSource forward(d), backward(d);
    auto start = forward.fingerprint();
    EXPECT_EQ(start, TileSource(d).fingerprint()) << "a function of the data";
    for (const auto& [b, a] : edits) forward.update(b, a, 1500);
    for (auto it = edits.rbegin(); it != edits.rend(); ++it) backward.update(it->first, it->second, 1500);
    EXPECT_NE(forward.fingerprint(), start);
    EXPECT_EQ(forward.fingerprint(), backward.fingerprint());
    auto e = d;
    for (const auto& [b, a] : edits)
        for (auto& o : e.orgs)
            if (o.id == a.id) o = a;
    EXPECT_EQ(forward.fingerprint(), TileSource(e).fingerprint()) << "the same as a fresh load of the edited data";
    EXPECT_EQ(forward.fixed_fingerprint(), TileSource(e).fixed_fingerprint());
    // Undoing every edit gives the first fingerprint back (the ledger of the organization
    // operating again is due again, as TileService sets it from the data).
    for (const auto& [b, a] : edits) {
        forward.update(a, b, 1500);
        forward.set_due(b.id, b.operating() && !d.ledger_verified.count(b.id));
    }
    EXPECT_EQ(forward.fingerprint(), start);
    // A change of what is not drawn (a name) leaves it; a moved area changes the fixed part.
    auto renamed = d;
    renamed.orgs.front().name += "（更名）";
    EXPECT_EQ(TileSource(renamed).fingerprint(), start);
    auto moved = d;
    moved.areas.front().shape.front().exterior.front().x += 1e-9;
    EXPECT_NE(TileSource(moved).fixed_fingerprint(), forward.fixed_fingerprint());
    auto parsed = Fingerprint::parse(start.hex());
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, start);
    EXPECT_FALSE(Fingerprint::parse("xyz"));
}
