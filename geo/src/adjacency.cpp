#include "covermap/geo/adjacency.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <tuple>
#include <cmath>
#include <numeric>
#include <thread>

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
    std::sort(keys.begin(), keys.end(), [](const auto& x, const auto& y) {
        return x.first < y.first || (x.first == y.first && x.second < y.second);
    });
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

// Pairs within distance, from an STRtree of boxes grown by the distance and prepared shapes;
// the candidate pairs are split between the cores (each thread its own GEOS objects).
void fuzzy_pairs(const std::vector<MultiPolygon>& shapes, double distance, std::vector<std::pair<int, int>>& links) {
    std::vector<BBox> boxes(shapes.size());
    for (std::size_t i = 0; i < shapes.size(); ++i) boxes[i] = bounds(shapes[i]);
    // Candidate pairs by box overlap (grown by distance): sort-and-sweep on minx.
    std::vector<int> order(shapes.size());
    std::iota(order.begin(), order.end(), 0);
    order.erase(std::remove_if(order.begin(), order.end(), [&](int i) { return boxes[i].empty(); }), order.end());
    std::sort(order.begin(), order.end(), [&](int a, int b) { return boxes[a].minx < boxes[b].minx; });
    std::vector<std::pair<int, int>> candidates;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const auto& bi = boxes[order[i]];
        for (std::size_t j = i + 1; j < order.size() && boxes[order[j]].minx <= bi.maxx + distance; ++j) {
            const auto& bj = boxes[order[j]];
            if (bj.miny > bi.maxy + distance || bj.maxy < bi.miny - distance) continue;
            int a = order[i], b = order[j];
            candidates.emplace_back(std::min(a, b), std::max(a, b));
        }
    }
    unsigned threads = std::max(1u, std::min(2u, std::thread::hardware_concurrency()));
    std::vector<std::vector<std::pair<int, int>>> found(threads);
    auto work = [&](unsigned t) {
        auto* ctx = geos();
        std::vector<GeomPtr> geoms(shapes.size());
        std::vector<PreparedPtr> prepared(shapes.size());
        for (std::size_t c = t; c < candidates.size(); c += threads) {
            auto [a, b] = candidates[c];
            for (int i : {a, b})
                if (!geoms[i]) {
                    geoms[i] = to_geos(shapes[i]);
                    prepared[i].reset(GEOSPrepare_r(ctx, geoms[i].get()));
                }
            if (GEOSPreparedDistanceWithin_r(ctx, prepared[a].get(), geoms[b].get(), distance) == 1)
                found[t].emplace_back(a, b);
        }
    };
    if (threads == 1 || candidates.size() < 2000) {
        threads = 1;
        found.resize(1);
        work(0);
    } else {
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work, t);
        for (auto& th : pool) th.join();
    }
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
    for (auto& s : shapes) {
        if (s.empty()) {
            ++g.empty;
            continue;
        }
        try {
            if (!is_valid(s)) {
                s = make_valid(s);
                ++g.repaired;
                if (s.empty()) ++g.empty;
            }
        } catch (const error&) {
            s.clear();  // GEOS could not even read it: an island, counted
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
    if (distance > 0) fuzzy_pairs(shapes, distance, g.links);
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
