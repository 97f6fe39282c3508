#include "covermap/geo/adjacency.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <set>
#include <thread>
#include <tuple>

#include "covermap/geo/error.hpp"
#include "covermap/geo/geometry.hpp"
#include "detail/geos.hpp"
#include "detail/ogr.hpp"

namespace covermap::geo {

using namespace detail;

namespace {

// A vertex (or an edge's two vertices) as exact bit patterns: shared means bit-identical,
// which is what "shares a vertex" means for libpysal's Queen and Rook too.
struct Key {
    std::uint64_t a, b, c, d;
    bool operator<(const Key& o) const { return std::tie(a, b, c, d) < std::tie(o.a, o.b, o.c, o.d); }
    bool operator==(const Key& o) const { return a == o.a && b == o.b && c == o.c && d == o.d; }
};

// Sorts big vectors as two halves on the two cores, then merges them.
template <class T, class Less>
void sort_on_two_cores(std::vector<T>& v, Less less) {
    if (v.size() < 100000) {
        std::sort(v.begin(), v.end(), less);
        return;
    }
    auto mid = v.begin() + static_cast<long>(v.size() / 2);
    std::thread other([&] { std::sort(v.begin(), mid, less); });
    std::sort(mid, v.end(), less);
    other.join();
    std::inplace_merge(v.begin(), mid, v.end(), less);
}

std::uint64_t bits(double v) {
    if (v == 0) v = 0;  // -0.0 and 0.0 are the same point
    std::uint64_t u;
    std::memcpy(&u, &v, sizeof u);
    return u;
}

void add_keys(const MultiPolygon& shape, int id, Contiguity mode, std::vector<std::pair<Key, int>>& out) {
    auto ring_keys = [&](const Ring& r) {
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (mode == Contiguity::queen) {
                out.push_back({Key{bits(r[i].x), bits(r[i].y), 0, 0}, id});
            } else if (i + 1 < r.size()) {
                Key k1{bits(r[i].x), bits(r[i].y), 0, 0}, k2{bits(r[i + 1].x), bits(r[i + 1].y), 0, 0};
                if (k1 == k2) continue;  // repeated vertex: no segment
                if (k2 < k1) std::swap(k1, k2);
                out.push_back({Key{k1.a, k1.b, k2.a, k2.b}, id});
            }
        }
    };
    for (const auto& p : shape) {
        ring_keys(p.exterior);
        for (const auto& h : p.holes) ring_keys(h);
    }
}

// Pairs of ids that share a key: sort (key, id), then every group of equal keys links its ids.
void exact_pairs(const std::vector<MultiPolygon>& shapes, Contiguity mode, std::vector<std::pair<int, int>>& links) {
    std::vector<std::pair<Key, int>> keys;
    for (std::size_t i = 0; i < shapes.size(); ++i) add_keys(shapes[i], static_cast<int>(i), mode, keys);
    auto less = [](const auto& x, const auto& y) {
        return x.first < y.first || (x.first == y.first && x.second < y.second);
    };
    sort_on_two_cores(keys, less);
    std::vector<int> group;
    for (std::size_t i = 0; i < keys.size();) {
        std::size_t j = i;
        group.clear();
        while (j < keys.size() && keys[j].first == keys[i].first) {
            if (group.empty() || group.back() != keys[j].second) group.push_back(keys[j].second);
            ++j;
        }
        for (std::size_t a = 0; a < group.size(); ++a)
            for (std::size_t b = a + 1; b < group.size(); ++b) links.emplace_back(group[a], group[b]);
        i = j;
    }
}

double segment_point_d2(double px, double py, double ax, double ay, double bx, double by) {
    double dx = bx - ax, dy = by - ay;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? std::clamp(((px - ax) * dx + (py - ay) * dy) / len2, 0.0, 1.0) : 0.0;
    double ex = ax + t * dx - px, ey = ay + t * dy - py;
    return ex * ex + ey * ey;
}

double orient(double ax, double ay, double bx, double by, double cx, double cy) {
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

// Squared distance between segments ab and cd (0 when they cross).
double segment_d2(const double* s, const double* t) {
    double o1 = orient(s[0], s[1], s[2], s[3], t[0], t[1]), o2 = orient(s[0], s[1], s[2], s[3], t[2], t[3]);
    double o3 = orient(t[0], t[1], t[2], t[3], s[0], s[1]), o4 = orient(t[0], t[1], t[2], t[3], s[2], s[3]);
    if (((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))) return 0;
    return std::min(
        {segment_point_d2(s[0], s[1], t[0], t[1], t[2], t[3]), segment_point_d2(s[2], s[3], t[0], t[1], t[2], t[3]),
         segment_point_d2(t[0], t[1], s[0], s[1], s[2], s[3]), segment_point_d2(t[2], t[3], s[0], s[1], s[2], s[3])});
}

// Pairs whose borders come within distance: a grid join of boundary segments. Each segment
// is filed under every cell (side = distance) its box, grown by half the distance, touches;
// two segments within the distance then share a cell. Hand-written because GEOS offers no
// many-to-many proximity join: testing box-overlapping pairs one by one with
// GEOSPreparedDistanceWithin took 21 s on China's 3,253 county polygons (6.9 M vertices),
// this join takes a fraction of that. Rings are used as given (no repair needed: distance
// between segments is defined for any ring), holes included, so enclaves link too.
void fuzzy_pairs(const std::vector<MultiPolygon>& shapes, double distance, std::vector<std::pair<int, int>>& links) {
    std::vector<std::pair<int, int>> known(links);
    std::sort(known.begin(), known.end());
    std::vector<std::array<double, 4>> segs;
    std::vector<int> owner;
    std::size_t vertices = 0;
    for (const auto& shape : shapes)
        for (const auto& poly : shape) {
            vertices += poly.exterior.size();
            for (const auto& h : poly.holes) vertices += h.size();
        }
    segs.reserve(vertices);
    owner.reserve(vertices);
    for (std::size_t k = 0; k < shapes.size(); ++k) {
        auto add_ring = [&](const Ring& r) {
            for (std::size_t i = 0; i + 1 < r.size(); ++i) {
                segs.push_back({r[i].x, r[i].y, r[i + 1].x, r[i + 1].y});
                owner.push_back(static_cast<int>(k));
            }
        };
        for (const auto& poly : shapes[k]) {
            add_ring(poly.exterior);
            for (const auto& h : poly.holes) add_ring(h);
        }
    }
    struct Entry {
        std::uint64_t cell;
        std::uint32_t owner;  // kept here: the sort compares it without chasing owner[seg]
        std::uint32_t seg;
    };
    std::vector<Entry> entries;
    entries.reserve(segs.size() * 3);
    // Any cell size is correct (grown boxes that meet share a cell); efficient is about the
    // typical segment, and never below the tolerance.
    double cell = distance, half = distance / 2;
    if (!segs.empty()) {
        std::vector<double> lengths;
        for (std::size_t i = 0; i < segs.size(); i += std::max<std::size_t>(1, segs.size() / 4096))
            lengths.push_back(std::max(std::fabs(segs[i][2] - segs[i][0]), std::fabs(segs[i][3] - segs[i][1])));
        std::nth_element(lengths.begin(), lengths.begin() + static_cast<long>(lengths.size() / 2), lengths.end());
        cell = std::max(distance, lengths[lengths.size() / 2]);
    }
    auto key = [](std::int64_t cx, std::int64_t cy) {
        return (static_cast<std::uint64_t>(cx + (1LL << 31)) << 32) | static_cast<std::uint64_t>(cy + (1LL << 31));
    };
    for (std::size_t i = 0; i < segs.size(); ++i) {
        const auto& s = segs[i];
        auto x0 = static_cast<std::int64_t>(std::floor((std::min(s[0], s[2]) - half) / cell));
        auto x1 = static_cast<std::int64_t>(std::floor((std::max(s[0], s[2]) + half) / cell));
        auto y0 = static_cast<std::int64_t>(std::floor((std::min(s[1], s[3]) - half) / cell));
        auto y1 = static_cast<std::int64_t>(std::floor((std::max(s[1], s[3]) + half) / cell));
        for (auto cx = x0; cx <= x1; ++cx)
            for (auto cy = y0; cy <= y1; ++cy)
                entries.push_back({key(cx, cy), static_cast<std::uint32_t>(owner[i]), static_cast<std::uint32_t>(i)});
    }
    // Sorted by cell, then owner.
    auto by_cell = [](const Entry& a, const Entry& b) {
        return a.cell < b.cell || (a.cell == b.cell && a.owner < b.owner);
    };
    sort_on_two_cores(entries, by_cell);
    // Cell groups holding more than one owner, split between the cores.
    std::vector<std::pair<std::size_t, std::size_t>> groups;
    for (std::size_t i = 0; i < entries.size();) {
        std::size_t j = i;
        while (j < entries.size() && entries[j].cell == entries[i].cell) ++j;
        if (entries[i].owner != entries[j - 1].owner) groups.emplace_back(i, j);
        i = j;
    }
    unsigned threads = std::max(1u, std::min(2u, std::thread::hardware_concurrency()));
    std::vector<std::vector<std::pair<int, int>>> found(threads);
    double d2 = distance * distance;
    auto work = [&](unsigned t) {
        auto& out = found[t];
        std::set<std::pair<int, int>> linked;  // this thread's finds, to skip their other cells
        std::vector<std::size_t> runs;
        for (std::size_t g = t; g < groups.size(); g += threads) {
            auto [b, e] = groups[g];
            // Runs of one owner each (entries are sorted by owner within a cell).
            runs.clear();
            for (std::size_t x = b; x < e; ++x)
                if (x == b || entries[x].owner != entries[x - 1].owner) runs.push_back(x);
            runs.push_back(e);
            for (std::size_t r = 0; r + 1 < runs.size(); ++r) {
                for (std::size_t q = r + 1; q + 1 < runs.size(); ++q) {
                    int a = static_cast<int>(entries[runs[r]].owner), c = static_cast<int>(entries[runs[q]].owner);
                    std::pair<int, int> pair(std::min(a, c), std::max(a, c));
                    if (std::binary_search(known.begin(), known.end(), pair) || linked.count(pair)) continue;
                    bool hit = false;
                    for (std::size_t x = runs[r]; x < runs[r + 1] && !hit; ++x)
                        for (std::size_t y = runs[q]; y < runs[q + 1] && !hit; ++y)
                            hit = segment_d2(segs[entries[x].seg].data(), segs[entries[y].seg].data()) <= d2;
                    if (hit) {
                        linked.insert(pair);
                        out.push_back(pair);
                    }
                }
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
    for (auto& f : found) links.insert(links.end(), f.begin(), f.end());
}

}  // namespace

void summarize(AdjacencyGraph& g) {
    std::vector<int> parent(g.areas);
    std::iota(parent.begin(), parent.end(), 0);
    std::function<int(int)> find = [&](int x) {
        while (parent[x] != x) x = parent[x] = parent[parent[x]];
        return x;
    };
    std::vector<int> degree(g.areas, 0);
    for (auto [a, b] : g.links) {
        ++degree[a];
        ++degree[b];
        parent[find(a)] = find(b);
    }
    g.islands = static_cast<std::size_t>(std::count(degree.begin(), degree.end(), 0));
    g.component.assign(g.areas, -1);
    std::vector<int> id_of_root(g.areas, -1);
    int next = 0;
    for (std::size_t i = 0; i < g.areas; ++i) {
        int r = find(static_cast<int>(i));
        if (id_of_root[r] < 0) id_of_root[r] = next++;
        g.component[i] = id_of_root[r];
    }
    g.components = static_cast<std::size_t>(next);
}

AdjacencyGraph build_adjacency(std::vector<MultiPolygon> shapes, const AdjacencyParams& params) {
    AdjacencyGraph g;
    g.areas = shapes.size();
    // Exact modes hash the rings as they are: a shared vertex or edge is well defined even on
    // a self-intersecting ring, and repairing would move vertices (make-valid adds nodes and
    // drops repeated points), so nothing is repaired there. Only shapes without any ring of
    // three distinct points are set aside (and counted) as islands.
    for (auto& s : shapes) {
        bool usable = false;
        for (const auto& poly : s) {
            std::size_t distinct = 0;
            for (std::size_t i = 0; i < poly.exterior.size(); ++i)
                if (i == 0 || poly.exterior[i].x != poly.exterior[i - 1].x ||
                    poly.exterior[i].y != poly.exterior[i - 1].y)
                    ++distinct;
            usable |= distinct >= 3;
        }
        if (!usable) {
            s.clear();
            ++g.empty;
        }
    }
    exact_pairs(shapes, params.mode, g.links);
    double distance = params.tolerance;
    if (params.tolerance_m > 0) {
        if (params.geographic) {
            // Metres to degrees at the data's mean latitude, using the longitude scale (the
            // smaller one), so no pair within the tolerance is missed.
            BBox all;
            for (const auto& s : shapes) all.expand(bounds(s));
            double lat = all.empty() ? 0 : (all.miny + all.maxy) / 2;
            distance = params.tolerance_m / (111319.49 * std::max(0.05, std::cos(lat * M_PI / 180)));
        } else {
            distance = params.tolerance_m;
        }
    }
    if (distance > 0) {
        for (auto& l : g.links)
            if (l.first > l.second) std::swap(l.first, l.second);
        fuzzy_pairs(shapes, distance, g.links);
    }
    for (auto& l : g.links)
        if (l.first > l.second) std::swap(l.first, l.second);
    std::sort(g.links.begin(), g.links.end());
    g.links.erase(std::unique(g.links.begin(), g.links.end()), g.links.end());
    summarize(g);
    return g;
}

PolygonSource read_polygons(const std::string& source, const std::string& layer_name) {
    ensure_gdal();
    DatasetPtr ds(GDALDataset::FromHandle(GDALOpenEx(source.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr)));
    if (!ds) throw format_error(source, "", std::string("cannot open: ") + CPLGetLastErrorMsg());
    OGRLayer* layer = layer_name.empty() ? ds->GetLayer(0) : ds->GetLayerByName(layer_name.c_str());
    if (!layer) throw format_error(source, "", "no layer " + layer_name);
    PolygonSource out;
    if (const auto* srs = layer->GetSpatialRef()) out.geographic = srs->IsGeographic();
    layer->ResetReading();
    while (auto f = own(layer->GetNextFeature())) {
        auto shape = from_ogr_polygons(f->GetGeometryRef());
        if (shape.empty()) ++out.non_polygonal;
        out.shapes.push_back(std::move(shape));
        out.fids.push_back(f->GetFID());
    }
    return out;
}

}  // namespace covermap::geo
