// The report as a PDF: A4 pages laid out with Cairo and Pango (fonts embedded as subsets by
// Cairo), the map drawn by Mapnik's Cairo renderer (tiles/print.hpp).

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

#include "covermap/report/report.hpp"
#include "covermap/tiles/print.hpp"
#include "covermap/tiles/renderer.hpp"
#include "format.hpp"
#include "page.hpp"

namespace covermap::report {

namespace {

using namespace detail;  // the page: Doc, table, heading, north arrow, scale bar
using detail::delta;
using detail::pct;
using detail::points;

std::string scope_label(geo::Scope s) { return std::string(geo::chinese_name(s)); }

const TargetLine* target_of(const ReportData& r, geo::Metric m, geo::Scope s) {
    for (const auto& t : r.targets)
        if (t.metric == m && t.scope == s) return &t;
    return nullptr;
}

std::string target_text(const TargetLine& t) {
    std::string s = "目标 " + pct(t.goal);
    if (t.baseline_rate) s += "（基期 " + pct(*t.baseline_rate) + " ×" + detail::factor(t.factor) + "）";
    double gap = t.goal - t.now;
    s += gap > 0.0005 ? "，差 " + detail::points(t.now, t.goal).substr(1) + " 个百分点" : "，已达到";
    return s + "\n期限 " + t.deadline;
}

// Headline: four rates in boxes with their change and target, then the counts.
void headline(Doc& doc, const ReportData& r) {
    const auto& now = r.all();
    const auto& prev = r.previous_all();
    const double gap = 8, w = (kRight - kMargin - 3 * gap) / 4, h = 96;
    doc.need(h + 60);
    const std::pair<geo::Metric, const char*> rates[] = {{geo::Metric::org_coverage, "组织覆盖率"},
                                                         {geo::Metric::standalone_rate, "单独组建率"},
                                                         {geo::Metric::work_coverage, "工作覆盖率"},
                                                         {geo::Metric::instructor_coverage, "指导员覆盖率"}};
    for (int i = 0; i < 4; ++i) {
        double x = kMargin + i * (w + gap);
        doc.box(x, doc.y, w, h, kPale);
        doc.text(x + 8, doc.y + 6, rates[i].second, 9, false, kGrey);
        double v = now.rate(rates[i].first);
        doc.text(x + 8, doc.y + 20, pct(v), 20, true, kBlue);
        std::optional<double> before;
        if (prev) before = prev->rate(rates[i].first);
        std::string change = points(before, v);
        doc.text(x + 8, doc.y + 46, change == "—" ? "较上期 —" : "较上期 " + change + " 个百分点", 7.5, false,
                 change.rfind('-', 0) == 0 ? kRed : kGreen);
        if (const auto* t = target_of(r, rates[i].first, geo::Scope::all))
            doc.text(x + 8, doc.y + 58, target_text(*t), 6.8, false, t->goal - t->now > 0.0005 ? kRed : kGreen, w - 12);
    }
    doc.y += h + 10;
    std::optional<long long> pb, pi, po;
    if (prev) pb = prev->branches(), pi = prev->instructors, po = prev->figures.operating;
    std::string counts = "在营组织 " + std::to_string(now.figures.operating) + "（" + delta(po, now.figures.operating) +
                         "），登记 " + std::to_string(now.figures.orgs) + " · 党组织 " +
                         std::to_string(now.branches()) + "（" + delta(pb, now.branches()) + "）：单独组建 " +
                         std::to_string(now.branches_standalone) + " · 联合组建 " + std::to_string(now.branches_joint) +
                         " · 挂靠组建 " + std::to_string(now.branches_affiliated) + " · 选派党建指导员 " +
                         std::to_string(now.instructors) + " 名（" + delta(pi, now.instructors) + "）";
    doc.y += doc.text(kMargin, doc.y, counts, 9, false, kInk, kRight - kMargin) + 8;
}


void scopes(Doc& doc, const ReportData& r) {
    heading(doc, "分类覆盖情况");
    std::vector<std::vector<std::string>> rows;
    for (std::size_t i = 0; i < r.now.size(); ++i) {
        const auto& n = r.now[i];
        std::optional<double> before;
        if (r.previous[i]) before = r.previous[i]->rate(geo::Metric::org_coverage);
        rows.push_back({scope_label(n.scope), std::to_string(n.figures.operating), pct(n.figures.org_coverage()),
                        points(before, n.rate(geo::Metric::org_coverage)), pct(n.rate(geo::Metric::standalone_rate)),
                        pct(n.rate(geo::Metric::work_coverage)), pct(n.rate(geo::Metric::member_rate))});
    }
    table(doc, {"范围", "在营组织", "组织覆盖率", "较上期(百分点)", "单独组建率", "工作覆盖率", "有党员比例"},
          {110, 60, 70, 75, 65, 65, 66}, rows);
    if (!r.targets.empty()) {
        heading(doc, "目标完成情况");
        std::vector<std::vector<std::string>> trows;
        for (const auto& t : r.targets) {
            double gap = t.goal - t.now;
            trows.push_back({std::string(geo::chinese_name(t.metric)) + "（" + scope_label(t.scope) + "）",
                             pct(t.goal) + (t.baseline_rate ? "（基期 " + pct(*t.baseline_rate) + "）" : ""),
                             pct(t.now), gap > 0.0005 ? points(t.now, t.goal).substr(1) : "已达到", t.deadline});
        }
        table(doc, {"指标", "目标", "当前", "差距(百分点)", "期限"}, {170, 120, 70, 80, 71}, trows);
    }
}

// The map with its legend, a scale bar and a north arrow.
void map_block(Doc& doc, const ReportData& r) {
    if (r.map_areas.empty()) return;
    // As tall as the rest of the page allows (250–380 pt), else on the next page.
    const double w = kRight - kMargin, room = kBottom - doc.y - 26 - 6 - 24;
    const double h = room >= 250 ? std::min(room, 380.0) : 380;
    heading(doc, "覆盖情况地图（组织覆盖率）", h + 24);
    double top = doc.y;
    std::vector<tiles::PrintArea> areas;
    geo::BBox box;
    for (std::size_t i = 0; i < r.map_areas.size(); ++i) {
        areas.push_back({r.map_areas[i].shape, r.map_areas[i].name, r.map_rates[i]});
        box.expand(geo::bounds(r.map_areas[i].shape));
    }
    for (const auto& o : r.outline) box.expand(geo::bounds(o));
    cairo_t* cr = doc.cr();
    double m_per_pt = tiles::print_coverage_map(cr, kMargin, top, w, h, areas, r.outline, box, r.map_level);
    cairo_set_source_rgb(cr, 0.6, 0.62, 0.66);
    cairo_set_line_width(cr, 0.6);
    cairo_rectangle(cr, kMargin, top, w, h);
    cairo_stroke(cr);

    north_arrow(doc, kRight - 22, top + 14);
    scale_bar(doc, kMargin + 12, top + h - 16, m_per_pt);

    // Legend under the map: the tiles' palette.
    doc.y = top + h + 6;
    const char* labels[] = {"无在营组织", "< 20%", "20–40%", "40–60%", "60–80%", "80–100%", "100%"};
    double x = kMargin;
    for (std::size_t i = 0; i < tiles::kCoveragePalette.size() && i < 7; ++i) {
        auto c = hex(tiles::kCoveragePalette[i].second);
        doc.box(x, doc.y + 2, 12, 9, c);
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        cairo_rectangle(cr, x, doc.y + 2, 12, 9);
        cairo_set_line_width(cr, 0.4);
        cairo_stroke(cr);
        doc.text(x + 15, doc.y + 1, labels[i], 7.5);
        x += 70;
    }
    doc.y += 20;
}

// Line chart of the last snapshots (hand-drawn: a dozen points on two axes do not need a
// charting library, and none in Debian draws to a Cairo PDF surface).
void trend(Doc& doc, const ReportData& r) {
    heading(doc, "覆盖率走势（最近 " + std::to_string(r.trend.size()) + " 期）", 180);
    if (r.trend.size() < 2) {
        doc.y +=
            doc.text(kMargin, doc.y,
                     "历史快照不足两期，暂无走势（covermap snapshot 每月一次，服务也会在每月首次访问时自动记录）。", 9,
                     false, kGrey, kRight - kMargin) +
            8;
        return;
    }
    const double h = 170, left = kMargin + 34, right = kRight - 10, top = doc.y + 6, bottom = top + h - 30;
    doc.need(h + 10);
    cairo_t* cr = doc.cr();
    for (int i = 0; i <= 4; ++i) {
        double yv = bottom - (bottom - top) * i / 4.0;
        doc.colour(kRule);
        cairo_set_line_width(cr, 0.4);
        cairo_move_to(cr, left, yv);
        cairo_line_to(cr, right, yv);
        cairo_stroke(cr);
        doc.text(kMargin, yv - 5, std::to_string(i * 25) + "%", 7, false, kGrey, 28, PANGO_ALIGN_RIGHT);
    }
    std::size_t n = r.trend.size();
    auto px = [&](std::size_t i) { return left + (right - left) * (n == 1 ? 0.5 : static_cast<double>(i) / (n - 1)); };
    auto py = [&](double v) { return bottom - (bottom - top) * std::clamp(v, 0.0, 1.0); };
    for (std::size_t i = 0; i < n; ++i)
        doc.text(px(i) - 26, bottom + 4, r.trend[i].date, 6.5, false, kGrey, 52, PANGO_ALIGN_CENTER);
    const std::tuple<geo::Metric, Rgb, const char*> series[] = {
        {geo::Metric::org_coverage, kBlue, "组织覆盖率"},
        {geo::Metric::work_coverage, {0.42, 0.68, 0.84}, "工作覆盖率"},
        {geo::Metric::instructor_coverage, {0.55, 0.55, 0.6}, "指导员覆盖率"}};
    double lx = left;
    for (const auto& [metric, c, name] : series) {
        doc.colour(c);
        cairo_set_line_width(cr, 1.6);
        for (std::size_t i = 0; i < n; ++i) {
            double x = px(i), y = py(r.trend[i].rate(metric));
            i == 0 ? cairo_move_to(cr, x, y) : cairo_line_to(cr, x, y);
        }
        cairo_stroke(cr);
        for (std::size_t i = 0; i < n; ++i) {
            cairo_arc(cr, px(i), py(r.trend[i].rate(metric)), 2.2, 0, 2 * M_PI);
            cairo_fill(cr);
        }
        doc.box(lx, bottom + 18, 14, 3, c);
        doc.text(lx + 18, bottom + 13, name, 7.5);
        lx += 90;
    }
    if (const auto* t = target_of(r, geo::Metric::org_coverage, geo::Scope::all)) {
        doc.colour(kRed);
        const double dash[] = {4, 3};
        cairo_set_dash(cr, dash, 2, 0);
        cairo_set_line_width(cr, 1);
        cairo_move_to(cr, left, py(t->goal));
        cairo_line_to(cr, right, py(t->goal));
        cairo_stroke(cr);
        cairo_set_dash(cr, nullptr, 0, 0);
        doc.text(right - 150, py(t->goal) - 12, "组织覆盖目标 " + pct(t->goal) + "（" + t->deadline + "）", 7, false,
                 kRed, 150, PANGO_ALIGN_RIGHT);
    }
    doc.y = top + h;
}

void plan_block(Doc& doc, const ReportData& r) {
    if (!r.plan) return;
    const auto& p = *r.plan;
    heading(doc, "若接受当前方案");
    std::string s = "方案 " + p.id + (p.name.empty() ? "" : "「" + p.name + "」") + "（" + p.created.substr(0, 10) +
                    "）中尚未接受的建议全部落实后：组织覆盖率 " + pct(p.now.org_coverage()) + " → " +
                    pct(p.after.org_coverage()) + "，工作覆盖率 " + pct(p.now.work_coverage()) + " → " +
                    pct(p.after.work_coverage()) + "，指导员覆盖率 " + pct(p.now.instructor_coverage()) + " → " +
                    pct(p.after.instructor_coverage()) + "。";
    doc.y += doc.text(kMargin, doc.y, s, 9, false, kInk, kRight - kMargin) + 8;
}

void area_tables(Doc& doc, const ReportData& r) {
    for (const auto& t : r.tables) {
        heading(doc, "各" + t.title + "覆盖情况（组织覆盖率由低到高）");
        std::vector<std::vector<std::string>> rows;
        for (std::size_t i = 0; i < t.rows.size(); ++i) {
            const auto& n = t.rows[i];
            std::optional<double> before;
            if (t.previous[i]) before = t.previous[i]->figures.org_coverage();
            bool empty = n.figures.operating == 0;
            rows.push_back(
                {n.figures.name, std::to_string(n.figures.operating), empty ? "—" : pct(n.figures.org_coverage()),
                 empty ? "—" : points(before, n.figures.org_coverage()), empty ? "—" : pct(n.figures.standalone_rate()),
                 empty ? "—" : pct(n.figures.work_coverage()), empty ? "—" : pct(n.figures.instructor_coverage()),
                 std::to_string(n.branches()), std::to_string(n.instructors)});
        }
        table(doc, {"名称", "在营组织", "组织覆盖", "较上期", "单独组建", "工作覆盖", "指导员覆盖", "党组织", "指导员"},
              {139, 50, 50, 45, 50, 50, 55, 36, 36}, rows, 7.5);
    }
}

// 台账核实: the rate of ledgers confirmed this quarter per district and park, the 五有
// branches, and the instructors' visits.
void ledger(Doc& doc, const ReportData& r) {
    const auto& l = r.ledger;
    heading(doc, "台账核实（" + l.from + " 至 " + l.to + "）");
    double rate = l.operating ? static_cast<double>(l.verified) / l.operating : 0.0;
    std::string s = "本季度已核实五清台账的在营组织 " + std::to_string(l.verified) + " / " + std::to_string(l.operating) +
                    "（" + pct(rate) + "）；党组织 " + std::to_string(l.branches) + " 个，已检查五有 " +
                    std::to_string(l.branches_checked) + " 个，五有全部达标 " + std::to_string(l.branches_all_five) +
                    " 个。";
    doc.y += doc.text(kMargin, doc.y, s, 9, false, kInk, kRight - kMargin) + 6;
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : l.areas)
        rows.push_back({a.name, a.level == "park" ? "园区" : "区县", std::to_string(a.operating), std::to_string(a.verified),
                        a.operating ? pct(a.rate()) : "—"});
    if (!rows.empty()) table(doc, {"区县或园区", "类别", "在营组织", "已核实", "核实率"}, {200, 60, 80, 80, 95}, rows, 8);
    std::vector<std::vector<std::string>> people;
    for (std::size_t i = 0; i < l.instructors.size() && i < 40; ++i) {
        const auto& in = l.instructors[i];
        people.push_back({in.name, in.id, std::to_string(in.period), std::to_string(in.quarter)});
    }
    if (!people.empty()) {
        doc.y += doc.text(kMargin, doc.y, "指导员走访次数（前 " + std::to_string(people.size()) + " 名，全部见 XLSX 版）", 9, true) + 3;
        table(doc, {"指导员", "编号", "本期", "本季度"}, {200, 120, 90, 105}, people, 8);
    }
}

void flags(Doc& doc, const ReportData& r) {
    heading(doc, "问题清单（按当前数据）");
    for (const auto& f : r.flags) {
        doc.need(30);
        doc.y += doc.text(kMargin, doc.y, f.title + "：" + std::to_string(f.lines.size()) + " 项", 9.5, true) + 3;
        const std::size_t shown = std::min<std::size_t>(f.lines.size(), 40);
        for (std::size_t i = 0; i < shown; ++i) {
            doc.need(12);
            doc.y += doc.text(kMargin + 10, doc.y, "· " + f.lines[i], 8, false, kInk, kRight - kMargin - 10) + 1;
        }
        if (f.lines.size() > shown)
            doc.y += doc.text(kMargin + 10, doc.y,
                              "…… 另有 " + std::to_string(f.lines.size() - shown) + " 项，见 XLSX 版“问题清单”表", 8,
                              false, kGrey) +
                     1;
        doc.y += 6;
    }
}


}  // namespace

