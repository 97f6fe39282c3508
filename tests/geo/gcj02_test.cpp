#include "covermap/geo/gcj02.hpp"

#include <gtest/gtest.h>

#include "covermap/geo/geometry.hpp"

using namespace covermap::geo;

// Published reference pairs (WGS84 → GCJ-02) used by the widely shared coordtransform
// libraries' own tests: Beijing (116.404, 39.915) (wandergis/coordtransform) and (116.0, 40.0).
TEST(Gcj02, ForwardMatchesPublishedReferencePoints) {
    auto g = wgs84_to_gcj02({116.404, 39.915});
    EXPECT_NEAR(g.x, 116.41024449916938, 1e-9);
    EXPECT_NEAR(g.y, 39.91640428150164, 1e-9);
    // A second library's pair agrees to 1e-7 degrees (about a centimetre): it rounds its constants.
    auto h = wgs84_to_gcj02({116.0, 40.0});
    EXPECT_NEAR(h.x, 116.006141221789, 1e-7);
    EXPECT_NEAR(h.y, 40.001213650174, 1e-7);
}

TEST(Gcj02, InverseIsWithinTwoMetres) {
    // The inverse of the published GCJ-02 points lands on the published WGS84 points.
    EXPECT_LT(haversine_m(gcj02_to_wgs84({116.41024449916938, 39.91640428150164}), {116.404, 39.915}), 2.0);
    EXPECT_LT(haversine_m(gcj02_to_wgs84({116.006141221789, 40.001213650174}), {116.0, 40.0}), 2.0);
    // Across Tieling, round trips are exact to millimetres while the offset itself is hundreds of metres.
    for (double x = 123.4; x < 125.0; x += 0.2)
        for (double y = 42.0; y < 43.2; y += 0.2) {
            Point w{x, y};
            auto g = wgs84_to_gcj02(w);
            EXPECT_GT(haversine_m(w, g), 100.0);
            EXPECT_LT(haversine_m(gcj02_to_wgs84(g), w), 0.01);
        }
}

TEST(Gcj02, OutsideChinaUnchanged) {
    auto p = gcj02_to_wgs84({2.35, 48.85});
    EXPECT_DOUBLE_EQ(p.x, 2.35);
    EXPECT_DOUBLE_EQ(p.y, 48.85);
}
