#include "covermap/api/text_table.hpp"

#include <algorithm>

namespace covermap::api {

// Hand-written because the C library's wcwidth() depends on the process locale, and
// no Debian C++ library offers a locale-free East Asian Width table; the ranges below
// cover CJK ideographs, kana, Hangul, full-width forms and CJK punctuation.
std::size_t display_width(std::string_view s) {
    std::size_t width = 0;
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        char32_t cp = 0;
        int len = 1;
        if (c < 0x80) {
            cp = c;
        } else if ((c >> 5) == 0x6) {
            cp = c & 0x1f;
            len = 2;
        } else if ((c >> 4) == 0xe) {
            cp = c & 0x0f;
            len = 3;
        } else {
            cp = c & 0x07;
            len = 4;
        }
        for (int k = 1; k < len && i + k < s.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
        i += len;
        bool wide = (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd);
        width += wide ? 2 : 1;
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
