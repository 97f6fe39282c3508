#include "covermap/tiles/mapnik_setup.hpp"

#include <gtest/gtest.h>

TEST(MapnikSetup, ChineseFontIsRegistered) {
    const auto& faces = covermap::tiles::init_mapnik();
    ASSERT_FALSE(faces.empty()) << "no CJK font found: install fonts-wqy-microhei (scripts/setup)";
    EXPECT_EQ(faces.front(), "WenQuanYi Micro Hei Regular");
    EXPECT_EQ(&faces, &covermap::tiles::init_mapnik()) << "set-up runs once";
}
