// The monthly reporting duty over HTTP: an area's coverage history and targets, the report as
// PDF or XLSX, targets beside the coverage figures, and the snapshot a server takes on the
// first request of each month.
#include <algorithm>
#include <cstdio>

#include "report_routes.hpp"

#include "coverage_cache.hpp"
#include "route_support.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/editor.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/history.hpp"
#include "covermap/geo/text.hpp"
#include "covermap/report/report.hpp"

namespace covermap::api {

using nlohmann::json;

namespace {

void only_params(const Request& req, std::initializer_list<std::string_view> known) {
    if (auto key = unknown_parameter(req, known)) throw geo::invalid_argument("unknown query parameter '" + *key + "'");
}

json point_json(const geo::HistoryRow& r) {
    const auto& f = r.figures;
    json j = {{"date", r.date},
              {"orgs", f.orgs},
              {"operating", f.operating},
              {"org_covered", f.org_covered},
              {"standalone", f.standalone},
              {"work_covered", f.work_covered},
              {"instructor_covered", f.instructor_covered},
              {"with_members", r.with_members},
              {"branches_standalone", r.branches_standalone},
              {"branches_joint", r.branches_joint},
              {"branches_affiliated", r.branches_affiliated},
              {"instructors", r.instructors}};
    for (geo::Metric m : geo::kMetrics) j[std::string(geo::to_string(m))] = r.rate(m);
    return j;
}

json target_json(const geo::TargetValue& v, const std::string& area) {
    const auto& t = *v.target;
    json j = {{"id", t.id},
              {"metric", std::string(geo::to_string(t.metric))},
              {"scope", std::string(geo::to_string(t.scope))},
              {"area", area},
              {"goal", v.goal},
              {"deadline", t.deadline},
              {"note", t.note}};
    if (t.relative()) j["baseline"] = {{"date", t.baseline}, {"rate", *v.baseline_rate}, {"factor", t.value}};
    return j;
}

// The current month in China as yyyymm (from the one rule for "today in China").
int month_now() {
    auto today = geo::china_date();
    return std::stoi(today.substr(0, 4)) * 100 + std::stoi(today.substr(5, 2));
}

}  // namespace

void Reports::add_routes(Router& router) {
    router.add("GET", "/api/history", Role::viewer, this, &Reports::history);
    router.add("GET", "/api/report", Role::viewer, this, &Reports::report);
    router.add("GET", "/api/print", Role::viewer, this, &Reports::print);
    router.add("GET", "/api/targets", Role::viewer, this, &Reports::list_targets);
    router.add("POST", "/api/targets", Role::admin, this, &Reports::add_target);
    router.add("DELETE", "/api/targets/{}", Role::admin, this, &Reports::remove_target);
}

namespace {

json stored_target_json(const geo::Target& t) {
    return {{"id", t.id},
            {"metric", std::string(geo::to_string(t.metric))},
            {"scope", std::string(geo::to_string(t.scope))},
            {"level", t.area.empty() ? json(t.level) : json()},
            {"area", t.area.empty() ? json() : json(t.area)},
            {"value", t.value},
            {"baseline", t.baseline.empty() ? json() : json(t.baseline)},
            {"deadline", t.deadline},
            {"note", t.note}};
}

}  // namespace

Response Reports::list_targets(const Request&, const Caller&, const Args&) {
    json items = json::array();
    for (const auto& t : target_state()->targets) items.push_back(stored_target_json(t));
    return json_response({{"items", items}});
}

// The rules of `covermap target set` (geo::check_target): a rate 0–1 by a date, or a factor of
// a baseline snapshot's rate; for the whole, every area of a level, or one area.
Response Reports::add_target(const Request& req, const Caller&, const Args&) {
    std::string why;
    auto body = detail::parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object()) return error_response(400, "InvalidValue", "body must be an object");
    auto text = [&](const char* key, const char* def) -> std::optional<std::string> {
        if (!body->contains(key) || (*body)[key].is_null()) return std::string(def);
        if (!(*body)[key].is_string() || (*body)[key].get<std::string>().size() > 200) return std::nullopt;
        return (*body)[key].get<std::string>();
    };
    geo::Target t;
    auto metric = text("metric", "org_coverage"), scope = text("scope", "all"), level = text("level", ""),
         area = text("area", ""), baseline = text("baseline", ""), deadline = text("deadline", ""), note = text("note", "");
    if (!metric || !scope || !level || !area || !baseline || !deadline || !note)
        return error_response(400, "InvalidValue", "metric, scope, level, area, baseline, deadline and note are text");
    auto m = geo::parse_metric(*metric);
    auto sc = geo::parse_scope(*scope);
    if (!m) return error_response(400, "InvalidValue", "metric must be org_coverage, standalone_rate, work_coverage, instructor_coverage or member_rate");
    if (!sc) return error_response(400, "InvalidValue", "scope must be all, enterprise, social, above_scale or employees50");
    if (!body->contains("value") || !(*body)["value"].is_number())
        return error_response(400, "InvalidValue", "value must be a number: a rate 0–1, or with a baseline a factor");
    if (!area->empty() && !level->empty()) return error_response(400, "InvalidValue", "give level or area, not both");
    t.metric = *m;
    t.scope = *sc;
    t.level = *level;
    t.area = *area;
    t.baseline = *baseline;
    t.deadline = *deadline;
    t.note = *note;
    t.value = (*body)["value"].get<double>();
    if (auto problem = geo::text_problem("measure", t.note)) return error_response(400, "InvalidValue", "note is " + *problem);
    context_.editor.with_store([&](geo::Store& store) {
        geo::check_target(t, store);
        t.id = store.add_target(t);
    });
    std::lock_guard lock(mutex_);
    targets_ = nullptr;  // read again at the next request
    return json_response(stored_target_json(t), 201);
}

