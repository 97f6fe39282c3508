// A street's sheet for the field (打印): one A4 portrait PDF with the area's map (Mapnik through
// Cairo, as the report's), legend, scale bar, north arrow and date, then its instructors with
// the organizations each one serves, and the organizations nobody serves yet.

#include <cairo-pdf.h>

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "covermap/geo/error.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/report/report.hpp"
#include "covermap/tiles/print.hpp"
#include "format.hpp"
#include "page.hpp"

namespace covermap::report {

using namespace detail;

namespace {

// The organizations' states as the sheet names and colours them: the tiles' blue, red and grey,
// but green for instructor-only (the tiles' pale blue would vanish on paper over the fills).
struct StateStyle {
    const char* name;
    const char* colour;
};
constexpr StateStyle kBranch{"已建党组织", "#08306b"}, kInstructor{"仅有指导员", "#238b45"},
    kUncovered{"未覆盖", "#e31a1c"}, kInactive{"停业或注销", "#969696"};

const StateStyle& style_of(const geo::Organization& o) {
    if (!o.operating()) return kInactive;
    if (o.branch_id) return kBranch;
    if (o.instructor_id) return kInstructor;
    return kUncovered;
}

StreetSheet::Org row_of(const geo::Organization& o) {
    const auto& l = o.ledger();
    return {o.name, l.address, l.person_in_charge, l.phone, style_of(o).name};
}

}  // namespace

StreetSheet gather_sheet(const geo::Dataset& d, const std::string& area_code, const std::string& today) {
    auto at = std::find_if(d.areas.begin(), d.areas.end(), [&](const geo::Area& a) { return a.code == area_code; });
    if (at == d.areas.end()) throw geo::invalid_argument("no area with code " + area_code);
    StreetSheet s;
    s.area_code = at->code;
    s.area_name = at->name;
    s.level_name = std::string(geo::chinese_name(at->level));
    s.date = today;
    s.outline = at->shape;
    s.map_level = at->level == geo::Level::district ? geo::Level::street
                  : at->level == geo::Level::street ? geo::Level::community
                                                    : geo::Level::grid;
    // The organizations inside the area, and the sub-areas each lies in.
    std::vector<geo::Point> points;
    for (const auto& o : d.orgs) points.push_back(o.location);
    auto inside = geo::locate_points({&at->shape}, points);
    auto frame = geo::bounds(at->shape);
    std::vector<const geo::MultiPolygon*> subs;
    for (const auto& a : d.areas) {
        if (a.level != s.map_level) continue;
        bool in = at->level == geo::Level::park ? geo::bounds(a.shape).intersects(frame) : a.parent_code == at->code;
        if (!in) continue;
        s.map_areas.push_back(a);
    }
    for (const auto& a : s.map_areas) subs.push_back(&a.shape);
    std::vector<geo::Point> here;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < d.orgs.size(); ++i)
        if (inside[i] >= 0) here.push_back(d.orgs[i].location), which.push_back(i);
    auto sub_of = geo::locate_points(subs, here);
    std::vector<long> operating(subs.size()), covered(subs.size());
    std::unordered_map<geo::Id, std::size_t> instructor_at;
    for (std::size_t j = 0; j < d.instructors.size(); ++j) instructor_at[d.instructors[j].id] = j;
    std::map<std::size_t, std::vector<std::size_t>> served;  // instructor -> organizations here
    for (std::size_t k = 0; k < here.size(); ++k) {
        const auto& o = d.orgs[which[k]];
        const auto& st = style_of(o);
        s.dots.push_back({o.location, st.colour});
        if (o.instructor_id)
            if (auto it = instructor_at.find(*o.instructor_id); it != instructor_at.end())
                served[it->second].push_back(which[k]);
        if (!o.operating()) continue;
        ++s.operating;
        s.branch += o.branch_id ? 1 : 0;
        s.instructor += !o.branch_id && o.instructor_id ? 1 : 0;
        if (!o.branch_id && !o.instructor_id) {
            ++s.uncovered;
            s.without.push_back(row_of(o));
        }
        if (sub_of[k] >= 0) {
            ++operating[static_cast<std::size_t>(sub_of[k])];
            covered[static_cast<std::size_t>(sub_of[k])] += o.branch_id ? 1 : 0;
        }
    }
    for (std::size_t a = 0; a < subs.size(); ++a)
        s.map_rates.push_back(operating[a] ? static_cast<double>(covered[a]) / operating[a] : -1);
    std::vector<int> load(d.instructors.size(), 0);
    for (const auto& o : d.orgs)
        if (o.instructor_id)
            if (auto it = instructor_at.find(*o.instructor_id); it != instructor_at.end()) ++load[it->second];
    for (const auto& [j, orgs] : served) {
        const auto& in = d.instructors[j];
        StreetSheet::Instructor row{in.name, in.unit, load[j], in.capacity, {}};
        for (auto i : orgs) row.orgs.push_back(row_of(d.orgs[i]));
        std::sort(row.orgs.begin(), row.orgs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
        s.instructors.push_back(std::move(row));
    }
    for (auto& in : s.instructors)
        for (const auto& a : d.areas)
            if (a.code == in.unit) in.unit = a.name;
    std::sort(s.instructors.begin(), s.instructors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    std::sort(s.without.begin(), s.without.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return s;
}

std::string render_sheet_pdf(const StreetSheet& s) {
    std::string out;
    {
        std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
            cairo_pdf_surface_create_for_stream(append, &out, kWidth, kHeight), cairo_surface_destroy);
        std::string title = s.area_name + "两新组织党建工作联系表";
        cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE, title.c_str());
        cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "covermap");
        cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATE_DATE, (s.date + "T00:00:00+08:00").c_str());
        std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr(cairo_create(surface.get()), cairo_destroy);
        Doc doc(cr.get(), "covermap · " + title + " · " + s.date);

