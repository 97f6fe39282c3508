#include "covermap/geo/geometry.hpp"

#include <gtest/gtest.h>
#include <ogr_geometry.h>

#include <cmath>
#include <memory>
#include <optional>
#include <random>

#include "covermap/geo/error.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "support.hpp"

using namespace covermap::geo;
using covermap::test::square;

TEST(Geometry, BowTieIsRepairedIntoTwoTriangles) {
    MultiPolygon bowtie = {Polygon{{{0, 0}, {2, 2}, {2, 0}, {0, 2}, {0, 0}}, {}}};
    std::string reason;
    EXPECT_FALSE(is_valid(bowtie, &reason));
    EXPECT_NE(reason.find("Self-intersection"), std::string::npos) << reason;
    auto fixed = make_valid(bowtie);
    EXPECT_TRUE(is_valid(fixed));
    EXPECT_EQ(fixed.size(), 2u);
    EXPECT_NEAR(planar_area(fixed), 2.0, 1e-12);  // two triangles of area 1
}

TEST(Geometry, TwoPointRingLeavesNoArea) {
    MultiPolygon degenerate = {Polygon{{{0, 0}, {1, 1}}, {}}};
    EXPECT_FALSE(is_valid(degenerate));
    EXPECT_TRUE(make_valid(degenerate).empty());
}

TEST(Geometry, VoronoiSplitTilesTheParent) {
    MultiPolygon parent = {Polygon{{{0, 0}, {10, 0}, {10, 6}, {4, 10}, {0, 6}, {0, 0}}, {}}};
    std::vector<Point> seeds = {{1, 1}, {8, 2}, {5, 5}, {2, 7}, {7, 7}};
    auto pieces = voronoi_split(parent, seeds);
    ASSERT_EQ(pieces.size(), seeds.size());
    double sum = 0;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        ASSERT_FALSE(pieces[i].empty());
        EXPECT_TRUE(covers(pieces[i], seeds[i])) << "piece " << i << " must hold its seed";
        sum += planar_area(pieces[i]);
    }
    double whole = planar_area(parent);
    EXPECT_NEAR(sum, whole, 1e-9 * whole);                             // no overlaps
    EXPECT_NEAR(planar_area(union_all(pieces)), whole, 1e-9 * whole);  // no gaps
}

TEST(Geometry, HaversineKnownDistance) {
    // One degree of latitude on the mean sphere: 2πR/360.
    EXPECT_NEAR(haversine_m({123, 42}, {123, 43}), 2 * M_PI * 6371008.8 / 360, 1e-6);
    EXPECT_NEAR(haversine_m({0, 0}, {0, 0}), 0.0, 1e-12);
}

TEST(SpatialIndex, LocatesPointsAndBorders) {
    MultiPolygon a = square(0, 0, 1), b = square(1, 0, 1);
    std::vector<const MultiPolygon*> shapes = {&a, &b};
    PolygonIndex index(shapes);
    EXPECT_EQ(index.locate({0.5, 0.5}), 0u);
    EXPECT_EQ(index.locate({1.5, 0.5}), 1u);
    EXPECT_TRUE(index.locate({1.0, 0.5}).has_value());  // on the shared border: one of them
    EXPECT_FALSE(index.locate({3, 3}).has_value());
    auto hits = locate_points(shapes, {{0.5, 0.5}, {1.5, 0.2}, {-1, -1}});
    EXPECT_EQ(hits, (std::vector<int>{0, 1, -1}));
}

namespace {

std::unique_ptr<OGRGeometry> to_ogr(const MultiPolygon& shape) {
    auto out = std::make_unique<OGRMultiPolygon>();
    for (const auto& poly : shape) {
        OGRPolygon p;
        auto ring = [](const Ring& r) {
            auto lr = new OGRLinearRing;
            for (auto q : r) lr->addPoint(q.x, q.y);
            return lr;
        };
        p.addRingDirectly(ring(poly.exterior));
        for (const auto& h : poly.holes) p.addRingDirectly(ring(h));
        out->addGeometry(&p);
    }
    return out;
}

Ring box_ring(double x0, double y0, double x1, double y1, bool clockwise) {
    Ring r = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}};
    if (clockwise) std::reverse(r.begin(), r.end());
    return r;
}

}  // namespace

