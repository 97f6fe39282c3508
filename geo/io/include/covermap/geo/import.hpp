#pragma once
/// \file Import of areas, organizations and instructors from anything OGR reads, or CSV.

#include <cstdint>
#include <functional>
#include <map>
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
    bool bd09 = false;           ///< coordinates are BD-09 (Baidu Maps)
    std::string layer;           ///< layer (a spreadsheet's sheet) for multi-layer sources; first otherwise
    /// Extra column headings: heading -> field ("企业名称=name"); the usual registry headings
    /// (企业名称, 统一社会信用代码, 从业人员, 登记状态, 住所, 经度…) are known without it.
    std::vector<std::pair<std::string, std::string>> map;
    bool dry_run = false;             ///< organizations: compute and report the change, write nothing
    bool missing_deregister = false;  ///< organizations: mark those absent from the source deregistered
    bool skip_bad = false;            ///< import the good rows and list the bad (else all or nothing)
    std::string rejects_out;          ///< with skip_bad: the bad rows as a CSV to fix and re-import
    /// OGR drivers the source may be opened with (empty: any). Uploads name a short list, so
    /// a VRT or similar can never make GDAL read other files or URLs.
    std::vector<std::string> drivers;
    /// Asked between rows and inside geometry repair: true stops the import with
    /// cancelled_error before anything is written (a deadline, SIGTERM).
    std::function<bool()> cancelled;
    std::size_t max_features = 2'000'000;  ///< rows or features; more is refused
    std::size_t max_vertices = 250'000;    ///< vertices of one feature's geometry; more is refused
    /// Organizations: list at most this many added, changed and deregistered organizations in
    /// the report's diff (field by field), for a preview before the real import.
    std::size_t diff_limit = 0;
};

/// The drivers an uploaded file may be read with: CSV, GeoJSON, GeoPackage, Shapefile, KML.
const std::vector<std::string>& upload_drivers();

/// A row left out: where it is, which column, why.
struct Reject {
    std::string where;  ///< "line 7" (a spreadsheet's row number), "feature 12"
    std::string column;
    std::string reason;
    /// The row's id (or credit code) as far as it could be read: an organization whose row was
    /// left out is never taken for one missing from the extract (missing_deregister).
    std::string id;
};

/// The same in Chinese, for the people who fix the file: "第 7 行", "从业人员数「abc」不是数字".
std::string where_zh(const std::string& where);
std::string reason_zh(const std::string& reason);

/// One field of an organization an import changes, as text (status in Chinese).
struct FieldChange {
    std::string field, field_zh, before, after;
};
/// An organization an import adds, changes or marks deregistered.
struct OrgDiff {
    Id id;
    std::string name;
    std::string kind;  ///< added | updated | deregistered
    std::vector<FieldChange> changes;  ///< updated and deregistered: before → after
};

/// An organizations import's change, per street and in all.
struct ChangeCounts {
    std::size_t added = 0, updated = 0, unchanged = 0, deregistered = 0;
};

/// What an import did and what it found.
struct ImportReport {
    std::size_t imported = 0;                         ///< rows read and accepted
    std::vector<std::string> repaired;                ///< invalid polygons repaired, with ids and reasons
    std::vector<Id> outside_grid;                     ///< organizations in no grid cell (kept)
    std::vector<std::string> duplicate_credit_codes;  ///< "code: ids a, b…" (kept, flagged)
    std::vector<std::string> invalid_credit_codes;    ///< "id: code: why" (kept, flagged)
    std::vector<std::string> unknown_columns;         ///< headings no field is read from
    std::vector<std::string> fields_read;             ///< fields the source has a column for
    std::vector<Reject> rejected;                     ///< rows left out (with skip_bad)
    ChangeCounts total;                               ///< organizations: the upsert's change
    std::map<std::string, ChangeCounts> by_street;    ///< "name (code)" -> change
    bool written = false;                             ///< false for a dry run
    std::int64_t change_id = 0;                       ///< the change it was recorded as, when written
    std::vector<std::string> notes;                   ///< anything else worth telling
    std::vector<OrgDiff> diff;  ///< with ImportParams::diff_limit: the first changes, by id
    std::size_t diff_more = 0;  ///< and how many more there are
};

/// The report's one-line JSON summary (the last line an import prints).
std::string summary_json(const ImportReport& r);

/// An import read, checked and compared with the store's contents, not written yet.
struct PreparedImport {
    ImportKind kind = ImportKind::orgs;
    ImportReport report;
    Dataset incoming;                ///< areas or instructors to add
    std::vector<Organization> orgs;  ///< organizations: all of them after the upsert
    std::vector<AuditEntry> audit;   ///< organizations: the rows the upsert writes
};

/// Computes what importing `incoming` (read by read_source into `report`) changes in
/// `existing` (the store's contents now), without writing: a dry run's answer, and the
/// change commit_import writes. Needs no lock: the server runs it beside edits.
PreparedImport prepare_import(const Dataset& existing, Dataset incoming, ImportReport report,
                              const ImportParams& params, const std::string& who = "cli");

/// Writes a prepared import in one transaction (nothing for a dry run); report.written says
/// whether it did. The caller makes sure the store has not changed since `existing`.
void commit_import(Store& store, PreparedImport& prepared, const ImportParams& params, ChangeRow* change = nullptr);

/// Reads the whole source, validates every row, then writes it to the store in one
/// transaction. Organizations are an upsert keyed by id: new ones added, changed ones updated
/// (their branch and instructor kept), unchanged ones left, absent ones marked deregistered
/// when asked; the change and each updated or deregistered organization go to the audit log
/// (by `who`). Throws format_error (naming the file, the rows, columns and problems) or
/// invalid_argument before anything is written.
ImportReport import_into(Store& store, const ImportParams& params, const std::string& who = "cli");

/// Reads and validates a source into a Dataset without writing it (used by import_into).
Dataset read_source(const ImportParams& params, ImportReport& report);

}  // namespace covermap::geo
