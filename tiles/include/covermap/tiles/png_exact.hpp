#pragma once
// Indexed PNGs without quantization, for tiles of few colours.
//
// Mapnik's "png8" builds a hextree palette for every tile and maps each pixel through a hash
// of colours; on cold coverage tiles that took about two thirds of a metatile's time (perf,
// 2026-12-07). A choropleth tile usually holds far fewer than 256 distinct colours (fills,
// borders and their antialiased blends), so its palette is simply its colours: collecting them
// is one comparison per pixel, the result is lossless, and libpng writes it. Tiles with more
// colours are written in full colour, which at zlib level 1 costs less than quantizing does
// (for about twice the bytes). No library offers "exact palette or nothing", hence
// this file.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace covermap::tiles {

/// The width × height RGBA pixels (straight alpha, 4 bytes each, R first in memory) starting at
/// `pixels`, `stride` pixels from one row to the next, as an indexed PNG (bit depth 1, 2, 4 or
/// 8 by the number of colours, tRNS for alpha) compressed at zlib `level`; std::nullopt when the
/// pixels hold more than 256 distinct colours, an empty string when every pixel is transparent.
/// Throws std::runtime_error when libpng fails.
std::optional<std::string> exact_png8(const std::uint32_t* pixels, int width, int height, std::size_t stride,
                                      int level = 1);

/// The same pixels as an 8-bit RGBA PNG (no filter, zlib `level`), whatever their colours.
std::string rgba_png(const std::uint32_t* pixels, int width, int height, std::size_t stride, int level = 1);

/// A tile: exact_png8 when the pixels have at most 256 colours (an empty string when nothing
/// is drawn), else rgba_png. Lossless either way.
std::string tile_png(const std::uint32_t* pixels, int width, int height, std::size_t stride, int level = 1);

}  // namespace covermap::tiles
