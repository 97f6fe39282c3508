#pragma once
/// \file Aligned text tables whose columns stay straight with Chinese text.

#include <string>
#include <string_view>
#include <vector>

namespace covermap::api {

/// Terminal columns a UTF-8 string occupies (CJK and full-width characters count two).
std::size_t display_width(std::string_view utf8);

/// Renders rows (the first is the header) with columns padded to the widest cell;
/// right_align[i] right-aligns column i (numbers).
std::string render_table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right_align);

}  // namespace covermap::api