Response Reports::remove_target(const Request&, const Caller&, const Args& args) {
    if (!context_.editor.with_store([&](geo::Store& store) { return store.remove_target(args[0]); }))
        return error_response(404, "NotFound", "no target " + args[0]);
    std::lock_guard lock(mutex_);
    targets_ = nullptr;
    Response r;
    r.status = 204;
    return r;
}

geo::Store& Reports::history_store() {
    if (!history_store_)
        history_store_ = std::make_unique<geo::Store>(geo::Store::open_existing(context_.options.db));
    return *history_store_;
}

std::shared_ptr<const Reports::TargetState> Reports::target_state() {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (targets_ && now - targets_read_ < context_.options.refresh_interval) return targets_;
    // Re-read at most every 5 s: `covermap target set` on the command line shows up without a restart.
    auto state = std::make_shared<TargetState>();
    state->targets = history_store().targets();
    state->baselines = geo::baseline_snapshots(history_store(), state->targets);
    targets_ = state;
    targets_read_ = now;
    return targets_;
}

bool Reports::has_targets() { return !target_state()->targets.empty(); }

json Reports::targets_json(const std::string& level, const std::vector<std::string>& codes) {
    auto state = target_state();
    json out = json::array();
    if (state->targets.empty()) return out;
    for (geo::Metric m : geo::kMetrics)
        for (geo::Scope s : geo::kScopes)
            for (const auto& code : codes) {
                bool whole = code == "total";
                if (auto v = geo::target_for(state->targets, m, s, whole ? "total" : level, code, state->baselines))
                    out.push_back(target_json(*v, code));
            }
    return out;
}

Response Reports::history(const Request& req, const Caller&, const Args&) {
    only_params(req, {"level", "area", "scope"});
    std::string code = query_value(req, "area"), level = query_value(req, "level");
    auto scope = geo::parse_scope(query_value(req, "scope").empty() ? "all" : query_value(req, "scope"));
    if (!scope) throw geo::invalid_argument("scope must be all, enterprise, social, above_scale or employees50");
    int area_index = -1;
    geo::Level area_level = geo::Level::district;
    std::string name = "合计";
    if (code.empty() || code == "total") {
        code = level = "total";
    } else {
        auto view = context_.editor.view();
        const auto& areas = view.data().areas;
        for (std::size_t i = 0; i < areas.size(); ++i)
            if (areas[i].code == code && (level.empty() || geo::to_string(areas[i].level) == level)) {
                area_index = static_cast<int>(i);
                area_level = areas[i].level;
                level = std::string(geo::to_string(area_level));
                name = areas[i].name;
                break;
            }
        if (area_index < 0)
            return error_response(404, "NotFound", "no area " + code + (level.empty() ? "" : " at level " + level));
    }
    json j = {{"level", level}, {"area", code}, {"name", name}, {"scope", std::string(geo::to_string(*scope))}};
    j["points"] = json::array();
    {
        std::lock_guard lock(mutex_);  // the history handle's one user at a time
        for (const auto& r : history_store().history(level, code, *scope)) j["points"].push_back(point_json(r));
    }
    // Now, from memory: the point a chart ends on.
    auto where = coverage_.located(area_level);
    {
        auto view = context_.editor.view();
        const auto& data = view.data();
        bool districts = std::any_of(data.areas.begin(), data.areas.end(),
                                     [](const geo::Area& a) { return a.level == geo::Level::district; });
        auto row = area_index < 0 && !districts
                       ? geo::figures_of(data, std::vector<int>(data.orgs.size(), 0), -1, *scope)
                       : geo::figures_of(data, *where, area_index, *scope);
        row.date = geo::china_date();
        j["now"] = point_json(row);
    }
    auto targets = targets_json(level, {code});
    json mine = json::array();
    for (auto& t : targets)
        if (t["scope"] == j["scope"]) mine.push_back(t);
    j["targets"] = mine;
    return json_response(j);
}

