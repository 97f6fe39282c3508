#include "covermap/api/text_table.hpp"

#include <gtest/gtest.h>

using namespace covermap::api;

TEST(TextTable, DisplayWidthCountsChineseAsTwo) {
    EXPECT_EQ(display_width("abc"), 3u);
    EXPECT_EQ(display_width("银州区"), 6u);
    EXPECT_EQ(display_width("调兵山市A"), 9u);
    EXPECT_EQ(display_width("（）"), 4u);        // full-width brackets
    EXPECT_EQ(display_width("한국"), 4u);        // Hangul
    EXPECT_EQ(display_width("\u3000"), 2u);      // the ideographic space
    EXPECT_EQ(display_width("\U0001F44D"), 2u);  // an emoji: wide since Unicode 9 (the hand-made table said 1)
    EXPECT_EQ(display_width("a\xFF"), 2u);       // a malformed byte counts one column
}

TEST(TextTable, ColumnsLineUpWithChineseNames) {
    auto out = render_table({{"code", "name", "n"}, {"211202", "银州区", "5"}, {"211281", "调兵山市", "12"}},
                            {false, false, true});
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t i; (i = out.find('\n', start)) != std::string::npos; start = i + 1)
        lines.push_back(out.substr(start, i - start));
    ASSERT_EQ(lines.size(), 4u);
    // Every line (but the rule) has the same display width.
    EXPECT_EQ(display_width(lines[0]), display_width(lines[2]));
    EXPECT_EQ(display_width(lines[2]), display_width(lines[3]));
    EXPECT_EQ(lines[2], "211202  银州区     5");
    EXPECT_EQ(lines[3], "211281  调兵山市  12");
}
