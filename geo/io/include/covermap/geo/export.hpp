#pragma once
/// \file Export for grid management systems and desktop GIS: shapefile (zip), GeoPackage,
/// GeoJSON and CSV, with stable 10-byte ASCII field names and Chinese text intact.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "covermap/geo/figures.hpp"
#include "covermap/geo/model.hpp"
#include "covermap/geo/progress.hpp"

namespace covermap::geo {

class Store;

enum class ExportLayer { orgs, areas, instructors, branches, assignments };
enum class ExportFormat { shp, gpkg, geojson, csv, xlsx };
std::optional<ExportLayer> parse_export_layer(const std::string& s);
std::optional<ExportFormat> parse_export_format(const std::string& s);

struct ExportParams {
    ExportLayer layer = ExportLayer::orgs;
    ExportFormat format = ExportFormat::shp;
    std::optional<Level> level;     ///< areas: only this level (all levels otherwise)
    std::string encoding = "GBK";   ///< shapefile text: GBK (default) or UTF-8
    std::string srs = "EPSG:4490";  ///< target CRS: "EPSG:n" or "auto-gk" (3° Gauss–Krüger zone, with prefix)
    std::string where;              ///< OGR SQL filter over the exported field names
    /// CSV for spreadsheet programs: text of 11 or more digits (area codes, all-digit ids and
    /// credit codes) written as ="…", so Excel and WPS keep it text instead of 9.12E+17.
    /// covermap's own import reads such cells back as the plain text.
    bool excel = false;
    std::string out;                               ///< output file (.zip for shapefiles)
    std::uint64_t max_file_bytes = 2147483647ULL;  ///< shapefile part limit (.shp/.dbf ≤ 2 GB)
    Progress progress;
    /// Polled once per row: true stops the export with cancelled_error (a deadline, a shutdown).
    std::function<bool()> cancelled;
    /// The areas layer's coverage figures, per level (analysis's compute_coverage, handed in by
    /// the caller so that io stays off the analysis part); unset: the figures are left null.
    std::function<std::vector<CoverageRow>(const Dataset&, Level)> coverage;
};

struct ExportReport {
    std::size_t features = 0;
    std::size_t truncated = 0;       ///< text values cut to 254 bytes (on a character boundary)
    std::vector<std::string> files;  ///< names written (inside the zip for shapefiles)
    std::string srs;                 ///< the CRS written, "EPSG:n"
    int parts = 1;                   ///< shapefile parts (split at max_file_bytes)
};

/// One exported field: its ≤ 10-byte name and what it holds, in Chinese and English.
struct ExportField {
    std::string name;
    std::string zh;
    std::string en;
};

/// The fields of a layer, in order (also written to the zip's README.txt).
std::vector<ExportField> export_fields(ExportLayer layer);

/// The EPSG code of the CGCS2000 3-degree Gauss–Krüger zone (with zone prefix) for a longitude.
int gauss_kruger_epsg(double longitude, bool zone_prefix = true);

/// Writes the layer; throws invalid_argument for bad parameters, error for I/O failures.
ExportReport export_layer(const Dataset& d, const ExportParams& params);

/// The same from the store; organizations are streamed one at a time, so memory holds the
/// areas and a branch-type map but never all organizations.
ExportReport export_layer(const Store& store, const ExportParams& params);

/// Cuts utf8 to at most max_bytes once encoded (GBK: 2 bytes per non-ASCII character,
/// UTF-8: its own length), never inside a character. Returns true when it cut.
bool truncate_encoded(std::string& utf8, std::size_t max_bytes, bool gbk);

}  // namespace covermap::geo
