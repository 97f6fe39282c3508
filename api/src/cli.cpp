#include "covermap/api/cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "cli_report.hpp"
#include "covermap/api/app.hpp"
#include "covermap/api/progress.hpp"
#include "covermap/api/server.hpp"
#include "covermap/api/text_table.hpp"
#include "covermap/geo/adjacency.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/demo.hpp"
#include "covermap/geo/editor.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/export.hpp"
#include "covermap/geo/import.hpp"
#include "covermap/geo/locate.hpp"
#include "covermap/geo/planner.hpp"
#include "covermap/geo/store.hpp"
#include "covermap/report/report.hpp"
#include "covermap/geo/doctor.hpp"
#include "covermap/geo/text.hpp"

#ifndef COVERMAP_DATA_DIR
#define COVERMAP_DATA_DIR "data"
#endif
#ifndef COVERMAP_WEB_DIR
#define COVERMAP_WEB_DIR "api/web"
#endif

namespace covermap::api {

namespace fs = std::filesystem;

namespace {

// The folder holding tieling_counties.geojson: $COVERMAP_DATA_DIR, the build's source
// tree, or ../data next to the executable.
std::string data_dir() {
    if (const char* env = std::getenv("COVERMAP_DATA_DIR")) return env;
    if (fs::exists(fs::path(COVERMAP_DATA_DIR) / "tieling_counties.geojson")) return COVERMAP_DATA_DIR;
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto candidate = exe.parent_path().parent_path() / "data";
        if (fs::exists(candidate / "tieling_counties.geojson")) return candidate.string();
    }
    return COVERMAP_DATA_DIR;
}

std::string percent(double r) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f%%", r * 100);
    return buf;
}

int cmd_demo(const std::string& out, double scale, std::uint64_t seed, bool force) {
    // Replacing a store deletes its tokens and every edit: only on request, never under a server.
    if (fs::exists(out)) {
        if (!force)
            throw geo::invalid_argument(out + " exists: pass --force to replace it (its tokens and edits are lost)");
        if (geo::StoreLock::held_elsewhere(out))
            throw geo::store_error(out + " is being served by a running covermap: stop the server before replacing it");
    }
    auto t0 = std::chrono::steady_clock::now();
    TerminalProgress progress;
    geo::DemoParams p;
    p.scale = scale;
    p.seed = seed;
    p.borders = (fs::path(data_dir()) / "tieling_counties.geojson").string();
    p.progress = [&](std::string_view s, double f) { progress(s, f); };
    auto d = geo::make_demo(p);
    // A demo is generated, never merged: start from an empty file.
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(out + suffix);
    progress("writing", 0);
    auto store = geo::Store::open(out);
    store.replace(d);
    // A year of visits before today, so that the ledgers' freshness has something to show.
    auto visits = geo::make_demo_visits(d, seed, geo::china_date());
    store.add_visits(visits);
    // The policy's quotas of demonstration sites, some designated, and leaders' contact points.
    auto field = geo::make_demo_sites(d, seed, geo::china_date());
    for (const auto& q : field.quotas) store.set_quota(q);
    for (auto& site : field.sites) store.add_site(site, nullptr);
    for (auto& point : field.contact_points) store.add_contact_point(point, nullptr);
    progress("writing", 1);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::size_t counts[5] = {};
    for (const auto& a : d.areas) ++counts[static_cast<int>(a.level)];
    std::fprintf(stderr, "\n");
    std::printf(
        "wrote %s in %.1fs: %zu districts, %zu streets, %zu communities, %zu grid cells, %zu parks, "
        "%zu organizations, %zu branches, %zu instructors, %zu visits\n",
        out.c_str(), secs, counts[0], counts[1], counts[2], counts[3], counts[4], d.orgs.size(), d.branches.size(),
        d.instructors.size(), visits.size());
    return 0;
}

// SIGINT or SIGTERM during an import: the import stops at its next check and writes nothing
// (the write itself is one transaction, which either lands whole or is rolled back).
std::atomic<int> g_interrupted{0};
extern "C" void on_interrupt(int sig) { g_interrupted = sig; }

