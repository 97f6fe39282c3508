// Contiguity: exact queen and rook, and fuzzy contiguity checked against a brute-force oracle
// (GEOS distances between every pair, through OGR) on random and quantized layers, in plane
// units and in degrees at high and low latitudes (the oracle measures in an azimuthal
// equidistant projection made by PROJ around each layer).

#include "covermap/geo/adjacency.hpp"

#include <gtest/gtest.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <set>

#include "support.hpp"

using namespace covermap::geo;
using covermap::test::square;

namespace {

using Pairs = std::set<std::pair<int, int>>;

std::vector<MultiPolygon> grid3x3() {
    std::vector<MultiPolygon> s;
    for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 3; ++x) s.push_back(square(x, y, 1));
    return s;
}

Pairs links_of(const std::vector<MultiPolygon>& shapes, Contiguity mode, double tolerance, bool geographic,
               bool touch = false, unsigned threads = 0) {
    AdjacencyParams p;
    p.mode = mode;
    p.tolerance_m = tolerance;
    p.geographic = geographic;
    p.touch = touch;
    p.threads = threads;
    auto g = build_adjacency(shapes, p);
    return Pairs(g.links.begin(), g.links.end());
}

std::unique_ptr<OGRGeometry> to_ogr(const MultiPolygon& shape) {
    auto mp = std::make_unique<OGRMultiPolygon>();
    for (const auto& poly : shape) {
        OGRPolygon p;
        auto ring = [](const Ring& r) {
            auto lr = std::make_unique<OGRLinearRing>();
            for (const auto& pt : r) lr->addPoint(pt.x, pt.y);
            lr->closeRings();
            return lr;
        };
        p.addRingDirectly(ring(poly.exterior).release());
        for (const auto& h : poly.holes) p.addRingDirectly(ring(h).release());
        mp->addGeometry(&p);
    }
    return mp;
}

// A star-shaped polygon (valid) around c, vertices snapped to a lattice of `step`.
MultiPolygon star(std::mt19937& rng, Point c, double r0, double r1, double step) {
    std::uniform_real_distribution<double> radius(r0, r1);
    std::uniform_int_distribution<int> count(5, 14);
    int n = count(rng);
    Ring ring;
    for (int i = 0; i < n; ++i) {
        double a = 2 * M_PI * i / n, r = radius(rng);
        double x = c.x + r * std::cos(a), y = c.y + r * std::sin(a);
        if (step > 0) x = std::round(x / step) * step, y = std::round(y / step) * step;
        ring.push_back({x, y});
    }
    ring.push_back(ring.front());
    return {Polygon{ring, {}}};
}

// A jittered mesh of quads whose shared edges are densified, then each cell's vertices
// snapped to the lattice its own way (floor or ceil): neighbours no longer share vertices
// and their borders run within a lattice step, like the quantized county borders.
std::vector<MultiPolygon> quantized_mesh(std::mt19937& rng, int nx, int ny, double cell, double step) {
    std::uniform_real_distribution<double> jitter(-0.25 * cell, 0.25 * cell);
    std::vector<Point> mesh((nx + 1) * (ny + 1));
    for (int j = 0; j <= ny; ++j)
        for (int i = 0; i <= nx; ++i) mesh[j * (nx + 1) + i] = {i * cell + jitter(rng), j * cell + jitter(rng)};
    std::vector<MultiPolygon> cells;
    std::bernoulli_distribution up(0.5);
    for (int j = 0; j < ny; ++j)
        for (int i = 0; i < nx; ++i) {
            Point corners[4] = {mesh[j * (nx + 1) + i], mesh[j * (nx + 1) + i + 1], mesh[(j + 1) * (nx + 1) + i + 1],
                                mesh[(j + 1) * (nx + 1) + i]};
            bool ceil_x = up(rng), ceil_y = up(rng);
            auto snap = [&](double v, bool c) { return (c ? std::ceil(v / step) : std::floor(v / step)) * step; };
            Ring r;
            for (int k = 0; k < 4; ++k) {
                Point a = corners[k], b = corners[(k + 1) % 4];
                for (int s = 0; s < 5; ++s) {
                    double f = s / 5.0;
                    r.push_back({snap(a.x + (b.x - a.x) * f, ceil_x), snap(a.y + (b.y - a.y) * f, ceil_y)});
                }
            }
            r.push_back(r.front());
            cells.push_back({Polygon{r, {}}});
        }
    return cells;
}

