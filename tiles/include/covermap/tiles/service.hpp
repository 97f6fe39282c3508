#pragma once
/// \file Tiles as the server asks for them: metatiles rendered once however many requests
/// wait for them (coalescing), an LRU cache bounded in bytes of encoded PNGs, ETags, and
/// exact invalidation after an edit; optionally a tile directory on disk that several
/// processes share (DiskCache) and a restart keeps.

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "covermap/geo/model.hpp"
#include "covermap/tiles/disk_cache.hpp"
#include "covermap/tiles/renderer.hpp"
#include "covermap/tiles/source.hpp"
#include "covermap/tiles/tile_id.hpp"

namespace covermap::tiles {

struct Tile {
    std::shared_ptr<const std::string> png;
    std::string etag;  ///< hash of the PNG bytes, quoted
    bool empty = false;
};

struct TileStats {
    long hits = 0, misses = 0, renders = 0, invalidated = 0;
    std::size_t bytes = 0, entries = 0;
    std::map<std::string, long> renders_by;  ///< "layer/z" -> metatile renders
    /// The tile directory (all 0 without one): metatiles served from it instead of rendered,
    /// files found there but drawn from other data (rendered again), files written, files that
    /// were damaged, files evicted by the bound, failures (logged), bytes of its files.
    long disk_hits = 0, disk_stale = 0, disk_writes = 0, disk_damaged = 0, disk_evicted = 0, disk_errors = 0;
    std::int64_t disk_bytes = 0;
};

/// A tile directory (`serve --tile-dir`): metatile files shared by every process on one store.
struct TileDirOptions {
    std::string dir;                          ///< empty: none
    std::uint64_t max_bytes = 1024ULL << 20;  ///< about this many bytes of files at most
};

class TileService {
public:
    /// With `dir.dir` set, metatiles are also kept in that directory: read there before a render
    /// (when they are drawn from the data as it is), written after one. At start, when no other
    /// process uses the directory and its note names other data, its tiles are deleted.
    TileService(const geo::Dataset& d, std::size_t cache_bytes, double kernel_radius_m = 1500,
                const TileDirOptions& dir = {});
    ~TileService();

    /// The tile (scale 1 or 2); throws std::invalid_argument for an unknown layer or tile.
    Tile get(const std::string& layer, const TileId& t, int scale);
    /// When `today` (China's, YYYY-MM-DD) lies in a later quarter than the one the ledger-due
    /// layer was drawn for: every operating organization is due again and that layer's cached
    /// tiles go; returns how many. Called with the clock before each ledger-due tile is served.
    std::size_t roll_quarter(const std::string& today);

    /// The tile if it is in the cache (counted as a hit), without rendering.
    std::optional<Tile> peek(const std::string& layer, const TileId& t, int scale);

    /// After an organization changed: updates what the tiles draw, drops exactly the cached
    /// tiles whose drawing changed (every zoom, every layer); returns how many were dropped.
    std::size_t update(const geo::Organization& before, const geo::Organization& after);
    /// The same for many changes at once (an accepted plan): one pass over the cache.
    /// With the data (read-locked by the caller), the changed organizations' ledger freshness
    /// follows too (a visit confirms a ledger without changing the record).
    std::size_t update(const std::vector<std::pair<geo::Organization, geo::Organization>>& changes,
                       const geo::Dataset* data = nullptr);
    /// Branches created (accepted plans) before organizations point at them.
    void add_branch(std::int64_t id, geo::BranchType type);
    /// New data (an import): new source, empty cache.
    void reset(const geo::Dataset& d);

    /// TileJSON 3.0.0 for a layer, tiles under base_url ("http://host").
    std::string tilejson(const std::string& layer, const std::string& base_url) const;

    TileStats stats() const;
    double kernel_radius_m() const { return kernel_radius_m_; }
    /// After a bulk change (an import): builds the drawing from d and drops only the cached tiles
    /// near `touched` (EPSG:4490 points of every organization added, changed or deregistered):
    /// their points, heatmap reach, the areas holding them at every level, and the instructor
    /// links and territories through them. Returns the number of tiles dropped.
    std::size_t replace(const geo::Dataset& d, const std::vector<geo::Point>& touched);

    /// The heatmap's class breaks for the data it was built from (heat_classes).
    std::vector<double> heat_classes() const;
    static constexpr int kMinZoom = 6;
    static constexpr int kMaxZoom = 18;

private:
    struct Key {
        std::string layer;
        int z, x, y, scale;
        bool operator==(const Key& o) const {
            return z == o.z && x == o.x && y == o.y && scale == o.scale && layer == o.layer;
        }
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const;
    };
    struct Entry {
        Key key;
        Tile tile;
        std::size_t bytes;
    };
    struct Flight {
        bool done = false;
        std::vector<std::string> pngs;
        std::exception_ptr error;
    };

    void put(const Key& k, const std::string& png);
    void evict();

    std::shared_ptr<TileSource> source_;
    std::size_t capacity_;
    /// Drops the cached tiles whose box (grown by the layer's margin) meets a dirty box of its
    /// layer; call with mutex_ held.
    std::size_t drop_tiles(const Dirty& dirty);
    double kernel_radius_m_;
    std::vector<double> heat_classes_;  // guarded by mutex_ (set at construction and reset)
    std::string quarter_;                        // the quarter the ledger-due layer is of (mutex_)
    std::atomic<long long> quarter_ends_{0};     // its end, UTC seconds: a cheap check per request
    void check_quarter();
    /// The end of update() and roll_quarter(), their source changed (change_mutex_ held): the
    /// change is over, its tiles dropped in memory and on disk; returns how many in memory.
    std::size_t finish_change(const Dirty& dirty);
    std::shared_ptr<const std::string> empty_[3];
    std::string empty_etag_[3];

    mutable std::mutex mutex_;
    std::list<Entry> lru_;                    // front: most recent
    std::array<std::size_t, 21> per_zoom_{};  // cached tiles per zoom (get() serves z 0-20)
    std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;
    std::map<std::tuple<std::string, MetaTile, int>, std::shared_ptr<Flight>> inflight_;
    std::condition_variable landed_;
    // One change at a time (update, replace, reset, roll_quarter): the source changed, then
    // that drawing remembered with its boxes; never two interleaved.
    std::mutex change_mutex_;
    int changing_ = 0;  // changes under way (mutex_): a render begun meanwhile is not kept
    std::uint64_t generation_ = 0;  // bumped by every edit: renders begun before it are not cached
    TileStats stats_;

    // The tile directory and what makes its files safe to serve (see usable() in service.cpp).
    struct Step {
        Fingerprint print;  // the drawing after a change
        Dirty dirty;        // where that change altered it (at most kStepBoxes boxes a layer)
    };
    std::unique_ptr<DiskCache> disk_;
    // The drawings this service went through, oldest first, and their boxes (mutex_).
    std::deque<Step> steps_;
    std::size_t steps_boxes_ = 0;
    // With mutex_ held: the drawing now; what else a layer's pixels depend on (the heatmap's
    // classes); whether a file may be served; a change's step.
    Fingerprint print() const;
    std::uint64_t layer_key(const std::string& layer) const;
    bool usable(const std::string& layer, const MetaTile& m, const MetaStamp& s) const;
    void remember(const Dirty& dirty);
    // Without mutex_ (file system calls): a change's files, then the note.
    void forget_on_disk(const Dirty& dirty);
    std::string note(const Fingerprint& f) const;
};

/// A quoted hash of bytes, for ETags.
std::string etag_of(const std::string& bytes);

}  // namespace covermap::tiles
