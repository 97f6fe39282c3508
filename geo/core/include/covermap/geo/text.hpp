#pragma once
/// \file Text checks at the door: what comes from files and requests is valid UTF-8 before it
/// reaches the store or a JSON writer.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace covermap::geo {

/// True when s is well-formed UTF-8 (no overlong forms, no surrogates) without a NUL.
bool valid_utf8(std::string_view s);

/// s with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD
/// (and every NUL by U+FFFD too).
std::string replace_invalid_utf8(std::string_view s);

/// j as JSON text; text that is not valid UTF-8 (an old store's) is written with U+FFFD instead
/// of throwing. Every JSON covermap writes goes through this (or dump_json(j, indent)).
std::string dump_json(const nlohmann::json& j, int indent = -1);

/// Text for a CSV cell that spreadsheet programs will not run as a formula: a leading `=`, `+`,
/// `-`, `@`, tab or CR gets a `'` before it (OWASP's CSV injection advice); other text as is.
std::string csv_guard(std::string_view text);

/// A whole CSV cell: csv_guard, then quoted (quotes doubled) when it holds a comma, a quote,
/// CR or LF (RFC 4180).
std::string csv_field(std::string_view text);

/// Characters (code points) the text field `field` may hold ("name", "address", "phone"…);
/// 200 for a field the table does not name.
std::size_t text_limit(std::string_view field);

/// Why `value` cannot be stored as `field`: invalid UTF-8, a control character (line breaks and
/// tabs are allowed in the long free-text fields only), or longer than text_limit(field); else
/// nullopt. The one rule for every way in: imports, PATCH, the API and the command line.
std::optional<std::string> text_problem(std::string_view field, std::string_view value);

/// The n of "EPSG:n" (case-insensitive prefix), else nullopt: the only CRS form untrusted
/// text may name (GDAL's SetFromUserInput would open files and URLs).
std::optional<int> parse_epsg(std::string_view text);

}  // namespace covermap::geo