// The oracle: every pair whose GEOS distance is within the tolerance, and the pairs too
// close to the tolerance to call (|d - t| <= band), which the comparison skips.
struct Oracle {
    Pairs within, unsure;
};
Oracle oracle(const std::vector<MultiPolygon>& shapes, double tolerance, double band) {
    std::vector<std::unique_ptr<OGRGeometry>> g;
    for (const auto& s : shapes) g.push_back(to_ogr(s));
    Oracle o;
    for (int a = 0; a < static_cast<int>(g.size()); ++a)
        for (int b = a + 1; b < static_cast<int>(g.size()); ++b) {
            double d = tolerance == 0 ? (g[a]->Intersects(g[b].get()) ? 0.0 : 1.0) : g[a]->Distance(g[b].get());
            if (std::fabs(d - tolerance) <= band && tolerance > 0)
                o.unsure.insert({a, b});
            else if (d <= tolerance)
                o.within.insert({a, b});
        }
    return o;
}

void expect_matches(const Pairs& got, const Oracle& o, const std::string& what) {
    for (const auto& p : o.within) EXPECT_TRUE(got.count(p)) << what << ": missed " << p.first << "-" << p.second;
    for (const auto& p : got)
        EXPECT_TRUE(o.within.count(p) || o.unsure.count(p)) << what << ": false link " << p.first << "-" << p.second;
}

// Shapes made in metres around (lon0, lat0) in an azimuthal equidistant projection, taken to
// degrees by PROJ: distances in the metric version are the truth for the degree version.
std::vector<MultiPolygon> to_degrees(const std::vector<MultiPolygon>& metric, double lon0, double lat0) {
    OGRSpatialReference aeqd, wgs;
    aeqd.SetFromUserInput(
        ("+proj=aeqd +lat_0=" + std::to_string(lat0) + " +lon_0=" + std::to_string(lon0) + " +datum=WGS84 +units=m")
            .c_str());
    wgs.SetWellKnownGeogCS("WGS84");
    wgs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    aeqd.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&aeqd, &wgs));
    auto out = metric;
    for (auto& shape : out)
        for (auto& poly : shape) {
            auto move = [&](Ring& r) {
                for (auto& p : r) ct->Transform(1, &p.x, &p.y);
            };
            move(poly.exterior);
            for (auto& h : poly.holes) move(h);
        }
    return out;
}

}  // namespace

TEST(Adjacency, QueenAndRookOnAGrid) {
    AdjacencyParams p;
    p.geographic = false;
    p.mode = Contiguity::rook;
    auto rook = build_adjacency(grid3x3(), p);
    EXPECT_EQ(rook.links.size(), 12u);
    p.mode = Contiguity::queen;
    auto queen = build_adjacency(grid3x3(), p);
    EXPECT_EQ(queen.links.size(), 20u);  // 12 edges + 8 diagonal corners
    EXPECT_EQ(queen.islands, 0u);
    EXPECT_EQ(queen.components, 1u);
    for (auto [a, b] : queen.links) EXPECT_LT(a, b);
    EXPECT_TRUE(std::is_sorted(queen.links.begin(), queen.links.end()));
}

TEST(Adjacency, IslandsComponentsAndTolerance) {
    auto shapes = grid3x3();
    shapes.push_back(square(10, 10, 1));     // an island
    shapes.push_back(square(3.0004, 0, 1));  // 0.0004 away from square 2: not touching
    AdjacencyParams p;
    p.geographic = false;
    auto exact = build_adjacency(shapes, p);
    EXPECT_EQ(exact.islands, 2u);
    EXPECT_EQ(exact.components, 3u);
    p.tolerance_m = 0.001;  // planar units here
    auto fuzzy = build_adjacency(shapes, p);
    EXPECT_EQ(fuzzy.islands, 1u);
    EXPECT_EQ(fuzzy.components, 2u);
    EXPECT_TRUE(std::count(fuzzy.links.begin(), fuzzy.links.end(), std::make_pair(2, 10)) == 1);
}

