// Import and export: layers out as files, registry files in.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "covermap/api/app.hpp"
#include "covermap/api/geojson.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/export.hpp"
#include "covermap/geo/import.hpp"
#include "covermap/geo/planner.hpp"
#include "covermap/geo/text.hpp"
#include "route_support.hpp"

namespace covermap::api {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace detail;
using geo::iso8601_utc_now;

Response App::export_layer(const Request& req, const Token&, const std::vector<std::string>& args) {
    geo::ExportParams p;
    auto layer = geo::parse_export_layer(args[0]);
    if (!layer) return error_response(404, "NotFound", "no export layer " + args[0]);
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
    static const std::map<geo::ExportFormat, std::pair<std::string, std::string>> types = {
        {geo::ExportFormat::shp, {".zip", "application/zip"}},
        {geo::ExportFormat::gpkg, {".gpkg", "application/geopackage+sqlite3"}},
        {geo::ExportFormat::geojson, {".geojson", "application/geo+json"}},
        {geo::ExportFormat::csv, {".csv", "text/csv; charset=utf-8"}},
        {geo::ExportFormat::xlsx, {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}}};
    ScratchFile file(types.at(p.format).first);
    p.out = file.path;
    auto deadline = std::chrono::steady_clock::now() + options_.slow_deadline;
    p.cancelled = [&] { return stopping_.load() || std::chrono::steady_clock::now() > deadline; };
    try {
        // A copy taken under the shared lock (milliseconds), written out without it (seconds):
        // an export never holds a lock an edit waits for.
        auto snapshot = data_snapshot().first;
        geo::export_layer(snapshot, p);
    } catch (const geo::invalid_argument& e) {
        return error_response(400, "InvalidValue", scrub(e.what(), file.path, "export"));
    }
    std::ifstream in(file.path, std::ios::binary);
    Response r;
    r.content_type = types.at(p.format).second;
    r.body.assign(std::istreambuf_iterator<char>(in), {});
    r.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"" + args[0] + types.at(p.format).first + "\"");
    return r;
}

Response App::import_layer(const Request& req, const Token& who, const std::vector<std::string>& args) {
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
        else
            format = "geojson";
    }
    static const std::set<std::string> formats = {"csv", "geojson", "gpkg", "zip", "kml"};
    if (!formats.count(format))
        return error_response(400, "InvalidQuery", "format must be csv, geojson, gpkg, zip or kml");
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
    p.gcj02 = q("coords") == "gcj02";
    p.layer = q("layer");
    p.dry_run = q("dry_run") == "true";
    p.missing_deregister = q("missing") == "deregister";
    p.bd09 = q("coords") == "bd09";
    p.max_features = options_.import_max_features;
    p.max_vertices = options_.import_max_vertices;
    auto deadline = std::chrono::steady_clock::now() + options_.import_deadline;
    p.cancelled = [&] { return stopping_.load() || std::chrono::steady_clock::now() > deadline; };
    // Reading, checking and comparing with the data take seconds for a city's extract: they run
    // on a copy, beside edits; the write lock is taken for the commit only (and the comparison
    // made again under it in the rare case an edit came meanwhile).
    geo::PreparedImport prepared;
    try {
        geo::ImportReport read;
        geo::Dataset incoming = geo::read_source(p, read);
        auto [existing, version] = data_snapshot();
        prepared = geo::prepare_import(existing, p.dry_run ? std::move(incoming) : incoming, read, p, who.name);
        if (!p.dry_run) {
            std::lock_guard writer(write_mutex_);
            if (data_version_ != version) {
                auto again = data_snapshot();
                prepared = geo::prepare_import(again.first, std::move(incoming), read, p, who.name);
            }
            // What the organizations were, to tell which tiles the import touches.
            std::unordered_map<geo::Id, std::pair<geo::Point, std::int64_t>> was;
            if (*kind == geo::ImportKind::orgs) was = org_versions();
            geo::commit_import(*store_, prepared, p);
            if (prepared.report.written) {
                reload();
                std::shared_lock lock(data_mutex_);
                if (*kind == geo::ImportKind::orgs) {
                    // Only the tiles near what changed: added, updated or deregistered organizations.
                    tiles_->replace(data_, touched_since(was));
                } else {
                    tiles_->reset(data_);
                }
            }
        }
    } catch (const geo::cancelled_error&) {
        throw;  // 503, as every slow request that ran out of time
    } catch (const geo::error& e) {
        std::string msg = scrub(scrub(e.what(), p.source, "upload"), file.path, "upload");
        return error_response(400, "InvalidData", msg);
    }
    const geo::ImportReport& report = prepared.report;
    json rejected = json::array();
    for (const auto& r : report.rejected)
        rejected.push_back({{"where", r.where}, {"column", r.column}, {"reason", r.reason}});
    json j = {{"imported", report.imported},
              {"repaired", report.repaired},
              {"outside_grid", report.outside_grid},
              {"duplicate_credit_codes", report.duplicate_credit_codes},
              {"invalid_credit_codes", report.invalid_credit_codes},
              {"unknown_columns", report.unknown_columns},
              {"rejected", rejected},
              {"summary", json::parse(geo::summary_json(report))},
              {"notes", report.notes},
              {"by", who.name}};
    return json_response(j, report.written ? 201 : 200);
}

}  // namespace covermap::api
