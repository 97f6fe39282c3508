// The monthly reporting duty: snapshots over simulated months, targets, the report as PDF
// (read back with pdftotext, rendered with pdftoppm) and XLSX (read back with openpyxl), and
// the routes on a real server.
#include "covermap/report/report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "api/http_client.hpp"
#include "api/served.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/history.hpp"
#include "covermap/geo/store.hpp"
#include "support.hpp"

using namespace covermap;
using nlohmann::json;
using test::capture;
using test::request;
using test::Served;
using test::TempDir;

namespace {

void write(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::string pct(double r) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", r * 100);
    return buf;
}

// Gives instructors to n operating organizations that have no branch and no instructor; returns
// how many it gave and, per street code, how many of them lie there.
std::size_t assign_some(geo::Dataset& d, std::size_t n) {
    std::size_t done = 0;
    for (auto& o : d.orgs)
        if (done < n && o.operating() && !o.branch_id && !o.instructor_id) {
            o.instructor_id = d.instructors.front().id;
            ++done;
        }
    return done;
}

struct Months {
    TempDir dir;
    std::string db = dir / "m.gpkg";
    geo::Dataset d = test::demo_dataset(0.05, 11);
    std::size_t moved = 0;
    Months() {
        auto store = geo::Store::open(db);
        store.replace(d);
        store.save_snapshot(geo::take_snapshot(d, "2026-01-31"));
        moved = assign_some(d, 7);
        store.replace(d);  // the history stays
        store.save_snapshot(geo::take_snapshot(d, "2026-02-28"));
    }
};

}  // namespace

TEST(History, SnapshotsOverSimulatedMonthsGiveTheExpectedDeltas) {
    Months m;
    ASSERT_EQ(m.moved, 7u);
    auto store = geo::Store::open_existing(m.db);
    EXPECT_EQ(store.snapshot_dates(), (std::vector<std::string>{"2026-01-31", "2026-02-28"}));
    auto jan = store.snapshot("2026-01-31"), feb = store.snapshot("2026-02-28");
    const auto *a = jan.find("total", "total"), *b = feb.find("total", "total");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(b->figures.instructor_covered - a->figures.instructor_covered, 7);
    EXPECT_EQ(b->figures.work_covered - a->figures.work_covered, 7);
    EXPECT_EQ(b->figures.org_covered, a->figures.org_covered);
    EXPECT_EQ(b->figures.operating, a->figures.operating);
    // The "all" rows are compute_coverage's, level by level.
    for (auto level : {geo::Level::district, geo::Level::street, geo::Level::park, geo::Level::grid}) {
        auto t = geo::compute_coverage(m.d, level);
        for (const auto& row : t.areas) {
            const auto* h = feb.find(geo::to_string(level), row.code);
            ASSERT_TRUE(h) << row.code;
            EXPECT_EQ(h->figures.operating, row.operating);
            EXPECT_EQ(h->figures.org_covered, row.org_covered);
            EXPECT_EQ(h->figures.standalone, row.standalone);
            EXPECT_EQ(h->figures.work_covered, row.work_covered);
            EXPECT_EQ(h->figures.instructor_covered, row.instructor_covered);
        }
        if (level == geo::Level::district) {
            EXPECT_EQ(b->figures.work_covered, t.total.work_covered);
        }
    }
    // Scopes: above-scale enterprises are enterprises, and 50+ rows count only those.
    long long above = 0, fifty = 0;
    for (const auto& o : m.d.orgs)
        if (o.operating()) above += o.kind == geo::OrgKind::enterprise && o.above_scale, fifty += o.employees >= 50;
    EXPECT_EQ(feb.find("total", "total", geo::Scope::above_scale)->figures.operating, above);
    EXPECT_EQ(feb.find("total", "total", geo::Scope::employees50)->figures.operating, fifty);
    // Re-running a date replaces it, in one piece.
    auto rows = store.count("history");
    store.save_snapshot(geo::take_snapshot(m.d, "2026-02-28"));
    EXPECT_EQ(store.count("history"), rows);
    EXPECT_THROW(geo::take_snapshot(m.d, "2026-02-30"), geo::invalid_argument);
    EXPECT_THROW(geo::take_snapshot(m.d, "2026-2-3"), geo::invalid_argument);
}

