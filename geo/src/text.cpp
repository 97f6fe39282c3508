#include "covermap/geo/text.hpp"

#include <cpl_string.h>

#include <climits>

namespace covermap::geo {

bool valid_utf8(std::string_view s) {
    // GDAL's checker, not a hand-written one: it is what the OGR drivers themselves use.
    return s.size() <= static_cast<std::size_t>(INT_MAX) && CPLIsUTF8(s.data(), static_cast<int>(s.size()));
}

std::string replace_invalid_utf8(std::string_view s) {
    if (valid_utf8(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 8);
    for (std::size_t i = 0; i < s.size();) {
        // The longest valid sequence starting here (1–4 bytes), else one replaced byte.
        std::size_t len = 0;
        for (std::size_t n = 1; n <= 4 && i + n <= s.size(); ++n)
            if (CPLIsUTF8(s.data() + i, static_cast<int>(n))) {
                len = n;
                break;
            }
        if (len == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    return out;
}

std::optional<int> parse_epsg(std::string_view text) {
    if (text.size() < 6 || text.size() > 11) return std::nullopt;
    for (int i = 0; i < 5; ++i)
        if (std::toupper(static_cast<unsigned char>(text[i])) != "EPSG:"[i]) return std::nullopt;
    int code = 0;
    for (std::size_t i = 5; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        code = code * 10 + (text[i] - '0');
    }
    return code > 0 && code < 1000000 ? std::optional<int>(code) : std::nullopt;
}

}  // namespace covermap::geo
