// The command line of the monthly reporting duty: snapshot, target, report.

#include "cli_report.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>

#include "covermap/api/text_table.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/history.hpp"
#include "covermap/geo/store.hpp"
#include "covermap/report/report.hpp"

namespace covermap::api {

namespace {

// The whole of text as a number, or nullopt.
std::optional<double> whole_number(const std::string& text) {
    std::size_t used = 0;
    try {
        double x = std::stod(text, &used);
        if (used == text.size()) return x;
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

// "90%", "90 %", "0.9" → 0.9; a factor "2", "2x", "2倍" → 2 when relative.
double parse_value(std::string v, bool relative) {
    for (const char* unit : {"%", "x", "倍"}) {
        std::string u = unit;
        if (v.size() > u.size() && v.compare(v.size() - u.size(), u.size(), u) == 0) {
            v.erase(v.size() - u.size());
            while (!v.empty() && v.back() == ' ') v.pop_back();
            if (auto x = whole_number(v)) return u == "%" ? *x / 100 : *x;
            break;
        }
    }
    auto x = whole_number(v);
    if (!x) throw geo::invalid_argument("--value takes a rate (90% or 0.9) or, with --baseline, a factor (2 or 2x)");
    if (!relative && *x > 1 && *x <= 100) return *x / 100;  // "90" means 90 %
    return *x;
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

struct State {
    std::string db, date, metric = "org_coverage", scope = "all", level, area, value, baseline, deadline, note, id;
    std::string month, quarter, format, out;
};

int snapshot(const State& s) {
    auto store = geo::Store::open_existing(s.db);
    std::string date = s.date.empty() ? geo::china_date() : geo::checked_date(s.date);
    auto snap = geo::take_snapshot(store.load(), date);
    store.save_snapshot(snap);
    const auto* total = snap.find("total", "total");
    std::printf("snapshot %s: %zu rows; organizational coverage %.1f%%, work coverage %.1f%% (%lld operating)\n",
                date.c_str(), snap.rows.size(), total ? total->figures.org_coverage() * 100 : 0.0,
                total ? total->figures.work_coverage() * 100 : 0.0, total ? total->figures.operating : 0LL);
    return 0;
}

int target_set(const State& s) {
    auto store = geo::Store::open_existing(s.db);
    geo::Target t;
    auto metric = geo::parse_metric(s.metric);
    auto scope = geo::parse_scope(s.scope);
    if (!metric)
        throw geo::invalid_argument(
            "--metric: org_coverage, standalone_rate, work_coverage, instructor_coverage or member_rate");
    if (!scope) throw geo::invalid_argument("--scope: all, enterprise, social, above_scale or employees50");
    t.metric = *metric;
    t.scope = *scope;
    t.deadline = s.deadline;
    t.baseline = s.baseline;
    t.value = parse_value(s.value, !s.baseline.empty());
    t.note = s.note;
    t.area = s.area;
    t.level = s.level;
    try {
        geo::check_target(t, store);
    } catch (const geo::invalid_argument& e) {
        // The command line's wording for a missing baseline: how to make one.
        std::string what = e.what();
        if (what.rfind("no snapshot dated", 0) == 0)
            throw geo::invalid_argument(what + " (covermap snapshot --date " + t.baseline + ")");
        throw;
    }
    auto id = store.add_target(t);
    std::printf("%s: %s of %s %s %s by %s\n", id.c_str(), std::string(geo::to_string(t.metric)).c_str(),
                std::string(geo::to_string(t.scope)).c_str(),
                t.area.empty() ? ("level " + t.level).c_str() : ("area " + t.area).c_str(),
                t.relative() ? (number(t.value) + " x the rate of " + t.baseline).c_str()
                             : (number(t.value * 100) + " %").c_str(),
                t.deadline.c_str());
    return 0;
}

int target_list(const State& s) {
    auto store = geo::Store::open_existing(s.db);
    std::vector<std::vector<std::string>> rows = {
        {"id", "metric", "scope", "applies to", "value", "baseline", "deadline", "note"}};
    for (const auto& t : store.targets()) {
        char v[32];
        std::snprintf(v, sizeof v, t.relative() ? "%gx" : "%.1f%%", t.relative() ? t.value : t.value * 100);
        rows.push_back({t.id, std::string(geo::to_string(t.metric)), std::string(geo::to_string(t.scope)),
                        t.area.empty() ? t.level : t.area, v, t.baseline.empty() ? "-" : t.baseline, t.deadline,
                        t.note});
    }
    std::printf("%s", render_table(rows, std::vector<bool>(8, false)).c_str());
    return 0;
}

int target_remove(const State& s) {
    auto store = geo::Store::open_existing(s.db);
    if (!store.remove_target(s.id)) throw geo::invalid_argument("no target " + s.id);
    std::printf("removed %s\n", s.id.c_str());
    return 0;
}

int make_report(const State& s) {
    if (s.month.empty() == s.quarter.empty()) throw geo::invalid_argument("give --month YYYY-MM or --quarter YYYY-Qn");
    std::string format = s.format;
    if (format.empty()) format = s.out.size() > 5 && s.out.substr(s.out.size() - 5) == ".xlsx" ? "xlsx" : "pdf";
    auto period = report::parse_period(s.month.empty() ? s.quarter : s.month);
    auto store = geo::Store::open_existing(s.db);
    auto data = report::gather(store.load(), store, period, s.area, geo::china_date());
    std::string bytes = format == "xlsx" ? report::render_xlsx(data) : report::render_pdf(data);
    std::ofstream f(s.out, std::ios::binary);
    if (!f || !f.write(bytes.data(), static_cast<std::streamsize>(bytes.size())) || !f.flush())
        throw geo::invalid_argument("cannot write " + s.out);
    std::printf("%s: %s, %s, figures of %s%s (%zu bytes)\n", s.out.c_str(), report::title_of(data).c_str(),
                period.label.c_str(), data.as_of.c_str(), data.live ? " (now)" : "", bytes.size());
    return 0;
}

}  // namespace

std::function<std::optional<int>()> add_report_commands(CLI::App& app) {
    auto s = std::make_shared<State>();
    const auto levels = CLI::IsMember({"total", "district", "street", "community", "grid", "park"});

    auto* snap = app.add_subcommand("snapshot", "store today's coverage of every area in the history (one per date)");
    snap->add_option("--db", s->db, "store: GeoPackage path or PG: connection string")->required();
    snap->add_option("--date", s->date,
                     "date of the snapshot, YYYY-MM-DD (default: today in China); replaces one of that date");

    auto* target = app.add_subcommand("target", "coverage targets (目标) the reports measure against");
    target->require_subcommand(1);
    auto* set = target->add_subcommand("set", "add a target: absolute (90% by a date) or relative (2x a baseline)");
    set->add_option("--db", s->db, "store")->required();
    set->add_option("--metric", s->metric,
                    "org_coverage (default) | standalone_rate | work_coverage | instructor_coverage | member_rate");
    set->add_option("--scope", s->scope, "all (default) | enterprise | social | above_scale | employees50");
    auto* lvl =
        set->add_option("--level", s->level, "every area of this level (default: total, the whole)")->check(levels);
    set->add_option("--area", s->area, "one area, by code")->excludes(lvl);
    set->add_option("--value", s->value, "the rate (90% or 0.9), or with --baseline the factor (2x)")->required();
    set->add_option("--baseline", s->baseline, "relative target: date of the baseline snapshot, YYYY-MM-DD");
    set->add_option("--deadline", s->deadline, "YYYY-MM-DD")->required();
    set->add_option("--note", s->note, "free text, e.g. the document that set it");
    auto* list = target->add_subcommand("list", "the targets");
    list->add_option("--db", s->db, "store")->required();
    auto* remove = target->add_subcommand("remove", "remove a target");
    remove->add_option("--db", s->db, "store")->required();
    remove->add_option("--id", s->id, "t-N, as target list shows")->required();

    auto* rep = app.add_subcommand("report", "the monthly (or quarterly) report as PDF or XLSX");
    rep->add_option("--db", s->db, "store")->required();
    auto* month = rep->add_option("--month", s->month, "YYYY-MM");
    rep->add_option("--quarter", s->quarter, "YYYY-Qn")->excludes(month);
    rep->add_option("--area", s->area, "a district, street or park code (default: everything)");
    rep->add_option("--format", s->format, "pdf | xlsx (default: from --out)")->check(CLI::IsMember({"pdf", "xlsx"}));
    rep->add_option("--out", s->out, "file to write")->required();

    return [=]() -> std::optional<int> {
        if (*snap) return snapshot(*s);
        if (*set) return target_set(*s);
        if (*list) return target_list(*s);
        if (*remove) return target_remove(*s);
        if (*rep) return make_report(*s);
        return std::nullopt;
    };
}

}  // namespace covermap::api