TEST(History, TargetsAbsoluteRelativeAndMostSpecific) {
    Months m;
    auto store = geo::Store::open_existing(m.db);
    geo::Target whole{"", geo::Metric::org_coverage, geo::Scope::all, "total", "", 0.9, "", "2026-12-31", "年底90%"};
    geo::Target doubled{"", geo::Metric::work_coverage, geo::Scope::all, "street", "", 2, "2026-01-31", "2026-12-31",
                        ""};
    geo::Target above{"", geo::Metric::org_coverage, geo::Scope::above_scale, "total", "", 1, "", "2026-06-30", ""};
    EXPECT_EQ(store.add_target(whole), "t-1");
    store.add_target(doubled);
    store.add_target(above);
    auto targets = store.targets();
    ASSERT_EQ(targets.size(), 3u);
    std::vector<geo::Snapshot> baselines = {store.snapshot("2026-01-31")};
    auto v = geo::target_for(targets, geo::Metric::org_coverage, geo::Scope::all, "total", "total", baselines);
    ASSERT_TRUE(v);
    EXPECT_DOUBLE_EQ(v->goal, 0.9);
    EXPECT_TRUE(
        geo::target_for(targets, geo::Metric::org_coverage, geo::Scope::above_scale, "total", "total", baselines));
    EXPECT_FALSE(geo::target_for(targets, geo::Metric::org_coverage, geo::Scope::all, "street", "x", baselines));
    // Relative: twice the street's rate in the baseline snapshot, at most 100 %.
    const auto& street = *std::find_if(m.d.areas.begin(), m.d.areas.end(),
                                       [](const geo::Area& a) { return a.level == geo::Level::street; });
    auto r = geo::target_for(targets, geo::Metric::work_coverage, geo::Scope::all, "street", street.code, baselines);
    ASSERT_TRUE(r);
    double base = baselines[0].find("street", street.code)->rate(geo::Metric::work_coverage);
    EXPECT_DOUBLE_EQ(*r->baseline_rate, base);
    EXPECT_DOUBLE_EQ(r->goal, std::min(1.0, 2 * base));
    // An area's own target wins over the level-wide one.
    store.add_target({"", geo::Metric::work_coverage, geo::Scope::all, "", street.code, 0.5, "", "2026-09-30", ""});
    auto own =
        geo::target_for(store.targets(), geo::Metric::work_coverage, geo::Scope::all, "street", street.code, baselines);
    EXPECT_DOUBLE_EQ(own->goal, 0.5);
    EXPECT_TRUE(store.remove_target("t-4"));
    EXPECT_FALSE(store.remove_target("t-4"));
}

