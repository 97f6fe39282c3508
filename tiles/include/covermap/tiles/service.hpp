#pragma once
/// \file Tiles as the server asks for them: metatiles rendered once however many requests
/// wait for them (coalescing), an LRU cache bounded in bytes of encoded PNGs, ETags, and
/// exact invalidation after an edit.

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "covermap/geo/model.hpp"
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
};

class TileService {
public:
    TileService(const geo::Dataset& d, std::size_t cache_bytes, double kernel_radius_m = 1500);

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
    std::shared_ptr<const std::string> empty_[3];
    std::string empty_etag_[3];

    mutable std::mutex mutex_;
    std::list<Entry> lru_;                    // front: most recent
    std::array<std::size_t, 21> per_zoom_{};  // cached tiles per zoom (get() serves z 0-20)
    std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;
    std::map<std::tuple<std::string, MetaTile, int>, std::shared_ptr<Flight>> inflight_;
    std::condition_variable landed_;
    std::uint64_t generation_ = 0;  // bumped by every edit: renders begun before it are not cached
    TileStats stats_;
};

/// A quoted hash of bytes, for ETags.
std::string etag_of(const std::string& bytes);

}  // namespace covermap::tiles
