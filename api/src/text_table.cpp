#include "covermap/api/text_table.hpp"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>

namespace covermap::api {

// Columns per character from ICU's East Asian Width property (UAX #11): wide and full-width
// characters (CJK ideographs, kana, Hangul, full-width forms, most emoji) take two, the rest
// one (ambiguous ones too, as a terminal in a Chinese locale shows Latin text). Unlike the C
// library's wcwidth(), it does not depend on the process locale. A malformed byte counts one.
std::size_t display_width(std::string_view s) {
    std::size_t width = 0;
    const auto n = static_cast<std::int32_t>(s.size());
    for (std::int32_t i = 0; i < n;) {
        UChar32 c;
        U8_NEXT(s.data(), i, n, c);
        auto w = c < 0 ? U_EA_NEUTRAL : u_getIntPropertyValue(c, UCHAR_EAST_ASIAN_WIDTH);
        width += w == U_EA_WIDE || w == U_EA_FULLWIDTH ? 2 : 1;
    }
    return width;
}

std::string render_table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right_align) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()), 0);
        for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], display_width(row[c]));
    }
    std::string out;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        for (std::size_t c = 0; c < rows[r].size(); ++c) {
            std::string pad(widths[c] - display_width(rows[r][c]), ' ');
            bool right = c < right_align.size() && right_align[c];
            if (c) out += "  ";
            out += right ? pad + rows[r][c] : rows[r][c] + (c + 1 < rows[r].size() ? pad : "");
        }
        out += '\n';
        if (r == 0) {
            std::size_t total = 0;
            for (auto w : widths) total += w;
            out += std::string(total + 2 * (widths.size() - 1), '-') + '\n';
        }
    }
    return out;
}

}  // namespace covermap::api
