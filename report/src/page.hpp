#pragma once
// The A4 page both PDFs (the monthly report, the street sheet) are laid out on: Cairo for
// drawing, Pango for text (CJK faces), tables, headings, north arrow and scale bar.

#include <cairo.h>
#include <pango/pangocairo.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace covermap::report::detail {

constexpr double kWidth = 595.28, kHeight = 841.89, kMargin = 42;
constexpr double kRight = kWidth - kMargin, kBottom = kHeight - kMargin - 14;
// The CJK faces the tiles use too (fonts-wqy-microhei from Debian; Noto CJK where installed).
constexpr const char* kFont = "WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif";

struct Rgb {
    double r, g, b;
};
constexpr Rgb kInk{0.1, 0.1, 0.12}, kGrey{0.42, 0.44, 0.48}, kRule{0.8, 0.82, 0.85}, kBlue{0.03, 0.32, 0.61},
    kRed{0.8, 0.09, 0.11}, kGreen{0.1, 0.5, 0.25}, kPale{0.94, 0.95, 0.97};

inline Rgb hex(const std::string& h) {
    auto v = [&](int i) { return std::stoi(h.substr(static_cast<std::size_t>(1 + 2 * i), 2), nullptr, 16) / 255.0; };
    return {v(0), v(1), v(2)};
}

// One document: a cursor down the page, a new page when the next block does not fit.
class Doc {
public:
    Doc(cairo_t* cr, std::string footer) : cr_(cr), footer_(std::move(footer)) {}

    double y = kMargin;

    void colour(Rgb c) { cairo_set_source_rgb(cr_, c.r, c.g, c.b); }

    // Text at (x, y) in a box of width w (wrapped) or unbounded (w ≤ 0); returns its height.
    double text(double x, double top, const std::string& s, double size, bool bold = false, Rgb c = kInk, double w = -1,
                PangoAlignment align = PANGO_ALIGN_LEFT) {
        std::unique_ptr<PangoLayout, decltype(&g_object_unref)> layout(pango_cairo_create_layout(cr_), g_object_unref);
        std::unique_ptr<PangoFontDescription, decltype(&pango_font_description_free)> font(
            pango_font_description_from_string(kFont), pango_font_description_free);
        pango_font_description_set_absolute_size(font.get(), size * PANGO_SCALE);
        pango_font_description_set_weight(font.get(), bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
        pango_layout_set_font_description(layout.get(), font.get());
        if (w > 0) {
            pango_layout_set_width(layout.get(), static_cast<int>(w * PANGO_SCALE));
            pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
            pango_layout_set_alignment(layout.get(), align);
        }
        pango_layout_set_text(layout.get(), s.c_str(), -1);
        colour(c);
        cairo_move_to(cr_, x, top);
        pango_cairo_show_layout(cr_, layout.get());
        int pw = 0, ph = 0;
        pango_layout_get_pixel_size(layout.get(), &pw, &ph);
        return ph;
    }

    void rule(double top, Rgb c = kRule, double width = 0.6) {
        colour(c);
        cairo_set_line_width(cr_, width);
        cairo_move_to(cr_, kMargin, top);
        cairo_line_to(cr_, kRight, top);
        cairo_stroke(cr_);
    }

    void box(double x, double top, double w, double h, Rgb fill) {
        colour(fill);
        cairo_rectangle(cr_, x, top, w, h);
        cairo_fill(cr_);
    }

    // Makes room for h points: a new page when they do not fit on this one.
    void need(double h) {
        if (y + h > kBottom) page();
    }

    void page() {
        finish_page();
        y = kMargin;
    }

    void finish_page() {
        ++pages_;
        text(kMargin, kHeight - kMargin + 2, footer_, 7.5, false, kGrey);
        text(kMargin, kHeight - kMargin + 2, "第 " + std::to_string(pages_) + " 页", 7.5, false, kGrey,
             kRight - kMargin, PANGO_ALIGN_RIGHT);
        cairo_show_page(cr_);
    }

    cairo_t* cr() { return cr_; }

private:
    cairo_t* cr_;
    std::string footer_;
    int pages_ = 0;
};

// A table: header row, then rows (repeated on each new page); columns by width, the first
// left-aligned, the rest right (all left with left_all: text columns).
inline void table(Doc& doc, const std::vector<std::string>& head, const std::vector<double>& widths,
                  const std::vector<std::vector<std::string>>& rows, double size = 8, bool left_all = false) {
    const double row_h = size + 6;
    auto draw_row = [&](const std::vector<std::string>& cells, bool bold, Rgb c) {
        double x = kMargin;
        for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
            doc.text(x + 2, doc.y + 2, cells[i], size, bold, c, widths[i] - 4,
                     i == 0 || left_all ? PANGO_ALIGN_LEFT : PANGO_ALIGN_RIGHT);
            x += widths[i];
        }
        doc.y += row_h;
    };
    auto header = [&] {
        doc.box(kMargin, doc.y, kRight - kMargin, row_h, kPale);
        draw_row(head, true, kInk);
    };
    doc.need(row_h * 3);
    header();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (doc.y + row_h > kBottom) {
            doc.page();
            header();
        }
        draw_row(rows[i], false, kInk);
        if (i + 1 < rows.size()) doc.rule(doc.y, {0.9, 0.91, 0.93}, 0.4);
    }
    doc.y += 6;
}

// A section heading, kept on the page of the first min_after points of its section.
inline void heading(Doc& doc, const std::string& s, double min_after = 40) {
    doc.need(26 + min_after);
    doc.y += 6;
    doc.y += doc.text(kMargin, doc.y, s, 12, true, kInk) + 2;
    doc.rule(doc.y, kInk, 0.8);
    doc.y += 6;
}

// A north arrow whose tip is at (nx, ny).
inline void north_arrow(Doc& doc, double nx, double ny) {
    cairo_t* cr = doc.cr();
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.12);
    cairo_move_to(cr, nx, ny);
    cairo_line_to(cr, nx + 7, ny + 22);
    cairo_line_to(cr, nx, ny + 17);
    cairo_close_path(cr);
    cairo_fill(cr);
    cairo_move_to(cr, nx, ny);
    cairo_line_to(cr, nx - 7, ny + 22);
    cairo_line_to(cr, nx, ny + 17);
    cairo_close_path(cr);
    cairo_set_line_width(cr, 0.8);
    cairo_stroke(cr);
    doc.text(nx - 4, ny - 12, "北", 8, true);

}

// A scale bar of a round length near 100 points, its left end at (sx, sy).
inline void scale_bar(Doc& doc, double sx, double sy, double m_per_pt) {
    cairo_t* cr = doc.cr();
    double metres = m_per_pt * 100, step = std::pow(10, std::floor(std::log10(metres)));
    for (double f : {5.0, 2.0, 1.0})
        if (f * step <= metres) {
            step *= f;
            break;
        }
    double len = step / m_per_pt;
    doc.box(sx - 4, sy - 14, len + 60, 24, {1, 1, 1});
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.12);
    cairo_rectangle(cr, sx, sy, len / 2, 4);
    cairo_fill(cr);
    cairo_rectangle(cr, sx, sy, len, 4);
    cairo_set_line_width(cr, 0.6);
    cairo_stroke(cr);
    std::string label = step >= 1000 ? std::to_string(static_cast<long>(step / 1000)) + " 公里"
                                     : std::to_string(static_cast<long>(step)) + " 米";
    doc.text(sx + len + 4, sy - 4, label, 7.5);

}

inline cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
}

}  // namespace covermap::report::detail
