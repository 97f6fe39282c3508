#include "covermap/geo/geometry.hpp"

#include <gtest/gtest.h>

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
