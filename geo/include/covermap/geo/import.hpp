#pragma once
/// \file Import of areas, organizations and instructors from anything OGR reads, or CSV.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "covermap/geo/model.hpp"
#include "covermap/geo/store.hpp"

namespace covermap::geo {

enum class ImportKind { areas, orgs, instructors };
std::optional<ImportKind> parse_import_kind(const std::string& s);

/// What to import and how to read it.
struct ImportParams {
    ImportKind kind = ImportKind::orgs;
    std::string source;          ///< any OGR source, or a CSV with lon,lat (or x,y) columns
    std::optional<Level> level;  ///< areas: the level of every feature (else a `level` column)
    std::string srs;             ///< overrides the source CRS ("EPSG:4547"…)
    std::string encoding;        ///< DBF/CSV text encoding when not declared (GBK, UTF-8…)
    bool gcj02 = false;          ///< coordinates are GCJ-02 (Gaode/Tencent web maps)
    std::string layer;           ///< layer name for multi-layer sources; first layer otherwise
    /// OGR drivers the source may be opened with (empty: any). Uploads name a short list, so
    /// a VRT or similar can never make GDAL read other files or URLs.
    std::vector<std::string> drivers;
};

/// The drivers an uploaded file may be read with: CSV, GeoJSON, GeoPackage, Shapefile, KML.
const std::vector<std::string>& upload_drivers();

/// What an import did and what it found.
struct ImportReport {
    std::size_t imported = 0;
    std::vector<std::string> repaired;                ///< invalid polygons repaired, with ids and reasons
    std::vector<Id> outside_grid;                     ///< organizations in no grid cell (kept)
    std::vector<std::string> duplicate_credit_codes;  ///< "code: ids a, b…" (kept)
    std::vector<std::string> notes;                   ///< anything else worth telling
};

/// Reads the whole source, validates every row, then writes it to the store in one
/// transaction. Throws format_error (naming the file, the row or feature, the problem)
/// or invalid_argument before anything is written.
ImportReport import_into(Store& store, const ImportParams& params);

/// Reads and validates a source into a Dataset without writing it (used by import_into).
Dataset read_source(const ImportParams& params, ImportReport& report);

}  // namespace covermap::geo
