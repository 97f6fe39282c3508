#pragma once
/// \file Text checks at the door: what comes from files and requests is valid UTF-8 before it
/// reaches the store or a JSON writer.

#include <optional>
#include <string>
#include <string_view>

namespace covermap::geo {

/// True when s is well-formed UTF-8 (no overlong forms, no surrogates).
bool valid_utf8(std::string_view s);

/// s with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD.
std::string replace_invalid_utf8(std::string_view s);

/// The n of "EPSG:n" (case-insensitive prefix), else nullopt: the only CRS form untrusted
/// text may name (GDAL's SetFromUserInput would open files and URLs).
std::optional<int> parse_epsg(std::string_view text);

}  // namespace covermap::geo
