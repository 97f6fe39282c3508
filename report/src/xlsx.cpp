// The report as a workbook (libxlsxwriter): the PDF's tables as sheets a clerk pastes into
// the city's template, rates as numbers formatted as percentages.

#include <unistd.h>
#include <xlsxwriter.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "covermap/geo/clock.hpp"
#include "covermap/report/report.hpp"

namespace covermap::report {

namespace {

// libxlsxwriter 1.1.4 (Debian 12) writes to a file only: a private temporary one, read back.
class TempFile {
public:
    TempFile() {
        std::string pattern = (std::filesystem::temp_directory_path() / "covermap-report-XXXXXX").string();
        int fd = mkstemp(pattern.data());
        if (fd < 0) throw std::runtime_error("cannot create a temporary file for the workbook");
        ::close(fd);
        path_ = pattern;
    }
    ~TempFile() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

struct Book {
    lxw_workbook* wb;
    lxw_format *head, *percent, *number, *title, *note;
};

void row_cells(lxw_worksheet* ws, const Book& b, lxw_row_t r, const geo::HistoryRow& n,
               const std::optional<geo::HistoryRow>& prev) {
    worksheet_write_string(ws, r, 0, n.figures.code.c_str(), nullptr);
    worksheet_write_string(ws, r, 1, n.figures.name.c_str(), nullptr);
    worksheet_write_number(ws, r, 2, static_cast<double>(n.figures.orgs), b.number);
    worksheet_write_number(ws, r, 3, static_cast<double>(n.figures.operating), b.number);
    worksheet_write_number(ws, r, 4, static_cast<double>(n.figures.org_covered), b.number);
    worksheet_write_number(ws, r, 5, n.figures.org_coverage(), b.percent);
    if (prev)
        worksheet_write_number(ws, r, 6, prev->figures.org_coverage(), b.percent);
    else
        worksheet_write_blank(ws, r, 6, nullptr);
    worksheet_write_number(ws, r, 7, n.figures.standalone_rate(), b.percent);
    worksheet_write_number(ws, r, 8, n.figures.work_coverage(), b.percent);
    worksheet_write_number(ws, r, 9, n.figures.instructor_coverage(), b.percent);
    worksheet_write_number(ws, r, 10, static_cast<double>(n.branches()), b.number);
    worksheet_write_number(ws, r, 11, static_cast<double>(n.instructors), b.number);
}

void header(lxw_worksheet* ws, const Book& b, lxw_row_t r, const std::vector<const char*>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i)
        worksheet_write_string(ws, r, static_cast<lxw_col_t>(i), cells[i], b.head);
}

const std::vector<const char*> kAreaHead = {"代码",       "名称",         "登记组织",       "在营组织",
                                            "已建党组织", "组织覆盖率",   "上期组织覆盖率", "单独组建率",
                                            "工作覆盖率", "指导员覆盖率", "党组织数",       "指导员数"};

}  // namespace

std::string render_xlsx(const ReportData& r) {
    TempFile tmp;
    lxw_workbook* wb = workbook_new(tmp.path().c_str());
    if (!wb) throw std::runtime_error("cannot start the workbook");
    Book b{wb,
           workbook_add_format(wb),
           workbook_add_format(wb),
           workbook_add_format(wb),
           workbook_add_format(wb),
           workbook_add_format(wb)};
    format_set_bold(b.head);
    format_set_bg_color(b.head, 0xEFF3FF);
    format_set_border(b.head, LXW_BORDER_THIN);
    format_set_num_format(b.percent, "0.0%");
    format_set_num_format(b.number, "0");
    format_set_bold(b.title);
    format_set_font_size(b.title, 14);
    format_set_font_color(b.note, 0x666666);

    // Same data, same bytes: the document's dates are the figures' date.
    std::string title = title_of(r);
    lxw_doc_properties props{};
    props.title = const_cast<char*>(title.c_str());
    props.author = const_cast<char*>("covermap");
    props.created = static_cast<time_t>(geo::epoch_seconds(r.as_of));
    workbook_set_properties(wb, &props);

    // 概况: the headline per scope, this period and the last.
    lxw_worksheet* ws = workbook_add_worksheet(wb, "概况");
    worksheet_write_string(ws, 0, 0, title.c_str(), b.title);
    std::string sub = r.period.label + "，数据截至 " + r.as_of + (r.live ? "（当前数据）" : "（历史快照）") +
                      (r.previous_as_of.empty() ? "" : "，上期 " + r.previous_as_of);
    worksheet_write_string(ws, 1, 0, sub.c_str(), b.note);
    header(ws, b, 3,
           {"范围", "登记组织", "在营组织", "已建党组织", "组织覆盖率", "上期组织覆盖率", "单独组建率", "工作覆盖率",
            "指导员覆盖率", "有党员比例", "单独组建党组织", "联合组建党组织", "挂靠组建党组织", "选派指导员"});
    lxw_row_t row = 4;
    for (std::size_t i = 0; i < r.now.size(); ++i, ++row) {
        const auto& n = r.now[i];
        worksheet_write_string(ws, row, 0, std::string(geo::chinese_name(n.scope)).c_str(), nullptr);
        worksheet_write_number(ws, row, 1, static_cast<double>(n.figures.orgs), b.number);
        worksheet_write_number(ws, row, 2, static_cast<double>(n.figures.operating), b.number);
        worksheet_write_number(ws, row, 3, static_cast<double>(n.figures.org_covered), b.number);
        worksheet_write_number(ws, row, 4, n.figures.org_coverage(), b.percent);
        if (r.previous[i]) worksheet_write_number(ws, row, 5, r.previous[i]->figures.org_coverage(), b.percent);
        worksheet_write_number(ws, row, 6, n.rate(geo::Metric::standalone_rate), b.percent);
        worksheet_write_number(ws, row, 7, n.rate(geo::Metric::work_coverage), b.percent);
        worksheet_write_number(ws, row, 8, n.rate(geo::Metric::instructor_coverage), b.percent);
        worksheet_write_number(ws, row, 9, n.rate(geo::Metric::member_rate), b.percent);
        worksheet_write_number(ws, row, 10, static_cast<double>(n.branches_standalone), b.number);
        worksheet_write_number(ws, row, 11, static_cast<double>(n.branches_joint), b.number);
        worksheet_write_number(ws, row, 12, static_cast<double>(n.branches_affiliated), b.number);
        worksheet_write_number(ws, row, 13, static_cast<double>(n.instructors), b.number);
    }
    worksheet_set_column(ws, 0, 0, 16, nullptr);
    worksheet_set_column(ws, 1, 13, 13, nullptr);
    if (r.plan) {
        row += 1;
        std::string s = "若接受当前方案 " + r.plan->id + "：";
        worksheet_write_string(ws, row, 0, s.c_str(), b.head);
        worksheet_write_string(ws, row, 1, "组织覆盖率", nullptr);
        worksheet_write_number(ws, row, 2, r.plan->after.org_coverage(), b.percent);
        worksheet_write_string(ws, row, 3, "工作覆盖率", nullptr);
        worksheet_write_number(ws, row, 4, r.plan->after.work_coverage(), b.percent);
        worksheet_write_string(ws, row, 5, "指导员覆盖率", nullptr);
        worksheet_write_number(ws, row, 6, r.plan->after.instructor_coverage(), b.percent);
    }

    // 目标
    ws = workbook_add_worksheet(wb, "目标");
    header(ws, b, 0, {"指标", "范围", "目标", "基期", "基期值", "当前", "差距", "期限", "说明"});
    row = 1;
    for (const auto& t : r.targets) {
        worksheet_write_string(ws, row, 0, std::string(geo::chinese_name(t.metric)).c_str(), nullptr);
        worksheet_write_string(ws, row, 1, std::string(geo::chinese_name(t.scope)).c_str(), nullptr);
        worksheet_write_number(ws, row, 2, t.goal, b.percent);
        worksheet_write_string(ws, row, 3, t.baseline.c_str(), nullptr);
        if (t.baseline_rate) worksheet_write_number(ws, row, 4, *t.baseline_rate, b.percent);
        worksheet_write_number(ws, row, 5, t.now, b.percent);
        worksheet_write_number(ws, row, 6, std::max(0.0, t.goal - t.now), b.percent);
        worksheet_write_string(ws, row, 7, t.deadline.c_str(), nullptr);
        worksheet_write_string(ws, row, 8, t.note.c_str(), nullptr);
        ++row;
    }
    worksheet_set_column(ws, 0, 8, 14, nullptr);

    // One sheet per table of areas, worst first as in the PDF.
    for (const auto& t : r.tables) {
        std::string name = t.title.substr(0, t.title.find("（"));
        ws = workbook_add_worksheet(wb, name.c_str());
        header(ws, b, 0, kAreaHead);
        for (std::size_t i = 0; i < t.rows.size(); ++i)
            row_cells(ws, b, static_cast<lxw_row_t>(i + 1), t.rows[i], t.previous[i]);
        worksheet_set_column(ws, 0, 0, 14, nullptr);
        worksheet_set_column(ws, 1, 1, 24, nullptr);
        worksheet_set_column(ws, 2, 11, 12, nullptr);
        worksheet_freeze_panes(ws, 1, 2);
    }

    // 台账核实: per district and park, then the instructors' visits.
    ws = workbook_add_worksheet(wb, "台账核实");
    const auto& l = r.ledger;
    worksheet_write_string(ws, 0, 0, ("台账核实（" + l.from + " 至 " + l.to + "）").c_str(), b.title);
    header(ws, b, 1, {"代码", "名称", "类别", "在营组织", "已核实", "核实率"});
    lxw_row_t at = 2;
    for (const auto& a : l.areas) {
        worksheet_write_string(ws, at, 0, a.code.c_str(), nullptr);
        worksheet_write_string(ws, at, 1, a.name.c_str(), nullptr);
        worksheet_write_string(ws, at, 2, a.level == "park" ? "园区" : "区县", nullptr);
        worksheet_write_number(ws, at, 3, static_cast<double>(a.operating), b.number);
        worksheet_write_number(ws, at, 4, static_cast<double>(a.verified), b.number);
        worksheet_write_number(ws, at, 5, a.rate(), b.percent);
        ++at;
    }
    worksheet_write_string(ws, at, 1, "合计", b.head);
    worksheet_write_number(ws, at, 3, static_cast<double>(l.operating), b.number);
    worksheet_write_number(ws, at, 4, static_cast<double>(l.verified), b.number);
    worksheet_write_number(ws, at, 5, l.operating ? static_cast<double>(l.verified) / l.operating : 0.0, b.percent);
    at += 2;
    header(ws, b, at, {"党组织", "已检查五有", "五有全部达标"});
    worksheet_write_number(ws, at + 1, 0, static_cast<double>(l.branches), b.number);
    worksheet_write_number(ws, at + 1, 1, static_cast<double>(l.branches_checked), b.number);
    worksheet_write_number(ws, at + 1, 2, static_cast<double>(l.branches_all_five), b.number);
    at += 3;
    header(ws, b, at++, {"指导员编号", "指导员", "本期走访", "本季度走访"});
    for (const auto& in : l.instructors) {
        worksheet_write_string(ws, at, 0, in.id.c_str(), nullptr);
        worksheet_write_string(ws, at, 1, in.name.c_str(), nullptr);
        worksheet_write_number(ws, at, 2, in.period, b.number);
        worksheet_write_number(ws, at, 3, in.quarter, b.number);
        ++at;
    }
    worksheet_set_column(ws, 0, 5, 16, nullptr);

    // 走势, with a line chart of the rates.
    ws = workbook_add_worksheet(wb, "走势");
    header(ws, b, 0, {"日期", "在营组织", "组织覆盖率", "工作覆盖率", "指导员覆盖率"});
    for (std::size_t i = 0; i < r.trend.size(); ++i) {
        auto rr = static_cast<lxw_row_t>(i + 1);
        const auto& p = r.trend[i];
        worksheet_write_string(ws, rr, 0, p.date.c_str(), nullptr);
        worksheet_write_number(ws, rr, 1, static_cast<double>(p.figures.operating), b.number);
        worksheet_write_number(ws, rr, 2, p.figures.org_coverage(), b.percent);
        worksheet_write_number(ws, rr, 3, p.figures.work_coverage(), b.percent);
        worksheet_write_number(ws, rr, 4, p.figures.instructor_coverage(), b.percent);
    }
    worksheet_set_column(ws, 0, 4, 13, nullptr);
    if (r.trend.size() >= 2) {
        lxw_chart* chart = workbook_add_chart(wb, LXW_CHART_LINE);
        auto last = static_cast<lxw_row_t>(r.trend.size());
        const char* names[] = {"组织覆盖率", "工作覆盖率", "指导员覆盖率"};
        for (lxw_col_t c = 2; c <= 4; ++c) {
            lxw_chart_series* s = chart_add_series(chart, nullptr, nullptr);
            chart_series_set_categories(s, "走势", 1, 0, last, 0);
            chart_series_set_values(s, "走势", 1, c, last, c);
            chart_series_set_name(s, names[c - 2]);
        }
        chart_axis_set_num_format(chart->y_axis, "0%");
        worksheet_insert_chart(ws, 1, 6, chart);
    }

    // 问题清单
    ws = workbook_add_worksheet(wb, "问题清单");
    header(ws, b, 0, {"类型", "说明"});
    row = 1;
    for (const auto& f : r.flags)
        for (const auto& line : f.lines) {
            worksheet_write_string(ws, row, 0, f.title.c_str(), nullptr);
            worksheet_write_string(ws, row, 1, line.c_str(), nullptr);
            ++row;
        }
    worksheet_set_column(ws, 0, 0, 30, nullptr);
    worksheet_set_column(ws, 1, 1, 80, nullptr);

    if (lxw_error e = workbook_close(wb); e != LXW_NO_ERROR)
        throw std::runtime_error(std::string("cannot write the workbook: ") + lxw_strerror(e));
    std::ifstream in(tmp.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

std::string table_xlsx(const std::string& sheet, const std::vector<std::string>& head,
                       const std::vector<std::vector<std::string>>& rows) {
    TempFile tmp;
    lxw_workbook* wb = workbook_new(tmp.path().c_str());
    if (!wb) throw std::runtime_error("cannot start the workbook");
    lxw_format* bold = workbook_add_format(wb);
    format_set_bold(bold);
    format_set_bg_color(bold, 0xEFF3FF);
    format_set_border(bold, LXW_BORDER_THIN);
    lxw_worksheet* ws = workbook_add_worksheet(wb, sheet.c_str());
    for (std::size_t c = 0; c < head.size(); ++c) {
        worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), head[c].c_str(), bold);
        worksheet_set_column(ws, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c), c == 0 ? 8 : 22, nullptr);
    }
    for (std::size_t r = 0; r < rows.size(); ++r)
        for (std::size_t c = 0; c < rows[r].size(); ++c)
            worksheet_write_string(ws, static_cast<lxw_row_t>(r + 1), static_cast<lxw_col_t>(c), rows[r][c].c_str(), nullptr);
    worksheet_freeze_panes(ws, 1, 0);
    if (lxw_error e = workbook_close(wb); e != LXW_NO_ERROR)
        throw std::runtime_error(std::string("cannot write the workbook: ") + lxw_strerror(e));
    std::ifstream in(tmp.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

}  // namespace covermap::report
