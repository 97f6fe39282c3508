// Import and export: layers out as files, registry files in.

#include "transfer_routes.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <set>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/editor.hpp"
#include "covermap/geo/export.hpp"
#include "covermap/geo/import.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "route_support.hpp"

namespace covermap::api {

using nlohmann::json;
using namespace detail;

namespace {

// The part of the data inside one area: its organizations (as coverage locates them), the
// instructors whose home is in it, the branches of its organizations; for the areas layer the
// areas within it (by code, which nests), for the others every area (an organization's row
// names its district, street and park).
geo::Dataset inside(geo::Dataset d, const geo::Area& area, geo::ExportLayer layer) {
    geo::Dataset out;
    int index = -1;
    for (std::size_t i = 0; i < d.areas.size(); ++i)
        if (d.areas[i].code == area.code) index = static_cast<int>(i);
    auto where = geo::locate_orgs(d, area.level);
    std::set<geo::Id> kept;
    for (std::size_t i = 0; i < d.orgs.size(); ++i)
        if (where[i] == index) {
            kept.insert(d.orgs[i].id);
            out.orgs.push_back(std::move(d.orgs[i]));
        }
    std::vector<geo::Point> homes;
    for (const auto& in : d.instructors) homes.push_back(in.home);
    auto hits = geo::locate_points({&area.shape}, homes);
    for (std::size_t j = 0; j < d.instructors.size(); ++j)
        if (hits[j] == 0) out.instructors.push_back(std::move(d.instructors[j]));
    for (auto& b : d.branches)
        if (std::any_of(b.org_ids.begin(), b.org_ids.end(), [&](const geo::Id& id) { return kept.count(id); }))
            out.branches.push_back(std::move(b));
    for (auto& a : d.areas)
        if (layer != geo::ExportLayer::areas || a.code.rfind(area.code, 0) == 0) out.areas.push_back(std::move(a));
    return out;
}

}  // namespace

void Transfer::add_routes(Router& router) {
    router.add("GET", "/api/export/{}", Role::viewer, this, &Transfer::export_layer);
    router.add("POST", "/api/import/{}", Role::admin, this, &Transfer::import_layer);
}

Response Transfer::export_layer(const Request& req, const Caller& who, const Args& args) {
    geo::ExportParams p;
    auto layer = geo::parse_export_layer(args[0]);
    if (!layer) return error_response(404, "NotFound", "no export layer " + args[0]);
    // The organizations' file holds every ledger, which an instructor's token reads only for
    // its own organizations.
    if (who.role == Role::instructor && *layer == geo::ExportLayer::orgs)
        return error_response(403, "OutOfScope", "指导员账号不能导出全部组织（其他组织的台账不属于本账号）");
    p.layer = *layer;
    p.coverage = geo::coverage_rows;
    auto q = [&](const char* k, const char* def) { return req.query.count(k) ? req.query.at(k) : std::string(def); };
    auto format = geo::parse_export_format(q("format", "shp"));
    if (!format) return error_response(400, "InvalidQuery", "format must be shp, gpkg, geojson, csv or xlsx");
    p.format = *format;
    p.encoding = q("encoding", "GBK");
    p.srs = q("srs", "EPSG:4490");
    if (p.srs != "auto-gk" && !geo::parse_epsg(p.srs))
        return error_response(400, "InvalidQuery", "srs must be EPSG:n or auto-gk");
    p.where = q("where", "");
    p.excel = q("excel", "") == "true";
    if (req.query.count("level")) {
        p.level = geo::parse_level(req.query.at("level"));
        if (!p.level) return error_response(400, "InvalidQuery", "unknown level");
    }
    // Only what lies inside one area (any level), when asked.
    std::string area = q("area", ""), area_name = "全市";
    std::optional<geo::Area> scope;
    if (!area.empty()) {
        auto view = context_.editor.view();
        if (auto i = view.area(area)) scope = view.data().areas[*i];
        if (!scope) return error_response(404, "NotFound", "no area " + area);
        area_name = scope->name;
    }
    static const std::map<geo::ExportFormat, std::pair<std::string, std::string>> types = {
        {geo::ExportFormat::shp, {".zip", "application/zip"}},
        {geo::ExportFormat::gpkg, {".gpkg", "application/geopackage+sqlite3"}},
        {geo::ExportFormat::geojson, {".geojson", "application/geo+json"}},
        {geo::ExportFormat::csv, {".csv", "text/csv; charset=utf-8"}},
        {geo::ExportFormat::xlsx, {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}}};
    ScratchFile file(types.at(p.format).first);
    p.out = file.path;
    auto deadline = std::chrono::steady_clock::now() + context_.options.slow_deadline;
    p.cancelled = [&] { return context_.stopping.load() || std::chrono::steady_clock::now() > deadline; };
    try {
        // A copy taken under the shared lock (milliseconds), written out without it (seconds):
        // an export never holds a lock an edit waits for.
        auto snapshot = context_.editor.snapshot().first;
        if (scope) snapshot = inside(std::move(snapshot), *scope, p.layer);
        geo::export_layer(snapshot, p);
    } catch (const geo::invalid_argument& e) {
        return error_response(400, "InvalidValue", scrub(e.what(), file.path, "export"));
    }
    std::ifstream in(file.path, std::ios::binary);
    Response r;
    r.content_type = types.at(p.format).second;
    r.body.assign(std::istreambuf_iterator<char>(in), {});
    // Named after what it holds, 银州区_组织_2026-12-06.zip (全市 for the whole), with an ASCII
    // name for clients that do not read RFC 6266's filename*.
    static const std::map<geo::ExportLayer, std::string> names = {{geo::ExportLayer::orgs, "组织"},
                                                                  {geo::ExportLayer::areas, "区域"},
                                                                  {geo::ExportLayer::instructors, "指导员"},
                                                                  {geo::ExportLayer::branches, "党组织"},
                                                                  {geo::ExportLayer::assignments, "指导员联系"}};
    auto today = geo::china_date();
    const auto& ext = types.at(p.format).first;
    std::string ascii = args[0] + (area.empty() ? "" : "-" + area) + "-" + today + ext;
    std::string name = area_name + "_" + names.at(p.layer) + "_" + today + ext;
    std::string safe_ascii;
    for (char c : ascii) safe_ascii += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + safe_ascii + "\"; filename*=UTF-8''" +
                                                      url_encode(name));
    return r;
}