TEST(Adjacency, DirtyPolygonsNeverCrash) {
    std::vector<MultiPolygon> shapes = grid3x3();
    shapes.push_back({Polygon{{{0, 3}, {1, 4}, {1, 3}, {0, 4}, {0, 3}}, {}}});  // bow-tie touching square 6
    shapes.push_back({Polygon{{{5, 5}, {6, 6}}, {}}});                          // two-point ring
    shapes.push_back({});                                                       // empty
    shapes.push_back({Polygon{{{2, 3}, {2, 3}, {2, 3}, {2, 3}}, {}}});          // a collapsed ring
    shapes.push_back({Polygon{{{7, 7}, {8, 7}, {8, 8}, {7, 8}}, {}}});          // a ring left open
    shapes.push_back(square(8, 7, 1));  // shares the open ring's implied closing edge
    AdjacencyParams p;
    p.geographic = false;
    p.tolerance_m = 0.01;
    auto g = build_adjacency(shapes, p);
    EXPECT_EQ(g.areas, shapes.size());
    EXPECT_EQ(g.empty, 3u);  // two-point ring, empty, collapsed ring
    EXPECT_EQ(g.islands, 3u);
    // The (invalid) bow-tie still touches the grid's top row.
    bool linked = false;
    for (auto [a, b] : g.links) linked |= (b == 9 && (a == 6 || a == 7));
    EXPECT_TRUE(linked);
    EXPECT_TRUE(std::count(g.links.begin(), g.links.end(), std::make_pair(13, 14)));
}

TEST(Adjacency, FuzzyQueenMatchesBruteForceOnRandomLayers) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> at(0, 10);
    for (int layer = 0; layer < 4; ++layer) {
        std::vector<MultiPolygon> shapes;
        double step = layer % 2 ? 1.0 / 64 : 0;  // half of them on a lattice
        for (int i = 0; i < 60; ++i) shapes.push_back(star(rng, {at(rng), at(rng)}, 0.2, 0.9, step));
        for (double t : {0.0, 0.01, 0.05, 0.2, 1.0}) {
            auto what = "layer " + std::to_string(layer) + " tolerance " + std::to_string(t);
            auto o = oracle(shapes, t, 1e-9);
            EXPECT_FALSE(o.within.empty());
            expect_matches(links_of(shapes, Contiguity::queen, t, false, t == 0, 1), o, what);
            EXPECT_EQ(links_of(shapes, Contiguity::queen, t, false, t == 0, 1),
                      links_of(shapes, Contiguity::queen, t, false, t == 0, 2))
                << what << ": one core and two differ";
        }
    }
}

TEST(Adjacency, FuzzyQueenMatchesBruteForceOnQuantizedBorders) {
    std::mt19937 rng(11);
    auto cells = quantized_mesh(rng, 8, 7, 1.0, 1.0 / 32);
    // Exact: snapped each its own way, few neighbours keep a shared vertex.
    auto exact = links_of(cells, Contiguity::queen, 0, false);
    for (double t : {0.0, 1.0 / 64, 1.0 / 32, 1.0 / 16, 0.3}) {
        auto o = oracle(cells, t, 1e-9);
        auto got = links_of(cells, Contiguity::queen, t, false, t == 0);
        expect_matches(got, o, "tolerance " + std::to_string(t));
        for (const auto& p : exact) EXPECT_TRUE(got.count(p)) << "exact link lost at " << t;
    }
    // Within two lattice steps every mesh neighbour (sharing a mesh edge) is linked again.
    auto fuzzy = links_of(cells, Contiguity::queen, 2.0 / 32, false);
    for (int j = 0; j < 7; ++j)
        for (int i = 0; i < 8; ++i) {
            int c = j * 8 + i;
            if (i + 1 < 8) {
                EXPECT_TRUE(fuzzy.count({c, c + 1}));
            }
            if (j + 1 < 7) {
                EXPECT_TRUE(fuzzy.count({c, c + 8}));
            }
        }
}

TEST(Adjacency, MetresHoldAtHighAndLowLatitudes) {
    // The same layer, made in metres, placed at 53° N and at 18° N (a mean latitude would
    // make one of them wrong), compared with the GEOS distances in metres.
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> at(0, 20000);
    std::vector<MultiPolygon> metric;
    for (int i = 0; i < 50; ++i) metric.push_back(star(rng, {at(rng) - 10000, at(rng) - 10000}, 400, 2500, 0));
    auto north = to_degrees(metric, 124.0, 53.0), south = to_degrees(metric, 109.5, 18.3);
    std::vector<MultiPolygon> both(north);
    both.insert(both.end(), south.begin(), south.end());
    for (double t : {1.0, 10.0, 100.0, 1000.0}) {
        auto o = oracle(metric, t, t * 0.01);  // 1 %: straight in degrees is not quite straight in metres
        auto got = links_of(both, Contiguity::queen, t, true);
        Pairs n, s;
        for (auto [a, b] : got) {
            ASSERT_EQ(a < 50, b < 50) << "a link between the two places";
            (a < 50 ? n : s).insert({a % 50, b % 50});
        }
        expect_matches(n, o, "53° N, " + std::to_string(t) + " m");
        expect_matches(s, o, "18° N, " + std::to_string(t) + " m");
    }
}

