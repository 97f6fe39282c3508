#pragma once
/// \file One-time Mapnik set-up: input plugins and fonts. Mapnik headers stay in tiles/src.

#include <string>
#include <vector>

namespace covermap::tiles {

/// Registers Mapnik's input plugins and the system fonts once (thread-safe); returns
/// the CJK faces found, in fallback order (WenQuanYi Micro Hei first, then Noto CJK).
const std::vector<std::string>& init_mapnik();

/// The fonts the tiles are drawn with, as text: each face init_mapnik found, with its file's
/// path, size and modification time. Another font package draws other pixels from the same data.
std::string font_signature();

}  // namespace covermap::tiles