Response Transfer::import_layer(const Request& req, const Caller& who, const Args& args) {
    auto kind = geo::parse_import_kind(args[0]);
    if (!kind) return error_response(404, "NotFound", "no import kind " + args[0] + " (areas, orgs, instructors)");
    if (req.body.empty()) return error_response(400, "InvalidValue", "empty upload");
    auto q = [&](const char* k) { return req.query.count(k) ? req.query.at(k) : std::string(); };
    std::string format = q("format");
    if (format.empty()) {
        if (req.content_type.find("csv") != std::string::npos)
            format = "csv";
        else if (req.content_type.find("zip") != std::string::npos)
            format = "zip";
        else if (req.content_type.find("geopackage") != std::string::npos)
            format = "gpkg";
        else if (req.content_type.find("kml") != std::string::npos)
            format = "kml";
        else if (req.content_type.find("spreadsheetml") != std::string::npos)
            format = "xlsx";
        else
            format = "geojson";
    }
    static const std::set<std::string> formats = {"csv", "geojson", "gpkg", "zip", "kml", "xlsx"};
    if (!formats.count(format))
        return error_response(400, "InvalidQuery", "format must be csv, xlsx, geojson, gpkg, zip or kml");
    if (format == "xlsx" && *kind != geo::ImportKind::orgs)
        return error_response(400, "InvalidQuery", "an xlsx upload is a list of organizations");
    ScratchFile file("." + format);
    {
        std::ofstream out(file.path, std::ios::binary);
        out.write(req.body.data(), static_cast<std::streamsize>(req.body.size()));
    }
    geo::ImportParams p;
    p.kind = *kind;
    p.source = format == "zip" ? "/vsizip/" + file.path : file.path;
    if (!q("level").empty()) {
        p.level = geo::parse_level(q("level"));
        if (!p.level) return error_response(400, "InvalidQuery", "unknown level");
    }
    p.srs = q("srs");
    if (!p.srs.empty() && !geo::parse_epsg(p.srs)) return error_response(400, "InvalidQuery", "srs must be EPSG:n");
    p.encoding = q("encoding");
    p.drivers = geo::upload_drivers();
    if (format == "xlsx") p.drivers = {"XLSX"};  // the registry's spreadsheet, as the command line reads it
    p.gcj02 = q("coords") == "gcj02";
    p.layer = q("layer");
    p.dry_run = q("dry_run") == "true";
    p.missing_deregister = q("missing") == "deregister";
    p.bd09 = q("coords") == "bd09";
    p.skip_bad = q("skip_bad") == "true";  // the good rows, and each bad one named (a preview lists them all)
    p.diff_limit = 500;
    p.max_features = context_.options.import_max_features;
    p.max_vertices = context_.options.import_max_vertices;
    auto deadline = std::chrono::steady_clock::now() + context_.options.import_deadline;
    p.cancelled = [&] { return context_.stopping.load() || std::chrono::steady_clock::now() > deadline; };
    // Reading, checking and comparing with the data take seconds for a city's extract: they run
    // on a copy, beside edits; the write lock is taken for the commit only (and the comparison
    // made again under it in the rare case an edit came meanwhile).
    geo::ImportReport report;
    try {
        report = context_.editor.import(p, who.name);
    } catch (const geo::cancelled_error&) {
        throw;  // 503, as every slow request that ran out of time
    } catch (const geo::format_error& e) {
        // The message in Chinese too, for the page that shows it to whoever dropped the file.
        std::string msg = scrub(scrub(e.what(), p.source, "upload"), file.path, "upload");
        std::string zh = (e.where.empty() ? "" : geo::where_zh(e.where) + "：") +
                         geo::reason_zh(scrub(scrub(e.problem, p.source, "upload"), file.path, "upload"));
        Response r = error_response(400, "InvalidData", msg);
        r.body = geo::dump_json(json{{"code", "InvalidData"}, {"message", msg}, {"message_zh", "文件无法导入：" + zh}});
        return r;
    } catch (const geo::error& e) {
        std::string msg = scrub(scrub(e.what(), p.source, "upload"), file.path, "upload");
        return error_response(400, "InvalidData", msg);
    }
    json rejected = json::array();
    for (const auto& r : report.rejected)
        rejected.push_back({{"where", r.where},
                            {"where_zh", geo::where_zh(r.where)},
                            {"column", r.column},
                            {"reason", r.reason},
                            {"reason_zh", geo::reason_zh(r.reason)}});
    json diff = json::array();
    for (const auto& d : report.diff) {
        json changes = json::array();
        for (const auto& c : d.changes)
            changes.push_back({{"field", c.field}, {"field_zh", c.field_zh}, {"before", c.before}, {"after", c.after}});
        diff.push_back({{"id", d.id}, {"name", d.name}, {"kind", d.kind}, {"changes", changes}});
    }
    json j = {{"imported", report.imported},
              {"repaired", report.repaired},
              {"outside_grid", report.outside_grid},
              {"duplicate_credit_codes", report.duplicate_credit_codes},
              {"invalid_credit_codes", report.invalid_credit_codes},
              {"unknown_columns", report.unknown_columns},
              {"rejected", rejected},
              {"summary", json::parse(geo::summary_json(report))},
              {"notes", report.notes},
              {"by", who.name},
              {"total",
               {{"added", report.total.added},
                {"updated", report.total.updated},
                {"unchanged", report.total.unchanged},
                {"deregistered", report.total.deregistered}}},
              {"written", report.written},
              {"diff", diff},
              {"diff_more", report.diff_more},
              {"change_id", report.change_id ? json(report.change_id) : json()}};
    return json_response(j, report.written ? 201 : 200);
}

}  // namespace covermap::api