Response Reports::report(const Request& req, const Caller&, const Args&) {
    only_params(req, {"month", "quarter", "area", "format"});
    std::string month = query_value(req, "month"), quarter = query_value(req, "quarter"),
                format = query_value(req, "format");
    if (month.empty() == quarter.empty()) throw geo::invalid_argument("give month=YYYY-MM or quarter=YYYY-Qn");
    if (format.empty()) format = "pdf";
    if (format != "pdf" && format != "xlsx") throw geo::invalid_argument("format must be pdf or xlsx");
    auto period = report::parse_period(month.empty() ? quarter : month);
    auto store = geo::Store::open_existing(context_.options.db);  // this request's own handle: no lock on edits
    report::ReportData data;
    {
        auto view = context_.editor.view();
        data = report::gather(view.data(), store, period, query_value(req, "area"), geo::china_date());
    }
    if (context_.stopping) throw geo::cancelled_error("the report");
    Response r;
    r.body = format == "pdf" ? report::render_pdf(data) : report::render_xlsx(data);
    r.content_type =
        format == "pdf" ? "application/pdf" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    std::string file =
        "covermap-report-" + period.key + (data.area_code == "total" ? "" : "-" + data.area_code) + "." + format;
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + file + "\"");
    return r;
}

// A street's sheet to print for the people in the field (打印 on an area's card).
Response Reports::print(const Request& req, const Caller&, const Args&) {
    only_params(req, {"area"});
    auto area = query_value(req, "area");
    if (area.empty()) throw geo::invalid_argument("give area=CODE (a district, street, community or park)");
    report::StreetSheet sheet;
    {
        auto view = context_.editor.view();
        if (!view.area(area)) return error_response(404, "NotFound", "no area " + area);
        sheet = report::gather_sheet(view.data(), area, geo::china_date());
    }
    if (context_.stopping) throw geo::cancelled_error("the sheet");
    Response r;
    r.body = report::render_sheet_pdf(sheet);
    r.content_type = "application/pdf";
    std::string ascii = "covermap-sheet-" + sheet.area_code + "-" + sheet.date + ".pdf";
    std::string name = sheet.area_name + "_联系表_" + sheet.date + ".pdf";
    r.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + url_encode(name));
    return r;
}

void Reports::monthly_snapshot() {
    int month = month_now();
    if (snapshot_month_.load(std::memory_order_relaxed) == month) return;
    std::lock_guard once(snapshot_mutex_);
    if (snapshot_month_ == month) return;
    snapshot_month_ = month;  // one try per month, whatever happens below
    try {
        auto today = geo::china_date();
        auto store = geo::Store::open_existing(context_.options.db);
        for (const auto& d : store.snapshot_dates())
            if (d.compare(0, 7, today, 0, 7) == 0) return;
        geo::Snapshot snap;
        {
            auto view = context_.editor.view();
            snap = geo::take_snapshot(view.data(), today);
        }
        context_.editor.with_store([&](geo::Store& s) { s.save_snapshot(snap); });
        std::fprintf(stderr, "covermap: took the monthly snapshot %s (%zu rows)\n", today.c_str(), snap.rows.size());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "covermap: monthly snapshot failed: %s\n", e.what());
    }
}

}  // namespace covermap::api