std::string title_of(const ReportData& r) {
    bool quarter = r.period.key.find('Q') != std::string::npos;
    return r.area_name + "两新组织党建工作" + (quarter ? "季报" : "月报");
}

std::string render_pdf(const ReportData& r) {
    std::string out;
    {
        std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
            cairo_pdf_surface_create_for_stream(append, &out, kWidth, kHeight), cairo_surface_destroy);
        auto title = title_of(r);
        // Same data, same bytes: the creation date is the figures' date, not the clock.
        cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE, title.c_str());
        cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "covermap");
        cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATE_DATE,
                                       (r.as_of + "T00:00:00+08:00").c_str());
        std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr(cairo_create(surface.get()), cairo_destroy);
        Doc doc(cr.get(), "covermap · " + title + " · " + r.period.label);

        doc.y += doc.text(kMargin, doc.y, title, 20, true) + 4;
        std::string sub = r.period.label + " · 数据截至 " + r.as_of + (r.live ? "（当前数据）" : "（历史快照）") +
                          (r.previous_as_of.empty() ? " · 无上期快照可比" : " · 对比 " + r.previous_as_of + " 快照");
        doc.y += doc.text(kMargin, doc.y, sub, 9, false, kGrey) + 10;
        headline(doc, r);
        scopes(doc, r);
        map_block(doc, r);
        trend(doc, r);
        plan_block(doc, r);
        area_tables(doc, r);
        ledger(doc, r);
        flags(doc, r);
        doc.finish_page();
        if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS)
            throw std::runtime_error(std::string("cannot draw the report: ") +
                                     cairo_status_to_string(cairo_status(cr.get())));
    }  // the surface writes the PDF's tail when destroyed
    return out;
}

}  // namespace covermap::report