// The oracle: the first shape in order that GEOS (through OGR) says the point intersects, over
// every shape. Small cells (the winding test) and large many-sided shapes (GEOS prepared) in
// one layer, both ring orientations, holes, a two-part shape, overlaps, and points on borders,
// corners and hole borders as well as random ones; through locate and through the threaded
// locate_points.
void expect_agreement_with_geos(bool far_outlier) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> unit(0, 1);
    std::vector<MultiPolygon> shapes;
    for (int i = 0; i < 12; ++i)
        for (int j = 0; j < 12; ++j) {
            Polygon p{box_ring(i, j, i + 1, j + 1, (i + j) % 2 == 0), {}};
            if ((i * 7 + j) % 5 == 0) p.holes.push_back(box_ring(i + 0.25, j + 0.25, i + 0.75, j + 0.5, i % 2 == 0));
            shapes.push_back({p});
        }
    auto disc = [](double cx, double cy, double r, int sides) {
        Ring ring;
        for (int k = 0; k <= sides; ++k) {
            double a = 2 * M_PI * (k % sides) / sides;
            ring.push_back({cx + r * std::cos(a), cy + r * std::sin(a)});
        }
        return ring;
    };
    shapes.push_back({Polygon{disc(3.3, 4.1, 2.2, 200), {disc(3.3, 4.1, 0.7, 90)}}});  // large, with a hole
    shapes.push_back({Polygon{disc(9.5, 9.5, 1.6, 120), {}}, Polygon{box_ring(13, 0, 14, 1, false), {}}});
    shapes.push_back({Polygon{box_ring(20, 20, 21, 21, false), {}}});  // far away, nothing near
    // Much farther: the grid of buckets over them all would be crowded; the R-tree serves.
    if (far_outlier) shapes.push_back({Polygon{box_ring(900, 700, 901, 701, true), {}}});
    std::shuffle(shapes.begin(), shapes.end(), rng);
    ASSERT_GT(shapes.size(), 140u);

    std::vector<Point> points;
    for (int i = 0; i <= 24; ++i)
        for (int j = 0; j <= 24; ++j) points.push_back({i * 0.5, j * 0.5});  // corners, borders, centres
    for (const auto& shape : shapes)
        for (const auto& poly : shape) {
            for (auto q : poly.exterior) points.push_back(q);
            for (const auto& h : poly.holes) points.push_back(h[1]);
        }
    points.push_back({13.5, 1.0});  // the two-part shape's far part, on its border
    while (points.size() < 30000) points.push_back({unit(rng) * 15 - 0.5, unit(rng) * 15 - 0.5});

    std::vector<std::unique_ptr<OGRGeometry>> ogr;
    for (const auto& s : shapes) ogr.push_back(to_ogr(s));
    std::vector<const MultiPolygon*> refs;
    for (const auto& s : shapes) refs.push_back(&s);
    PolygonIndex index(refs);
    auto threaded = locate_points(refs, points);
    ASSERT_EQ(threaded.size(), points.size());
    int inside = 0;
    for (std::size_t k = 0; k < points.size(); ++k) {
        OGRPoint pt(points[k].x, points[k].y);
        std::optional<std::size_t> expected;
        for (std::size_t i = 0; i < ogr.size() && !expected; ++i)
            if (ogr[i]->Intersects(&pt)) expected = i;
        inside += expected.has_value();
        ASSERT_EQ(index.locate(points[k]), expected) << points[k].x << " " << points[k].y;
        ASSERT_EQ(threaded[k], expected ? static_cast<int>(*expected) : -1) << points[k].x << " " << points[k].y;
    }
    EXPECT_GT(inside, 15000);                                  // most points are in something
    EXPECT_LT(inside, static_cast<int>(points.size()) - 500);  // and some in holes or outside
}

TEST(SpatialIndex, AgreesWithGeosOnEveryPoint) { expect_agreement_with_geos(false); }
TEST(SpatialIndex, AgreesWithGeosOnEveryPointWithAnAreaFarFromTheRest) { expect_agreement_with_geos(true); }

