#pragma once
// Coverage figures as the API serves them: the table of a level (as JSON), kept up to date edit
// by edit (each change's organizations taken out of their areas' rows and put back as they are
// now, only those rows written again, when the change is committed: a read after an edit costs
// what any read does), the rows of a level by area code (OGC area items, area
// cards, per data version), and where each organization lies at a level (kept until places
// change: an edit costs what it touches, not a GEOS pass or a count over every organization).
// Its own lock; reads the data through the editing service.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "covermap/geo/editor.hpp"
#include "covermap/geo/figures.hpp"
#include "covermap/geo/model.hpp"

namespace covermap::api {

class CoverageCache {
public:
    explicit CoverageCache(const geo::Editor& editor) : editor_(editor) {}

    /// The coverage table of a level (of one kind of organization, when given), as JSON text.
    std::string table_json(geo::Level level, std::optional<geo::OrgKind> kind);
    /// A committed change (the editor's listener, in commit order, with the data read-locked):
    /// the organizations it touched are counted again in every table kept; a change of places or
    /// of everything makes the next read count everything.
    void changed(const geo::Change& c, const geo::Dataset& data);
    /// Each area's row of a level, by code.
    std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> by_code(geo::Level level);
    /// The index of the area of `level` each organization lies in (-1: none), by organization.
    std::shared_ptr<const std::vector<int>> located(geo::Level level);

private:
    const geo::Editor& editor_;
    std::mutex mutex_;
    // One level's (and kind's) table as counted: each organization's signature (what it counts
    // for, CoverageRow::signature), the rows and each row's JSON. Counting an organization again
    // compares its signature now with the one counted: counting it twice changes nothing.
    struct Table {
        bool whole = true;  // count everything at the next read
        std::string quarter;
        std::shared_ptr<const std::vector<int>> where;  // the locations counted with
        std::vector<std::uint8_t> signature;            // per organization
        std::vector<int> row_of;                        // per area index: its row, or −1
        std::vector<geo::CoverageRow> rows;
        geo::CoverageRow total;
        std::vector<std::string> row_json;
        std::string body;
        std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> by_code;  // made on demand
    };
    /// The table of (level, kind) brought up to date with the data in view (mutex_ held).
    Table& fresh(geo::Level level, std::optional<geo::OrgKind> kind, const geo::Editor::View& view,
                 const std::shared_ptr<const std::vector<int>>& where);
    void count_all(Table& t, geo::Level level, std::optional<geo::OrgKind> kind, const geo::Dataset& d);
    bool count_again(Table& t, std::optional<geo::OrgKind> kind, const geo::Dataset& d, const std::vector<geo::Id>& ids);
    void write_body(Table& t, geo::Level level, std::optional<geo::OrgKind> kind);
    std::map<std::pair<geo::Level, std::optional<geo::OrgKind>>, Table> tables_;  // by level and kind (none: all)
    std::unordered_map<geo::Id, std::size_t> index_;  // organization -> index in the data (the tables' order)
    std::map<geo::Level, std::shared_ptr<const std::vector<int>>> located_;
    std::uint64_t located_places_ = 0;  // the editor's places_version located_ is of
};

}  // namespace covermap::api
