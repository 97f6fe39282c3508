// Exact-palette PNGs (png_exact.hpp): lossless at every bit depth, refused past 256 colours,
// empty when nothing is drawn; read back by GDAL, a reader independent of the writer.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "covermap/tiles/png_exact.hpp"
#include "tiles/pixels.hpp"

namespace covermap::tiles {
namespace {

// An image of `colours` distinct colours (some translucent), `stride` pixels per row of which
// the first `width` are the tile; byte order R, G, B, A as Mapnik keeps them.
std::vector<std::uint32_t> image(int colours, int width, int height, std::size_t stride) {
    std::vector<std::uint32_t> px(stride * static_cast<std::size_t>(height), 0xdeadbeef);  // outside: noise
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            auto k = static_cast<std::uint32_t>((x + y * width) % colours);
            std::uint32_t alpha = k % 5 == 0 ? 0x80 : 0xff;
            px[static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x)] =
                (alpha << 24) | ((k * 37) & 0xff) << 16 | ((k * 11) & 0xff) << 8 | (k & 0xff);
        }
    return px;
}

TEST(ExactPng, EveryBitDepthReadsBackPixelForPixel) {
    const int w = 61, h = 17;  // rows that do not fill their last byte at 1, 2 and 4 bits
    const std::size_t stride = 80;
    for (int colours : {1, 3, 15, 200, 255}) {  // + the transparent entry: 2, 4, 16, 201, 256
        auto px = image(colours, w, h, stride);
        auto png = exact_png8(px.data(), w, h, stride);
        ASSERT_TRUE(png.has_value()) << colours;
        auto back = test::decode(*png);
        ASSERT_EQ(back.width, w);
        ASSERT_EQ(back.height, h);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                std::uint32_t c = px[static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x)];
                const unsigned char* got = back.at(x, y);
                ASSERT_EQ(got[0], c & 0xff) << colours << " colours at " << x << "," << y;
                ASSERT_EQ(got[1], (c >> 8) & 0xff);
                ASSERT_EQ(got[2], (c >> 16) & 0xff);
                ASSERT_EQ(got[3], c >> 24);
            }
    }
}

TEST(ExactPng, MoreThan256ColoursAreRefused) {
    // The transparent entry every palette starts with counts: 255 more fit, 256 do not.
    auto px = image(255, 64, 64, 64);
    EXPECT_TRUE(exact_png8(px.data(), 64, 64, 64).has_value());
    px = image(256, 64, 64, 64);
    EXPECT_FALSE(exact_png8(px.data(), 64, 64, 64).has_value());
}

TEST(ExactPng, PastThePaletteATileIsWrittenInFullColour) {
    const int w = 40, h = 30;
    const std::size_t stride = 50;
    auto px = image(1000, w, h, stride);
    ASSERT_FALSE(exact_png8(px.data(), w, h, stride).has_value());
    auto back = test::decode(tile_png(px.data(), w, h, stride));
    ASSERT_EQ(back.width, w);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            std::uint32_t c = px[static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x)];
            const unsigned char* got = back.at(x, y);
            ASSERT_EQ(got[0], c & 0xff) << x << "," << y;
            ASSERT_EQ(got[1], (c >> 8) & 0xff);
            ASSERT_EQ(got[2], (c >> 16) & 0xff);
            ASSERT_EQ(got[3], c >> 24);
        }
}

TEST(ExactPng, NothingDrawnIsAnEmptyString) {
    std::vector<std::uint32_t> px(32 * 32, 0x00ffffff);  // invisible, whatever the colour
    auto png = exact_png8(px.data(), 32, 32, 32);
    ASSERT_TRUE(png.has_value());
    EXPECT_TRUE(png->empty());
    EXPECT_TRUE(tile_png(px.data(), 32, 32, 32).empty());
    px[5] = 0xff0000ff;
    png = exact_png8(px.data(), 32, 32, 32);
    ASSERT_TRUE(png.has_value());
    EXPECT_FALSE(png->empty());
}

}  // namespace
}  // namespace covermap::tiles