TEST(Adjacency, JustUnderLinksJustOverDoesNot) {
    // Squares 1 km wide with an east-west gap and a north-south gap of 98 % and 102 % of the
    // tolerance, made in metres at 53° N and 18° N.
    for (double lat : {53.0, 18.3})
        for (double t : {1.0, 100.0, 1000.0}) {
            std::vector<MultiPolygon> metric = {square(0, 0, 1000), square(1000 + 0.98 * t, 0, 1000),
                                                square(0, 1000 + 1.02 * t, 1000), square(-1000 - 1.02 * t, 0, 1000),
                                                square(0, -1000 - 0.98 * t, 1000)};
            auto got = links_of(to_degrees(metric, 120, lat), Contiguity::queen, t, true);
            auto what = std::to_string(lat) + "° " + std::to_string(t) + " m";
            EXPECT_TRUE(got.count({0, 1})) << what << ": east, 98 %";
            EXPECT_FALSE(got.count({0, 2})) << what << ": north, 102 %";
            EXPECT_FALSE(got.count({0, 3})) << what << ": west, 102 %";
            EXPECT_TRUE(got.count({0, 4})) << what << ": south, 98 %";
        }
}

TEST(Adjacency, RookWithToleranceStaysRook) {
    // Diagonal neighbours of a grid only meet at corners: rook never links them, at distance
    // 0 (touch) or within any tolerance below the cells' size.
    auto grid = grid3x3();
    for (double t : {0.0, 0.001, 0.1, 0.3}) {
        auto rook = links_of(grid, Contiguity::rook, t, false, t == 0);
        EXPECT_EQ(rook.size(), 12u) << t;
        EXPECT_FALSE(rook.count({0, 4})) << t;
        auto queen = links_of(grid, Contiguity::queen, t, false, t == 0);
        EXPECT_EQ(queen.size(), 20u) << t;
    }
    // Borders that run together with a gap link; corners with a gap do not.
    std::vector<MultiPolygon> shapes = {square(0, 0, 1), square(1.004, 0.2, 1), square(1.003, 1.003, 1)};
    auto rook = links_of(shapes, Contiguity::rook, 0.01, false);
    EXPECT_TRUE(rook.count({0, 1}));   // side by side, 0.004 apart along 0.8
    EXPECT_FALSE(rook.count({0, 2}));  // corner to corner, 0.0042 apart
    EXPECT_TRUE(links_of(shapes, Contiguity::queen, 0.01, false).count({0, 2}));
    // A short shared edge still links (exact rook is kept).
    Ring a = {{0, 0}, {1, 0}, {1, 0.5}, {1, 0.5005}, {1, 1}, {0, 1}, {0, 0}};
    Ring b = {{1, 0.5}, {2, 0.5}, {2, 0.5005}, {1, 0.5005}, {1, 0.5}};
    std::vector<MultiPolygon> stub = {{Polygon{a, {}}}, {Polygon{b, {}}}};
    EXPECT_TRUE(links_of(stub, Contiguity::rook, 0.01, false).count({0, 1}));
}

TEST(Adjacency, NestedShapesAreAtDistanceZero) {
    // A shape inside another's area without touching its border: queen within any tolerance
    // (they overlap); not exact (no shared vertex) and not rook (no border in common).
    std::vector<MultiPolygon> shapes = {square(0, 0, 10), square(4, 4, 1)};
    EXPECT_TRUE(links_of(shapes, Contiguity::queen, 0.001, false).count({0, 1}));
    EXPECT_TRUE(links_of(shapes, Contiguity::queen, 0, false, true).count({0, 1}));
    EXPECT_FALSE(links_of(shapes, Contiguity::queen, 0, false).count({0, 1}));
    EXPECT_FALSE(links_of(shapes, Contiguity::rook, 0.001, false).count({0, 1}));
    // In a hole instead: apart.
    shapes[0][0].holes.push_back({{3, 3}, {6, 3}, {6, 6}, {3, 6}, {3, 3}});
    EXPECT_FALSE(links_of(shapes, Contiguity::queen, 0.001, false).count({0, 1}));
}