int cmd_import(const std::string& db, geo::ImportParams params) {
    auto lock = geo::StoreLock::acquire(db);  // a server holding it would not see the rows
    geo::Editor editor(std::make_unique<geo::Store>(geo::Store::open(db)));
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    params.cancelled = [] { return g_interrupted.load() != 0; };
    geo::ImportReport report;
    try {
        report = editor.import(params, "cli");
    } catch (const geo::cancelled_error&) {
        std::fprintf(stderr, "covermap: import interrupted (%s): nothing written\n",
                     g_interrupted == SIGINT ? "SIGINT" : "SIGTERM");
        return 128 + (g_interrupted ? g_interrupted.load() : SIGTERM);
    }
    for (const auto& r : report.repaired) std::fprintf(stderr, "repaired: %s\n", r.c_str());
    for (const auto& c : report.duplicate_credit_codes) std::fprintf(stderr, "duplicate credit code %s\n", c.c_str());
    for (const auto& c : report.invalid_credit_codes) std::fprintf(stderr, "invalid credit code %s\n", c.c_str());
    if (!report.unknown_columns.empty()) {
        std::string cols;
        for (const auto& c : report.unknown_columns) cols += (cols.empty() ? "" : ", ") + c;
        std::fprintf(stderr, "columns not read (--map 表头=field to read one): %s\n", cols.c_str());
    }
    for (const auto& r : report.rejected)
        std::fprintf(stderr, "rejected %s%s%s: %s\n", r.where.c_str(), r.column.empty() ? "" : ", column ",
                     r.column.c_str(), r.reason.c_str());
    if (!report.rejected.empty() && !params.rejects_out.empty())
        std::fprintf(stderr, "the rejected rows are in %s: fix them there and import that file\n",
                     params.rejects_out.c_str());
    if (!report.outside_grid.empty()) {
        std::string ids;
        for (std::size_t i = 0; i < report.outside_grid.size() && i < 50; ++i) ids += " " + report.outside_grid[i];
        std::fprintf(stderr, "%zu organization(s) outside every grid cell (kept):%s%s\n", report.outside_grid.size(),
                     ids.c_str(), report.outside_grid.size() > 50 ? " …" : "");
    }
    for (const auto& n : report.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
    if (params.kind != geo::ImportKind::orgs) {
        std::printf("imported %zu %s from %s into %s (%zu repaired)\n", report.imported,
                    params.kind == geo::ImportKind::areas ? "areas" : "instructors", params.source.c_str(), db.c_str(),
                    report.repaired.size());
        return 0;
    }
    // The change, as a table a planner reads, then one line of JSON for scripts.
    std::printf("%s %s into %s: %zu rows read\n",
                report.written ? "imported" : "dry run, nothing written:", params.source.c_str(), db.c_str(),
                report.imported);
    std::vector<std::vector<std::string>> rows = {
        {"", "added 新增", "updated 变更", "unchanged 未变", "deregistered 注销"},
        {"total 合计", std::to_string(report.total.added), std::to_string(report.total.updated),
         std::to_string(report.total.unchanged), std::to_string(report.total.deregistered)}};
    for (const auto& [street, c] : report.by_street)
        rows.push_back(
            {street, std::to_string(c.added), std::to_string(c.updated), "", std::to_string(c.deregistered)});
    std::printf("%s", render_table(rows, {false, true, true, true, true}).c_str());
    std::printf("rejected 不合格: %zu\n%s\n", report.rejected.size(), geo::summary_json(report).c_str());
    return 0;
}

int cmd_coverage(const std::string& db, geo::Level level, std::optional<geo::OrgKind> kind, const std::string& format) {
    auto store = geo::Store::open_existing(db);
    auto data = store.load();
    auto table = geo::compute_coverage(data, level, kind);
    if (format == "json") {
        std::cout << dump_json(geo::to_json(table), 2) << '\n';
    } else if (format == "csv") {
        std::cout << geo::to_csv(table);
    } else {
        std::vector<std::vector<std::string>> rows = {
            {"code", "name", "orgs", "operating", "组织覆盖率", "单独组建率", "工作覆盖率", "指导员覆盖率"}};
        auto add = [&](const geo::CoverageRow& r) {
            rows.push_back({r.code, r.name, std::to_string(r.orgs), std::to_string(r.operating),
                            percent(r.org_coverage()), percent(r.standalone_rate()), percent(r.work_coverage()),
                            percent(r.instructor_coverage())});
        };
        for (const auto& r : table.areas) add(r);
        add(table.total);
        std::cout << render_table(rows, {false, false, true, true, true, true, true, true});
    }
    return 0;
}

int cmd_export(const std::string& db, geo::ExportParams p) {
    auto store = geo::Store::open_existing(db);
    TerminalProgress progress;
    p.progress = [&](std::string_view s, double f) { progress(s, f); };
    auto r = geo::export_layer(store, p);  // organizations stream from the store
    std::printf("exported %zu features to %s (%s%s%s)\n", r.features, p.out.c_str(), r.srs.c_str(),
                p.format == geo::ExportFormat::shp ? (", " + p.encoding).c_str() : "",
                r.parts > 1 ? (", " + std::to_string(r.parts) + " parts").c_str() : "");
    if (r.truncated) std::fprintf(stderr, "%zu text value(s) cut to 254 bytes on a character boundary\n", r.truncated);
    return 0;
}

// The visits, for people (xlsx) or machines (csv, UTF-8): a table, no geometry.
int cmd_export_visits(const std::string& db, const std::string& format, const std::string& out) {
    if (format != "csv" && format != "xlsx") throw geo::invalid_argument("visits export as csv or xlsx");
    auto store = geo::Store::open_existing(db);
    auto d = store.load();
    std::unordered_map<geo::Id, std::string> names;
    for (const auto& o : d.orgs) names[o.id] = o.name;
    std::unordered_map<geo::Id, std::string> instructors;
    for (const auto& in : d.instructors) instructors[in.id] = in.name;
    auto visits = store.visits({});
    std::string bytes;
    if (format == "xlsx") {
        std::vector<std::vector<std::string>> rows;
        for (const auto& v : visits)
            rows.push_back({std::to_string(v.id), v.date, v.org, names[v.org], v.kind, v.ledger_confirmed ? "是" : "否",
                            v.note, instructors.count(v.instructor) ? instructors[v.instructor] : "", v.by,
                            v.stars ? std::to_string(v.stars) : "", v.wuyou < 0 ? "" : v.wuyou == geo::kWuyouAll ? "是" : "否"});
        bytes = report::table_xlsx("走访记录", {"编号", "日期", "组织编号", "组织", "方式", "台账已核实", "记录", "指导员",
                                                "记录人", "星级", "五有达标"},
                                    rows);
    } else {
        std::ostringstream csv;
        csv << "id,date,org,org_name,kind,ledger_confirmed,note,instructor,by,stars,wuyou\n";
        for (const auto& v : visits)
            csv << v.id << ',' << v.date << ',' << geo::csv_field(v.org) << ',' << geo::csv_field(names[v.org]) << ','
                << v.kind << ',' << (v.ledger_confirmed ? "true" : "false") << ',' << geo::csv_field(v.note) << ','
                << geo::csv_field(v.instructor) << ',' << geo::csv_field(v.by) << ',' << (v.stars ? std::to_string(v.stars) : "")
                << ',' << (v.wuyou < 0 ? "" : std::to_string(v.wuyou)) << '\n';
        bytes = csv.str();
    }
    std::ofstream(out, std::ios::binary) << bytes;
    std::printf("exported %zu visits to %s\n", visits.size(), out.c_str());
    return 0;
}

int cmd_adjacency(const std::string& source, const std::string& layer, const std::string& mode, double tolerance,
                  bool touch, unsigned threads, const std::string& out) {
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    auto src = geo::read_polygons(source, layer);
    auto t1 = clock::now();
    geo::AdjacencyParams p;
    p.mode = mode == "rook" ? geo::Contiguity::rook : geo::Contiguity::queen;
    p.tolerance_m = tolerance;
    p.touch = touch;
    p.threads = threads;
    p.geographic = src.geographic;
    auto g = geo::build_adjacency(std::move(src.shapes), p);
    auto t2 = clock::now();
    FILE* f = std::fopen(out.c_str(), "w");
    if (!f) throw geo::error("cannot write " + out);
    std::fputs("a,b\n", f);
    for (auto [a, b] : g.links) {
        auto fa = src.fids[static_cast<std::size_t>(a)], fb = src.fids[static_cast<std::size_t>(b)];
        if (fa > fb) std::swap(fa, fb);
        std::fprintf(f, "%lld,%lld\n", static_cast<long long>(fa), static_cast<long long>(fb));
    }
    std::fclose(f);
    if (g.empty || src.non_polygonal)
        std::fprintf(stderr,
                     "%zu feature(s) without a usable polygon ring (%zu not polygonal at all): kept as islands\n",
                     g.empty, src.non_polygonal);
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    nlohmann::json j = {{"areas", g.areas},           {"links", g.links.size()}, {"islands", g.islands},
                        {"components", g.components}, {"read_ms", ms(t0, t1)},   {"build_ms", ms(t1, t2)}};
    std::cout << dump_json(j) << std::endl;
    return 0;
}

int cmd_plan(const std::string& db, geo::Level level, const std::string& cost, const std::string& out) {
    auto t0 = std::chrono::steady_clock::now();
    auto store = geo::Store::open_existing(db);
    if (std::getenv("COVERMAP_PROFILE"))
        std::fprintf(stderr, "open %.0f ms\n",
                     std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    // The data and the plan stay until the process ends: freeing a million records
    // one by one takes half a second at scale 500, for memory the system takes back at once.
    auto& data = *new geo::Dataset(store.load_for_planning());
    auto t1 = std::chrono::steady_clock::now();
    TerminalProgress progress;
    geo::PlanParams p;
    p.level = level;
    p.cost = cost == "distance" ? geo::CostMode::distance : geo::CostMode::planning;
    p.progress = [&](std::string_view s, double f) { progress(s, f); };
    auto& plan = *new geo::Plan(geo::make_plan(data, p));
    auto t2 = std::chrono::steady_clock::now();
    std::ofstream f(out);
    if (!f) throw geo::error("cannot write " + out);
    geo::write_json(plan, f, 1);
    f << '\n';
    f.close();
    if (!f) throw geo::error("cannot write " + out);
    auto t3 = std::chrono::steady_clock::now();
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    std::fprintf(stderr, "load %.0f ms, plan %.0f ms, write %.0f ms\n", ms(t0, t1), ms(t1, t2), ms(t2, t3));
    std::map<std::string, int> counts;
    for (const auto& q : plan.proposals) ++counts[q.type];
    std::printf(
        "plan written to %s: %zu clusters, %zu hot spots, %d standalone, %d joint, %d affiliate, "
        "%d instructor proposals, %zu left without instructor capacity, %zu flags\n",
        out.c_str(), plan.clusters.size(), plan.hotspots.size(), counts["standalone"], counts["joint"],
        counts["affiliate"], counts["instructor"], plan.unassigned, plan.flags.size());
    return 0;
}

int cmd_locate(const std::string& points, const std::string& costs, std::size_t p, std::optional<double> capacity,
               bool weighted, const std::string& out) {
    if (points.empty() == costs.empty()) throw geo::invalid_argument("give exactly one of --points and --costs");
    auto t0 = std::chrono::steady_clock::now();
    auto problem = points.empty() ? geo::read_costs_csv(costs) : geo::read_points_csv(points);
    problem.p = p;
    problem.capacity = capacity;
    problem.weighted = weighted;
    auto r = geo::solve_p_median(problem);
    if (!r.feasible) throw geo::error("no assignment fits the capacities");
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json j;
    j["cost"] = r.cost;
    j["medians"] = nlohmann::json::array();
    for (auto m : r.medians) j["medians"].push_back(problem.ids[m]);
    j["assignment"] = nlohmann::json::object();
    for (std::size_t i = 0; i < r.assignment.size(); ++i)
        j["assignment"][problem.ids[i]] = problem.ids[r.assignment[i]];
    j["lower_bound"] = r.lower_bound;
    j["gap"] = r.cost > 0 ? std::max(0.0, (r.cost - r.lower_bound) / r.cost) : 0.0;
    j["seconds"] = secs;
    std::ofstream f(out);
    if (!f) throw geo::error("cannot write " + out);
    f << dump_json(j, 1) << '\n';
    std::printf("cost %.6g with %zu medians (Lagrangian lower bound %.6g, gap %.2f %%) in %.2f s -> %s\n", r.cost,
                r.medians.size(), r.lower_bound, j["gap"].get<double>() * 100, secs, out.c_str());
    return 0;
}

std::string web_dir() {
    if (const char* env = std::getenv("COVERMAP_WEB_DIR")) return env;
    return COVERMAP_WEB_DIR;
}

int cmd_serve(AppOptions ao, const ServerOptions& so) {
    // One server per GeoPackage: two would each believe their own memory (lost updates).
    auto lock = geo::StoreLock::acquire(ao.db);
    ao.web_root = web_dir();
    while (!ao.public_url.empty() && ao.public_url.back() == '/') ao.public_url.pop_back();
    App app(ao);
    if (!app.has_tokens()) {
        auto token = app.add_token(Role::admin, "admin");
        std::printf("first start: admin token (shown once, only its hash is stored):\n%s\n", token.c_str());
    }
    Server server(app, so);
    auto bound = server.start();
    std::printf("covermap serving %s on http://%s:%u/ (%d threads); Ctrl-C to stop\n", ao.db.c_str(), so.bind.c_str(),
                bound, so.threads);
    std::fflush(stdout);
    server.wait();
    std::printf("covermap stopped\n");
    return 0;
}

int cmd_doctor(const std::string& db, bool fix) {
    std::optional<geo::StoreLock> lock;
    if (fix) lock.emplace(geo::StoreLock::acquire(db));  // no server may hold the file while it is repaired
    auto store = geo::Store::open_existing(db);
    auto report = geo::doctor(store, fix);
    if (report.findings.empty()) {
        std::printf("no problems found\n");
        return 0;
    }
    std::vector<std::vector<std::string>> rows = {{"layer", "id", "field", "problem", fix ? "repaired" : "--fix would"}};
    for (const auto& f : report.findings) rows.push_back({f.layer, f.id, f.field, f.problem, f.repair});
    std::printf("%s", render_table(rows, {false, false, false, false, false}).c_str());
    std::printf("%zu problem(s) %s\n", report.findings.size(),
                report.fixed ? "repaired (audited as 'doctor')" : "found; run again with --fix to repair them");
    return report.fixed ? 0 : 1;
}

int cmd_token_list(const std::string& db) {
    auto store = geo::Store::open_existing(db);
    std::vector<std::vector<std::string>> rows = {{"name", "role", "limited to", "created", "expires", "state"}};
    auto now = geo::china_date();
    for (const auto& t : store.tokens())
        rows.push_back({t.name, t.role,
                        !t.area.empty() ? "area " + t.area : !t.instructor.empty() ? "instructor " + t.instructor : "-",
                        t.created.substr(0, 10), t.expires.empty() ? "-" : t.expires,
                        !t.revoked.empty() ? "revoked " + t.revoked.substr(0, 10)
                        : t.usable(now)    ? "valid"
                                           : "expired"});
    std::printf("%s", render_table(rows, {false, false, false, false, false, false}).c_str());
    return 0;
}

int cmd_token_revoke(const std::string& db, const std::string& name) {
    auto store = geo::Store::open_existing(db);
    int n = store.revoke_tokens(name, geo::iso8601_utc_now());
    if (n == 0) throw geo::invalid_argument("no valid token named '" + name + "'");
    std::printf("revoked %d token(s) named %s (a running server stops accepting them within 5 s)\n", n, name.c_str());
    return 0;
}

int cmd_quota_set(const std::string& db, const geo::SiteQuota& q) {
    auto store = geo::Store::open_existing(db);
    auto level = store.area_level(q.area);
    bool city = q.area == geo::city_code(store.load_areas().areas);
    if (!city && level != "district" && level != "park")
        throw geo::invalid_argument("--area is a district or park code, or the city's code, not '" + q.area + "'");
    store.set_quota(q);
    std::printf("quota of %s: %d %s-level sites in %d\n", q.area.c_str(), q.count, q.level.c_str(), q.year);
    return 0;
}

int cmd_quota_list(const std::string& db) {
    auto store = geo::Store::open_existing(db);
    auto areas = store.load_areas();
    std::map<std::string, std::string> names;
    for (const auto& a : areas.areas) names[a.code] = a.name;
    std::vector<std::vector<std::string>> rows = {{"area", "name", "level", "year", "quota"}};
    auto quotas = store.quotas();
    std::sort(quotas.begin(), quotas.end(), [](const auto& a, const auto& b) {
        return std::tie(a.year, a.level, a.area) < std::tie(b.year, b.level, b.area);
    });
    for (const auto& q : quotas)
        rows.push_back({q.area, names.count(q.area) ? names[q.area] : "全市", q.level, std::to_string(q.year),
                        std::to_string(q.count)});
    std::printf("%s", render_table(rows, {false, false, false, true, true}).c_str());
    return 0;
}

struct TokenLimits {
    std::string area, instructor, link;
};

int cmd_token_add(const std::string& db, const std::string& role, const std::string& name, const std::string& expires,
                  const TokenLimits& limits) {
    if (!expires.empty() && !geo::valid_date(expires))
        throw geo::invalid_argument("--expires takes a calendar date, YYYY-MM-DD, not '" + expires + "'");
    // Straight into the store (a running server reads new tokens from it when it first sees them).
    if (name.empty() || name.size() > 100 || !geo::valid_utf8(name) ||
        std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
        throw geo::invalid_argument("--name must be 1–100 bytes of UTF-8 text without control characters");
    auto store = geo::Store::open_existing(db);
    check_token_limits(*parse_role(role), limits.area, limits.instructor, store);
    auto token = new_token();
    store.add_token({name, role, hash_token(token), geo::iso8601_utc_now(), expires, "", limits.area, limits.instructor});
    std::printf("%s\n", token.c_str());
    // A link that signs a phone in: the token rides in the fragment, which a browser never
    // sends to a server (no access log holds it); the page keeps it and drops it from the URL.
    if (!limits.link.empty()) {
        auto base = limits.link;
        while (!base.empty() && base.back() == '/') base.pop_back();
        std::printf("%s/%s#token=%s\n", base.c_str(), role == "instructor" ? "field" : "", token.c_str());
    }
    return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{"covermap: planning and mapping of the two coverages (两个覆盖)"};
    app.require_subcommand(1);

    std::string out, db, source, srs, encoding, coords, layer, format = "json";
    std::string level_name, kind_name;
    double scale = 1.0;
    std::uint64_t seed = 2010;

    auto* demo = app.add_subcommand("demo", "build the demo data set on the real Tieling county borders");
    bool force = false;
    demo->add_option("--out", out, "GeoPackage to write")->required();
    demo->add_flag("--force", force, "replace the file if it exists (not while a server uses it)");
    demo->add_option("--scale", scale, "K: K x (1,822 enterprises + 430 social organizations)")
        ->check(CLI::Range(0.001, 10000.0));
    demo->add_option("--seed", seed, "random seed (same seed, same data)");

    auto* imp = app.add_subcommand("import", "import areas, organizations or instructors from any OGR source or CSV");
    imp->add_option("--db", db, "store: GeoPackage path or PG: connection string")->required();
    imp->add_option("--kind", kind_name, "areas | orgs | instructors")
        ->required()
        ->check(CLI::IsMember({"areas", "orgs", "instructors"}));
    imp->add_option("--level", level_name, "areas: district | street | community | grid | park")
        ->check(CLI::IsMember({"district", "street", "community", "grid", "park"}));
    imp->add_option("source", source, "file to import (Shapefile, GeoJSON, GeoPackage, KML, CSV…)")->required();
    imp->add_option("--srs", srs, "source CRS when the file has none or a wrong one, e.g. EPSG:4547");
    imp->add_option("--encoding", encoding, "text encoding of a DBF without .cpg or of a CSV (GBK, UTF-8…)");
    imp->add_option("--coords", coords, "gcj02: points from Gaode/Tencent maps; bd09: from Baidu Maps")
        ->check(CLI::IsMember({"gcj02", "bd09"}));
    imp->add_option("--layer,--sheet", layer, "layer of a multi-layer source; a spreadsheet's sheet");
    std::vector<std::string> heading_map;
    imp->add_option("--map", heading_map, "more column headings: 表头=field,… (e.g. 单位全称=name)")->delimiter(',');
    bool dry_run = false, skip_bad = false;
    std::string missing, rejects;
    imp->add_flag("--dry-run", dry_run, "print the change, write nothing");
    imp->add_option("--missing", missing,
                    "deregister: organizations absent from this complete extract are marked deregistered")
        ->check(CLI::IsMember({"deregister", "keep"}));
    imp->add_flag("--skip-bad", skip_bad, "import the good rows, list the bad ones (else nothing is imported)");
    imp->add_option("--rejects", rejects, "with --skip-bad: write the bad rows to this CSV (fix, then import it)");
    geo::ImportParams import_limits;
    imp->add_option("--max-features", import_limits.max_features, "rows or features at most (default 2000000)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40));
    imp->add_option("--max-vertices", import_limits.max_vertices,
                    "vertices of one feature's geometry at most (default 250000)")
        ->check(CLI::Range(std::size_t{4}, std::size_t{1} << 40));

    auto* cov = app.add_subcommand("coverage", "coverage rates per area of a level");
    cov->add_option("--db", db, "store: GeoPackage path or PG: connection string")->required();
    cov->add_option("--level", level_name, "district | street | community | grid | park")
        ->required()
        ->check(CLI::IsMember({"district", "street", "community", "grid", "park"}));
    cov->add_option("--kind", kind_name, "enterprise | social")->check(CLI::IsMember({"enterprise", "social"}));
    cov->add_option("--format", format, "json | csv | table")->check(CLI::IsMember({"json", "csv", "table"}));

    std::string export_format = "shp";
    std::string layer_name = "orgs", encoding_out = "GBK", srs_out = "EPSG:4490", where;
    auto* exp = app.add_subcommand("export", "export a layer for grid management systems and desktop GIS");
    exp->add_option("--db", db, "store: GeoPackage path or PG: connection string")->required();
    exp->add_option("--layer", layer_name, "orgs | areas | instructors | branches | assignments | visits")
        ->check(CLI::IsMember({"orgs", "areas", "instructors", "branches", "assignments", "visits"}));
    exp->add_option("--level", level_name, "areas: only this level")
        ->check(CLI::IsMember({"district", "street", "community", "grid", "park"}));
    exp->add_option("--format", export_format, "shp (zip, default) | gpkg | geojson | csv | xlsx")
        ->check(CLI::IsMember({"shp", "gpkg", "geojson", "csv", "xlsx"}));
    bool excel = false;
    exp->add_flag("--excel", excel, "csv for Excel/WPS: long digit codes written as =\"…\" so they stay text");
    exp->add_option("--encoding", encoding_out, "shapefile text: GBK (default) | UTF-8")
        ->check(CLI::IsMember({"GBK", "UTF-8", "gbk", "utf-8"}));
    exp->add_option("--srs", srs_out, "EPSG:n (default EPSG:4490) or auto-gk (CGCS2000 3-degree Gauss-Kruger zone)");
    exp->add_option("--where", where, "OGR SQL filter on the exported fields, e.g. \"status = 'operating'\"");
    exp->add_option("--out", out, "output file (.zip for shp)")->required();

    std::string adj_mode = "queen";
    double tolerance = 0;
    auto* adj = app.add_subcommand("adjacency", "adjacency of any OGR polygon source: CSV a,b of FIDs");
    adj->add_option("source", source, "polygon source (Shapefile, GeoJSON, GeoPackage…)")->required();
    adj->add_option("--layer", layer, "layer name (first layer by default)");
    adj->add_option("--mode", adj_mode, "queen (shared point) | rook (shared edge)")
        ->check(CLI::IsMember({"queen", "rook"}));
    adj->add_option("--tolerance", tolerance,
                    "also link borders within this many metres (fuzzy contiguity; rook: running together for "
                    "more than twice this)")
        ->check(CLI::Range(0.0, 1e6));
    bool touch = false;
    unsigned adj_threads = 0;
    adj->add_flag("--touch", touch,
                  "also link borders that touch or cross without sharing a vertex (queen), "
                  "or overlap without sharing an edge (rook)");
    adj->add_option("--threads", adj_threads, "cores to use (default: up to 2)")->check(CLI::Range(1, 64));
    adj->add_option("--out", out, "edges CSV")->required();

    std::string cost = "planning";
    auto* plan = app.add_subcommand("plan", "the whole plan: clusters, hot spots, proposals, flags (JSON)");
    plan->add_option("--db", db, "store: GeoPackage path or PG: connection string")->required();
    plan->add_option("--level", level_name, "grid (default) | community | street")
        ->check(CLI::IsMember({"grid", "community", "street"}));
    plan->add_option("--cost", cost, "planning (default: distance + penalties) | distance (haversine metres)")
        ->check(CLI::IsMember({"planning", "distance"}));
    plan->add_option("--out", out, "plan.json")->required();

    std::string points_csv, costs_csv;
    std::size_t p_count = 1;
    double capacity = 0;
    bool weighted = false;
    auto* loc = app.add_subcommand("locate", "siting: p-median (optionally capacitated) among candidate points");
    auto* pts = loc->add_option("--points", points_csv, "CSV id,x,y,demand (planar, Euclidean)");
    loc->add_option("--costs", costs_csv, "CSV i,j,cost rows of a full matrix")->excludes(pts);
    loc->add_option("--p", p_count, "number of medians")->required()->check(CLI::PositiveNumber);
    auto* cap_opt = loc->add_option("--capacity", capacity, "most demand per median")->check(CLI::PositiveNumber);
    loc->add_flag("--weighted", weighted, "objective: sum of demand x cost");
    loc->add_option("--out", out, "R.json")->required();

    std::string role, token_name;
    AppOptions ao;
    ServerOptions so;
    auto* serve = app.add_subcommand("serve", "the HTTP server: API, OGC API Features, web UI");
    serve->add_option("--db", ao.db, "store: GeoPackage path or PG: connection string")->required();
    serve->add_option("--bind", so.bind, "address to listen on (default 127.0.0.1)");
    serve->add_option("--port", so.port, "port (default 8080; 0 picks a free one)");
    serve->add_option("--threads", so.threads, "I/O threads (as many workers run handlers)")->check(CLI::Range(1, 64));
    serve->add_option("--cache-mb", ao.cache_mb, "tile cache size in MB");
    auto* tile_dir = serve->add_option(
        "--tile-dir", ao.tile_dir,
        "a directory for rendered tiles, shared by every serve process on the same store and kept across restarts "
        "(default: none, tiles in memory only)");
    serve->add_option("--tile-dir-mb", ao.tile_dir_mb, "the tile directory's size in MB (default 1024)")
        ->check(CLI::Range(1, 1 << 24))
        ->needs(tile_dir);
    bool no_access_log = false;
    serve->add_flag("--no-access-log", no_access_log, "no access-log line per request on stderr");
    serve
        ->add_option("--max-connections", so.max_connections,
                     "connections in all (default 512; at the cap the busiest address makes room)")
        ->check(CLI::Range(8, 1000000));
    double body_timeout_s = 120, body_grace_s = 5;
    serve->add_option("--body-timeout", body_timeout_s, "seconds a request body may take in all (default 120)")
        ->check(CLI::Range(0.1, 86400.0));
    serve->add_option("--body-grace", body_grace_s, "seconds before the body rate counts (default 5)")
        ->check(CLI::Range(0.0, 3600.0));
    serve
        ->add_option("--body-min-rate", so.body_min_rate,
                     "bytes per second a request body must average after the grace (default 4096; 0: no floor)")
        ->check(CLI::Range(0.0, 1e12));
    serve->add_option("--sessions-per-token", ao.sessions_per_token,
                      "web sessions per token; a new sign-in beyond it ends the oldest (default 20)")
        ->check(CLI::Range(1, 100000));
    serve->add_option("--max-sessions", ao.max_sessions, "web sessions in all (default 10000)")
        ->check(CLI::Range(1, 10000000));
    double send_timeout_s = 60;
    serve->add_option("--send-timeout", send_timeout_s,
                      "seconds a client may take to read a response; then the connection is closed (default 60)")
        ->check(CLI::Range(0.1, 86400.0));
    serve->add_option("--plan-max-age", ao.plan_max_age_days,
                      "days a plan nothing was accepted of is kept (default 30)")
        ->check(CLI::Range(0, 36500));
    serve->add_option("--plan-max-open", ao.plan_max_open,
                      "plans nothing was accepted of kept at most, the newest (default 100)")
        ->check(CLI::Range(1, 1000000));
    double import_deadline_s = 600;
    serve->add_option("--import-deadline", import_deadline_s,
                      "seconds an uploaded import may take; then it stops, nothing written (default 600)")
        ->check(CLI::Range(0.1, 86400.0));
    serve->add_option("--import-max-features", ao.import_max_features, "rows or features of one upload (default 2000000)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40));
    serve
        ->add_option("--import-max-vertices", ao.import_max_vertices,
                     "vertices of one uploaded feature's geometry (default 250000)")
        ->check(CLI::Range(std::size_t{4}, std::size_t{1} << 40));
    std::string& basemap = ao.basemap;
    serve
        ->add_option(
            "--basemap", basemap,
            "base map for the web page: an XYZ URL template, e.g. 'http://t0.tianditu.gov.cn/vec_w/wmts?…&TILEMATRIX={z}&"
            "TILEROW={y}&TILECOL={x}&tk=KEY', or a directory of {z}/{x}/{y}.png tiles or an .mbtiles file that "
            "covermap serves under /basemap/ (Web Mercator; default: covermap's own borders only)")
        ->check([](const std::string& v) {
            if (v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0) return std::string();
            return std::filesystem::exists(v) ? std::string()
                                              : std::string("must be an http(s) URL, a directory or an .mbtiles file");
        });
    serve->add_option("--basemap-attribution", ao.basemap_attribution,
                      "the base map's attribution, shown on the page (e.g. '天地图')");
    serve
        ->add_option(
            "--public-url", ao.public_url,
            "where clients reach covermap, e.g. https://gis.example.gov.cn/covermap (OGC links are built from it)")
        ->check([](const std::string& v) {
            bool ok = (v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0) && v.size() < 200 &&
                      v.find_first_of(" \"<>\\^`{|}") == std::string::npos;
            return ok ? std::string() : std::string("must be an http(s) URL without spaces or quotes");
        });
    serve
        ->add_option("--max-per-client", so.max_per_client,
                     "connections from one address (default 64; more evict its idle ones); raise it behind a proxy")
        ->check(CLI::Range(1, 100000));
    serve
        ->add_option(
            "--rate-per-client", so.rate_per_client,
            "requests per second from one address, bursts of twice that; more → 429 (default 1000, 0: no limit)")
        ->check(CLI::Range(0.0, 1e9));
    serve->add_flag("--trust-proxy", ao.trust_proxy,
                    "links from X-Forwarded-Host/Proto (only behind a proxy that sets them and drops clients' own)");
    bool doctor_fix = false;
    auto* doc = app.add_subcommand(
        "doctor", "find (and with --fix repair) invalid or overlong text and broken references already stored");
    doc->add_option("--db", db, "store")->required();
    doc->add_flag("--fix", doctor_fix, "repair: invalid bytes to U+FFFD, control characters to spaces, long text cut, "
                                       "missing instructors and branches unassigned (audited)");
    auto* token = app.add_subcommand("token", "API tokens");
    token->require_subcommand(1);
    auto* token_add = token->add_subcommand("add", "create a token and print it (only its hash is stored)");
    token_add->add_option("--db", db, "store")->required();
    token_add->add_option("--role", role, "viewer | instructor | planner | admin")
        ->required()
        ->check(CLI::IsMember({"viewer", "instructor", "planner", "admin"}));
    TokenLimits limits;
    token_add->add_option("--area", limits.area, "a planner's token: edits only inside this district, street or park");
    token_add->add_option("--instructor", limits.instructor, "an instructor's token: that instructor's id");
    token_add->add_option("--link", limits.link,
                          "also print a sign-in link for a phone under this address (https://host/covermap)");
    token_add->add_option("--name", token_name, "who or what uses it")->required();
    std::string expires;
    token_add->add_option("--expires", expires, "last day it works, YYYY-MM-DD (default: no expiry)");
    auto* token_list = token->add_subcommand("list", "the tokens: name, role, created, expiry, state (never secrets)");
    token_list->add_option("--db", db, "store")->required();
    auto* token_revoke = token->add_subcommand("revoke", "revoke every token of a name (a running server follows)");
    token_revoke->add_option("--db", db, "store")->required();
    token_revoke->add_option("--name", token_name, "the token's name")->required();

    // Demonstration sites' quotas (示范点名额): a district's, a park's, or the city's (the
    // districts' parent code), per level and year.
    auto* quota = app.add_subcommand("quota", "demonstration sites' quotas per area, level and year");
    quota->require_subcommand(1);
    auto* quota_set = quota->add_subcommand("set", "set the number of sites an area is to have");
    quota_set->add_option("--db", db, "store")->required();
    geo::SiteQuota quota_row;
    quota_row.level = "county";
    quota_row.year = std::stoi(geo::china_date().substr(0, 4));
    quota_set->add_option("--area", quota_row.area, "a district or park code, or the city's code (211200)")->required();
    quota_set->add_option("--level", quota_row.level, "county | city")->check(CLI::IsMember({"county", "city"}));
    quota_set->add_option("--count", quota_row.count, "how many sites")->required()->check(CLI::Range(0, 100000));
    quota_set->add_option("--year", quota_row.year, "the year (default: this year)")->check(CLI::Range(2000, 2100));
    auto* quota_list = quota->add_subcommand("list", "the quotas and how many sites each area has");
    quota_list->add_option("--db", db, "store")->required();

    auto run_report_command = add_report_commands(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    try {
        if (auto code = run_report_command()) return *code;
        if (*demo) return cmd_demo(out, scale, seed, force);
        if (*imp) {
            geo::ImportParams p;
            p.kind = *geo::parse_import_kind(kind_name);
            p.source = source;
            if (!level_name.empty()) p.level = geo::parse_level(level_name);
            p.srs = srs;
            p.encoding = encoding;
            p.gcj02 = coords == "gcj02";
            p.bd09 = coords == "bd09";
            p.layer = layer;
            for (const auto& m : heading_map) {
                auto eq = m.find('=');
                if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
                    throw geo::invalid_argument("--map takes 表头=field, not '" + m + "'");
                p.map.emplace_back(m.substr(0, eq), m.substr(eq + 1));
            }
            p.dry_run = dry_run;
            p.missing_deregister = missing == "deregister";
            p.skip_bad = skip_bad;
            p.rejects_out = rejects;
            p.max_features = import_limits.max_features;
            p.max_vertices = import_limits.max_vertices;
            if (!rejects.empty() && !skip_bad) throw geo::invalid_argument("--rejects goes with --skip-bad");
            return cmd_import(db, p);
        }
        if (*exp && layer_name == "visits") return cmd_export_visits(db, export_format, out);
        if (*exp) {
            geo::ExportParams p;
            p.layer = *geo::parse_export_layer(layer_name);
            p.coverage = geo::coverage_rows;
            p.format = *geo::parse_export_format(export_format);
            if (!level_name.empty()) p.level = geo::parse_level(level_name);
            p.encoding = encoding_out == "gbk" ? "GBK" : encoding_out == "utf-8" ? "UTF-8" : encoding_out;
            p.srs = srs_out;
            p.where = where;
            p.excel = excel;
            p.out = out;
            return cmd_export(db, p);
        }
        if (*serve) {
            so.access_log = !no_access_log;
            so.body_timeout = std::chrono::milliseconds(static_cast<long>(body_timeout_s * 1000));
            so.body_grace = std::chrono::milliseconds(static_cast<long>(body_grace_s * 1000));
            ao.import_deadline = std::chrono::milliseconds(static_cast<long>(import_deadline_s * 1000));
            so.send_timeout = std::chrono::milliseconds(static_cast<long>(send_timeout_s * 1000));
            return cmd_serve(ao, so);
        }
        if (*token_add) return cmd_token_add(db, role, token_name, expires, limits);
        if (*token_list) return cmd_token_list(db);
        if (*quota_set) return cmd_quota_set(db, quota_row);
        if (*quota_list) return cmd_quota_list(db);
        if (*doc) return cmd_doctor(db, doctor_fix);
        if (*token_revoke) return cmd_token_revoke(db, token_name);
        if (*plan)
            return cmd_plan(db, level_name.empty() ? geo::Level::grid : *geo::parse_level(level_name), cost, out);
        if (*loc)
            return cmd_locate(points_csv, costs_csv, p_count,
                              cap_opt->count() ? std::optional<double>(capacity) : std::nullopt, weighted, out);
        if (*adj) return cmd_adjacency(source, layer, adj_mode, tolerance, touch, adj_threads, out);
        if (*cov) {
            std::optional<geo::OrgKind> kind;
            if (!kind_name.empty()) kind = geo::parse_org_kind(kind_name);
            return cmd_coverage(db, *geo::parse_level(level_name), kind, format);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "covermap: error: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace covermap::api
