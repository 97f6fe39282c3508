#include "covermap/tiles/tile_id.hpp"

#include <gtest/gtest.h>

using namespace covermap::tiles;

TEST(TileId, Validity) {
    EXPECT_TRUE((TileId{0, 0, 0}).valid());
    EXPECT_TRUE((TileId{12, 4095, 4095}).valid());
    EXPECT_FALSE((TileId{12, 4096, 0}).valid());
    EXPECT_FALSE((TileId{3, -1, 0}).valid());
    EXPECT_FALSE((TileId{23, 0, 0}).valid());
    EXPECT_FALSE((TileId{-1, 0, 0}).valid());
}

TEST(TileId, BoundsAndLookupAgree) {
    // Tieling city centre.
    covermap::geo::Point p{123.842, 42.286};
    for (int z = 0; z <= 18; ++z) {
        auto t = tile_at(p, z);
        ASSERT_TRUE(t.valid());
        auto b = t.lonlat_bounds();
        EXPECT_TRUE(b.contains(p)) << t.str();
        auto m = t.mercator_bounds();
        auto pm = to_mercator(p);
        EXPECT_TRUE(m.contains(pm)) << t.str();
    }
    auto world = TileId{0, 0, 0}.mercator_bounds();
    EXPECT_NEAR(world.maxx, 20037508.342789244, 1e-6);
    EXPECT_NEAR(world.miny, -20037508.342789244, 1e-6);
    EXPECT_EQ((TileId{14, 13829, 6065}).str(), "14/13829/6065");
}
