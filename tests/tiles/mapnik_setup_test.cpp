#include "covermap/tiles/mapnik_setup.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

TEST(MapnikSetup, ChineseFontIsRegistered) {
    const auto& faces = covermap::tiles::init_mapnik();
    ASSERT_FALSE(faces.empty()) << "no CJK font found: install fonts-wqy-microhei (scripts/setup)";
    EXPECT_EQ(faces.front(), "WenQuanYi Micro Hei Regular");
    EXPECT_EQ(&faces, &covermap::tiles::init_mapnik()) << "set-up runs once";
}

// The fonts enter the tile directory's drawing version: each face with its file, size and time.
TEST(MapnikSetup, FontSignatureNamesEachFaceAndItsFile) {
    std::string s = covermap::tiles::font_signature();
    auto line = s.substr(0, s.find('\n'));
    ASSERT_EQ(line.rfind("WenQuanYi Micro Hei Regular /usr/share/fonts/", 0), 0u) << s;
    std::istringstream in(line.substr(std::string("WenQuanYi Micro Hei Regular ").size()));
    std::string file;
    long long size = 0, time = 0;
    in >> file >> size >> time;
    EXPECT_GT(size, 1000000) << "the font file's size";
    EXPECT_GT(time, 0) << "its modification time";
    EXPECT_EQ(s, covermap::tiles::font_signature());
}