// Streets found from where organizations lie at a finer level are the streets found directly:
// on the demo (cells that straddle streets, cells inside one), from cells, communities and
// parks (which do not nest in streets).
TEST(SpatialIndex, LocatingFromAFinerLevelGivesTheSameAreasOnTheDemo) {
    const auto& d = covermap::test::demo_dataset(1);
    auto streets = locate_orgs(d, Level::street);
    for (Level finer : {Level::grid, Level::community, Level::park})
        EXPECT_EQ(locate_orgs(d, Level::street, locate_orgs(d, finer)), streets) << to_string(finer);
    EXPECT_EQ(locate_orgs(d, Level::district, locate_orgs(d, Level::street)), locate_orgs(d, Level::district));
}

// The rule at its edges: street A (first in order) and B share the border x = 1; street C,
// listed before B, overlaps part of B. A cell strictly inside B hands B to its organizations;
// a cell touching the shared border, or straddling it, or overlapped by C, does not, and its
// organizations are tested one by one: the one on the shared border goes to A, the first.
TEST(SpatialIndex, LocatingFromAFinerLevelKeepsTheFirstAreaOnBorders) {
    Dataset d;
    auto area = [&](std::string code, Level level, MultiPolygon shape) {
        d.areas.push_back({std::move(code), "区域", level, "", std::move(shape)});
    };
    area("A", Level::street, square(0, 0, 1));
    area("C", Level::street, square(1.6, 0.6, 0.4));
    area("B", Level::street, square(1, 0, 1));
    area("inside-B", Level::grid, square(1.2, 0.1, 0.2));     // strictly inside B only
    area("touching", Level::grid, square(1.0, 0.4, 0.2));     // inside B, on A's border
    area("straddling", Level::grid, square(0.9, 0.7, 0.2));   // across the border
    area("under-C", Level::grid, square(1.65, 0.65, 0.2));    // inside B, and C over it
    auto org = [&](double x, double y) {
        Organization o;
        o.id = std::to_string(d.orgs.size());
        o.location = {x, y};
        d.orgs.push_back(o);
    };
    org(1.3, 0.2);    // inside-B
    org(1.0, 0.5);    // touching, on the shared border: A comes first
    org(1.1, 0.5);    // touching, inside B
    org(0.95, 0.8);   // straddling, in A
    org(1.05, 0.8);   // straddling, in B
    org(1.7, 0.7);    // under-C: C comes before B
    org(1.5, 1.5);    // in no cell, no street
    org(0.5, 0.5);    // in no cell, in A
    auto grid = locate_orgs(d, Level::grid);
    ASSERT_EQ(grid, (std::vector<int>{3, 4, 4, 5, 5, 6, -1, -1}));
    auto direct = locate_orgs(d, Level::street);
    EXPECT_EQ(direct, (std::vector<int>{2, 0, 2, 0, 2, 1, -1, 0}));
    EXPECT_EQ(locate_orgs(d, Level::street, grid), direct);
    // Where the finer answers do not fit the organizations, they are not used.
    EXPECT_EQ(locate_orgs(d, Level::street, std::vector<int>{3}), direct);
}

// Issue #25 row 5: a repair of a huge self-intersecting ring could run for minutes; a cancel
// predicate (a deadline, SIGTERM) now stops GEOS inside its work.
TEST(Geometry, MakeValidStopsWhenCancelled) {
    Polygon zigzag;
    for (int i = 0; i <= 20000; ++i)
        zigzag.exterior.push_back({123.8 + 0.00001 * i, 42.3 + (i % 2 ? 0.01 : -0.01) * (1 + (i % 7) * 0.1)});
    zigzag.exterior.push_back({123.8, 42.25});
    zigzag.exterior.push_back(zigzag.exterior.front());
    MultiPolygon shape{zigzag};
    int asked = 0;
    EXPECT_THROW(make_valid(shape, [&] { return ++asked > 3; }), covermap::geo::cancelled_error);
    EXPECT_GT(asked, 3) << "GEOS asked while it worked";
    // Without a cancel, and with one that never fires, the repair completes.
    MultiPolygon small{{{{0, 0}, {2, 2}, {2, 0}, {0, 2}, {0, 0}}, {}}};
    EXPECT_FALSE(make_valid(small, [] { return false; }).empty());
    EXPECT_FALSE(make_valid(small).empty());
}