TEST(Report, PdfCarriesTheMonthsFiguresAndItsPagesRender) {
    Months m;
    auto store = geo::Store::open_existing(m.db);
    store.add_target({"", geo::Metric::org_coverage, geo::Scope::all, "total", "", 0.9, "", "2026-12-31", ""});
    auto data = report::gather(m.d, store, report::parse_period("2026-02"), "", "2026-11-25");
    EXPECT_FALSE(data.live);
    EXPECT_EQ(data.as_of, "2026-02-28");
    EXPECT_EQ(data.previous_as_of, "2026-01-31");
    auto pdf = report::render_pdf(data);
    ASSERT_EQ(pdf.substr(0, 5), "%PDF-");
    EXPECT_EQ(report::render_pdf(data), pdf) << "same data, same bytes";
    write(m.dir / "r.pdf", pdf);
    auto text = capture("pdftotext -layout " + m.dir / "r.pdf" + " -");
    const auto& feb = data.all().figures;
    EXPECT_NE(text.find("全部区县两新组织党建工作月报"), std::string::npos);
    EXPECT_NE(text.find("2026年2月"), std::string::npos);
    EXPECT_NE(text.find(pct(feb.work_coverage())), std::string::npos) << text.substr(0, 2000);
    EXPECT_NE(text.find(pct(feb.org_coverage())), std::string::npos);
    EXPECT_NE(text.find("在营组织 " + std::to_string(feb.operating)), std::string::npos);
    // Seven organizations more with an instructor: the change in points is printed.
    char change[32];
    std::snprintf(change, sizeof change, "%+.1f",
                  std::round((feb.work_coverage() - data.previous_all()->figures.work_coverage()) * 1000) / 10);
    EXPECT_NE(text.find(std::string("较上期 ") + change + " 个百分点"), std::string::npos);
    EXPECT_NE(text.find("目标 90.0%"), std::string::npos);
    for (const auto& t : data.tables) EXPECT_NE(text.find(t.rows.front().figures.name), std::string::npos);
    // Every page renders.
    capture("pdftoppm -r 20 -png " + m.dir / "r.pdf" + " " + m.dir / "page");
    EXPECT_TRUE(std::filesystem::exists(m.dir / "page-1.png"));
    // A street's report: its communities, the street's own figures.
    const auto& street = *std::find_if(m.d.areas.begin(), m.d.areas.end(),
                                       [](const geo::Area& a) { return a.level == geo::Level::street; });
    auto s = report::gather(m.d, store, report::parse_period("2026-Q1"), street.code, "2026-11-25");
    EXPECT_EQ(s.area_name, street.name);
    EXPECT_EQ(s.as_of, "2026-02-28");
    for (const auto& row : geo::compute_coverage(m.d, geo::Level::street).areas)
        if (row.code == street.code) {
            EXPECT_EQ(s.all().figures.operating, row.operating);
            EXPECT_EQ(s.all().figures.work_covered, row.work_covered);
        }
    ASSERT_FALSE(s.tables.empty());
    EXPECT_EQ(s.tables.front().title, "社区（村）");
    EXPECT_EQ(report::render_pdf(s).substr(0, 5), "%PDF-");
    // Periods without figures, unknown areas and bad periods are refused with a reason.
    EXPECT_THROW(report::gather(m.d, store, report::parse_period("2025-12"), "", "2026-11-25"), geo::invalid_argument);
    EXPECT_THROW(report::gather(m.d, store, report::parse_period("2026-02"), "nowhere", "2026-11-25"),
                 geo::invalid_argument);
    EXPECT_THROW(report::gather(m.d, store, report::parse_period("2027-01"), "", "2026-11-25"), geo::invalid_argument);
    for (const char* bad : {"2026-13", "2026-Q5", "26-01", "2026-01x", "2026-Q0", ""})
        EXPECT_THROW(report::parse_period(bad), geo::invalid_argument) << bad;
}

TEST(Report, CurrentMonthIsTheDataNowAndMatchesTheCoverage) {
    Months m;
    auto store = geo::Store::open_existing(m.db);
    auto data = report::gather(m.d, store, report::parse_period("2026-11"), "", "2026-11-25");
    EXPECT_TRUE(data.live);
    auto total = geo::compute_coverage(m.d, geo::Level::district).total;
    EXPECT_EQ(data.all().figures.operating, total.operating);
    EXPECT_EQ(data.all().figures.org_covered, total.org_covered);
    EXPECT_EQ(data.all().figures.work_covered, total.work_covered);
    ASSERT_EQ(data.trend.size(), 3u);  // January, February and now
    EXPECT_EQ(data.trend.back().date, "2026-11-25");
}