        doc.y += doc.text(kMargin, doc.y, title, 18, true) + 2;
        auto rate = [&](long n) { return s.operating ? pct(static_cast<double>(n) / s.operating) : std::string("—"); };
        std::string sub = s.level_name + " · 制表日期 " + s.date + " · 在营组织 " + std::to_string(s.operating) +
                          " 家：已建党组织 " + std::to_string(s.branch) + "（" + rate(s.branch) + "），仅有指导员 " +
                          std::to_string(s.instructor) + "，未覆盖 " + std::to_string(s.uncovered);
        doc.y += doc.text(kMargin, doc.y, sub, 9, false, kGrey, kRight - kMargin) + 8;

        // The map: sub-areas by coverage, the area's border, every organization as a dot.
        const double w = kRight - kMargin, h = 380, top = doc.y;
        std::vector<tiles::PrintArea> areas;
        for (std::size_t i = 0; i < s.map_areas.size(); ++i)
            areas.push_back({s.map_areas[i].shape, s.map_areas[i].name, s.map_rates[i]});
        std::vector<tiles::PrintPoint> dots;
        for (const auto& [p, colour] : s.dots) dots.push_back({p, colour});
        double m_per_pt = tiles::print_coverage_map(doc.cr(), kMargin, top, w, h, areas, {s.outline},
                                                    geo::bounds(s.outline), s.map_level, dots);
        cairo_set_source_rgb(doc.cr(), 0.6, 0.62, 0.66);
        cairo_set_line_width(doc.cr(), 0.6);
        cairo_rectangle(doc.cr(), kMargin, top, w, h);
        cairo_stroke(doc.cr());
        north_arrow(doc, kRight - 22, top + 14);
        scale_bar(doc, kMargin + 12, top + h - 16, m_per_pt);
        doc.y = top + h + 6;
        // Legend: the organizations' states, then the areas' coverage classes.
        double x = kMargin;
        for (const auto* st : {&kBranch, &kInstructor, &kUncovered, &kInactive}) {
            auto c = hex(st->colour);
            doc.colour(c);
            cairo_arc(doc.cr(), x + 5, doc.y + 6.5, 3.5, 0, 2 * M_PI);
            cairo_fill(doc.cr());
            doc.text(x + 12, doc.y + 1, st->name, 7.5);
            x += 78;
        }
        doc.text(x + 6, doc.y + 1, "底色：" + std::string(geo::chinese_name(s.map_level)) + "组织覆盖率，越深越高", 7.5,
                 false, kGrey);
        doc.y += 22;

        heading(doc, "党建指导员及联系组织（" + std::to_string(s.instructors.size()) + " 名）");
        const std::vector<double> widths = {150, 140, 60, 80, 81.28};
        for (const auto& in : s.instructors) {
            doc.need(60);
            doc.y += doc.text(kMargin, doc.y,
                              in.name + "　派出单位 " + in.unit + "　联系 " + std::to_string(in.load) + "/" +
                                  std::to_string(in.capacity) + " 家（本区域 " + std::to_string(in.orgs.size()) + " 家）",
                              9.5, true) +
                     3;
            std::vector<std::vector<std::string>> rows;
            for (const auto& o : in.orgs) rows.push_back({o.name, o.address, o.person, o.phone, o.state});
            table(doc, {"组织名称", "地址", "负责人", "联系电话", "状态"}, widths, rows, 7.5, true);
        }
        if (s.instructors.empty()) doc.y += doc.text(kMargin, doc.y, "本区域的组织尚无党建指导员联系。", 9, false, kGrey) + 6;
        if (!s.without.empty()) {
            heading(doc, "尚未覆盖的组织（" + std::to_string(s.without.size()) + " 家，既无党组织也无指导员）");
            std::vector<std::vector<std::string>> rows;
            for (const auto& o : s.without) rows.push_back({o.name, o.address, o.person, o.phone, o.state});
            table(doc, {"组织名称", "地址", "负责人", "联系电话", "状态"}, widths, rows, 7.5, true);
        }
        doc.finish_page();
        if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS)
            throw std::runtime_error(std::string("cannot draw the sheet: ") + cairo_status_to_string(cairo_status(cr.get())));
    }
    return out;
}

}  // namespace covermap::report