TEST(Report, XlsxReadsBackWithTheSameNumbers) {
    Months m;
    auto store = geo::Store::open_existing(m.db);
    auto data = report::gather(m.d, store, report::parse_period("2026-02"), "", "2026-11-25");
    auto xlsx = report::render_xlsx(data);
    EXPECT_EQ(report::render_xlsx(data), xlsx) << "same data, same bytes";
    write(m.dir / "r.xlsx", xlsx);
    write(m.dir / "read.py",
          "import openpyxl, json, sys\n"
          "wb = openpyxl.load_workbook(sys.argv[1])\n"
          "out = {}\n"
          "for ws in wb.worksheets:\n"
          "    out[ws.title] = [[c.value for c in r] for r in ws.iter_rows()]\n"
          "    out[ws.title + '.fmt'] = ws.cell(5, 5).number_format\n"
          "print(json.dumps(out))\n");
    auto j = json::parse(capture("/usr/bin/python3 " + m.dir / "read.py " + m.dir / "r.xlsx"));
    const auto& head = j["概况"];
    const auto& all = data.all().figures;
    EXPECT_EQ(head[4][0], "全部");
    EXPECT_EQ(head[4][2], all.operating);
    EXPECT_NEAR(head[4][4].get<double>(), all.org_coverage(), 1e-12);
    EXPECT_NEAR(head[4][5].get<double>(), data.previous_all()->figures.org_coverage(), 1e-12);
    EXPECT_NEAR(head[4][7].get<double>(), all.work_coverage(), 1e-12);
    EXPECT_EQ(j["概况.fmt"], "0.0%");
    const auto& streets = j["街道"];
    ASSERT_EQ(streets.size(), data.tables.front().rows.size() + 1);
    for (std::size_t i = 0; i < data.tables.front().rows.size(); ++i) {
        const auto& row = data.tables.front().rows[i].figures;
        EXPECT_EQ(streets[i + 1][0], row.code);
        EXPECT_EQ(streets[i + 1][3], row.operating);
        EXPECT_NEAR(streets[i + 1][5].get<double>(), row.org_coverage(), 1e-12);
    }
    EXPECT_TRUE(j.contains("走势"));
    EXPECT_TRUE(j.contains("问题清单"));
}

TEST(ReportRoutes, HistoryReportAndTargetsOverHttp) {
    api::AppOptions ao;  // targets re-read every 100 ms instead of 5 s: the test waits less
    ao.refresh_interval = std::chrono::milliseconds(100);
    Served s({}, ao);
    // Starting took the month's snapshot, dated today (in China).
    ASSERT_TRUE(s.healthy());
    auto store = geo::Store::open_existing(s.db);
    auto dates = store.snapshot_dates();
    ASSERT_EQ(dates.size(), 1u);
    EXPECT_EQ(dates.front(), geo::china_date());
    store.add_target({"", geo::Metric::org_coverage, geo::Scope::all, "total", "", 0.9, "", "2026-12-31", ""});

    auto h = request(s.port, "GET", "/api/history", s.viewer);
    ASSERT_EQ(h.status, 200) << h.body;
    auto hj = json::parse(h.body);
    EXPECT_EQ(hj["area"], "total");
    ASSERT_EQ(hj["points"].size(), 1u);
    auto cov = json::parse(request(s.port, "GET", "/api/coverage?level=district", s.viewer).body);
    EXPECT_EQ(hj["now"]["operating"], cov["total"]["operating"]);
    EXPECT_EQ(hj["now"]["org_covered"], cov["total"]["org_covered"]);
    EXPECT_EQ(request(s.port, "GET", "/api/history?area=nowhere", s.viewer).status, 404);
    EXPECT_EQ(request(s.port, "GET", "/api/history?scope=everyone", s.viewer).status, 400);
    EXPECT_EQ(request(s.port, "GET", "/api/history", "").status, 401);

    auto month = geo::china_date().substr(0, 7);
    auto pdf = request(s.port, "GET", "/api/report?month=" + month, s.viewer);
    ASSERT_EQ(pdf.status, 200) << pdf.body;
    EXPECT_EQ(pdf.header("Content-Type"), "application/pdf");
    EXPECT_EQ(pdf.body.substr(0, 5), "%PDF-");
    EXPECT_NE(pdf.header("Content-Disposition").find("covermap-report-" + month + ".pdf"), std::string::npos);
    auto xlsx = request(s.port, "GET", "/api/report?format=xlsx&month=" + month, s.viewer);
    ASSERT_EQ(xlsx.status, 200);
    EXPECT_EQ(xlsx.body.substr(0, 2), "PK");
    for (const char* bad : {"/api/report?month=2026-13", "/api/report", "/api/report?month=2026-01&quarter=2026-Q1",
                            "/api/report?month=2020-01", "/api/report?month=2026-01&format=doc",
                            "/api/report?month=2026-01&area=%FF", "/api/report?month=2026-01&bogus=1"}) {
        auto r = request(s.port, "GET", bad, s.viewer);
        EXPECT_EQ(r.status, 400) << bad << " " << r.body;
        EXPECT_TRUE(json::accept(r.body)) << bad;
    }
    EXPECT_TRUE(s.healthy());

    // Targets beside the coverage figures, once the server has re-read them.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cov = json::parse(request(s.port, "GET", "/api/coverage?level=street", s.viewer).body);
    ASSERT_TRUE(cov.contains("targets"));
    ASSERT_EQ(cov["targets"].size(), 1u);
    EXPECT_EQ(cov["targets"][0]["area"], "total");
    EXPECT_DOUBLE_EQ(cov["targets"][0]["goal"].get<double>(), 0.9);
}

TEST(Report, TheLedgerSectionCountsThisQuartersConfirmedLedgersAndTheInstructorsVisits) {
    Months m;
    // Visits: two confirmed this quarter (one by an instructor, twice), one last quarter, one
    // call that confirmed nothing; a branch checked with all five.
    std::vector<const geo::Organization*> served;
    for (const auto& o : m.d.orgs)
        if (o.operating() && o.instructor_id) served.push_back(&o);
    const geo::Organization* branch = nullptr;
    for (const auto& o : m.d.orgs)
        if (o.operating() && o.branch_id) branch = &o;
    ASSERT_GE(served.size(), 3u);
    ASSERT_TRUE(branch);
    auto visit = [](const geo::Organization& o, std::string date, bool confirmed, int wuyou = -1) {
        geo::Visit v;
        v.org = o.id;
        v.date = std::move(date);
        v.kind = "走访";
        v.ledger_confirmed = confirmed;
        v.by = "t";
        v.instructor = o.instructor_id.value_or("");
        v.wuyou = wuyou;
        return v;
    };
    {
        auto store = geo::Store::open_existing(m.db);
        store.add_visits({visit(*served[0], "2026-10-08", true), visit(*served[0], "2026-11-20", true),
                          visit(*served[1], "2026-11-03", true), visit(*served[2], "2026-09-30", true),
                          visit(*served[2], "2026-11-10", false), visit(*branch, "2026-11-11", true, geo::kWuyouAll)});
    }
    auto store = geo::Store::open_existing(m.db);
    auto d = store.load();
    auto data = report::gather(d, store, report::parse_period("2026-11"), "", "2026-11-25");
    const auto& l = data.ledger;
    EXPECT_EQ(l.from, "2026-10-01");
    EXPECT_EQ(l.to, "2026-11-25");
    std::set<std::string> verified = {served[0]->id, served[1]->id, branch->id};
    EXPECT_EQ(l.verified, static_cast<long long>(verified.size()));
    long long per_district = 0;
    for (const auto& a : l.areas)
        if (a.level == "district") per_district += a.verified;
    EXPECT_EQ(per_district, l.verified);
    EXPECT_EQ(l.branches_all_five, 1);
    EXPECT_GE(l.branches_checked, 1);
    // The instructor of served[0]: two visits this quarter, one in November (the period).
    bool found = false;
    for (const auto& in : l.instructors)
        if (in.id == *served[0]->instructor_id) {
            found = true;
            EXPECT_GE(in.quarter, 2);
            EXPECT_GE(in.period, 1);
        }
    EXPECT_TRUE(found);

    auto pdf = report::render_pdf(data);
    write(m.dir / "l.pdf", pdf);
    auto text = capture("pdftotext -layout " + m.dir / "l.pdf" + " -");
    EXPECT_NE(text.find("台账核实"), std::string::npos);
    EXPECT_NE(text.find("五有全部达标 1 个"), std::string::npos) << text.substr(text.find("台账核实"), 400);
    auto xlsx = report::render_xlsx(data);
    write(m.dir / "l.xlsx", xlsx);
    write(m.dir / "sheets.py",
          "import openpyxl, json, sys\n"
          "wb = openpyxl.load_workbook(sys.argv[1])\n"
          "ws = wb['台账核实']\n"
          "print(json.dumps([[c.value for c in r] for r in ws.iter_rows()]))\n");
    auto rows = json::parse(capture("/usr/bin/python3 " + m.dir / "sheets.py " + m.dir / "l.xlsx"));
    bool total = false;
    for (const auto& r : rows)
        if (r[1] == "合计") {
            total = true;
            EXPECT_EQ(r[4], l.verified);
        }
    EXPECT_TRUE(total);
}
