#pragma once
// Coverage figures as the API serves them, cached per data version: the table of a level (as
// JSON), the rows of a level by area code (OGC area items, area cards), and where each
// organization lies at a level (kept until places change: an edit costs a count, not a GEOS
// pass over every point). Its own lock; reads the data through the editing service.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "covermap/geo/figures.hpp"
#include "covermap/geo/model.hpp"

namespace covermap::geo {
class Editor;
}

namespace covermap::api {

class CoverageCache {
public:
    explicit CoverageCache(const geo::Editor& editor) : editor_(editor) {}

    /// The coverage table of a level (of one kind of organization, when given), as JSON text.
    std::string table_json(geo::Level level, std::optional<geo::OrgKind> kind);
    /// Each area's row of a level, by code.
    std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> by_code(geo::Level level);
    /// The index of the area of `level` each organization lies in (-1: none), by organization.
    std::shared_ptr<const std::vector<int>> located(geo::Level level);

private:
    const geo::Editor& editor_;
    std::mutex mutex_;
    std::map<std::string, std::pair<std::uint64_t, std::string>> tables_;  // by level/kind: version, JSON
    std::map<geo::Level,
             std::pair<std::uint64_t, std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>>>>
        rows_;
    std::string rows_quarter_;  // the quarter rows_ counted ledgers in
    std::map<geo::Level, std::shared_ptr<const std::vector<int>>> located_;
    std::uint64_t located_places_ = 0;  // the editor's places_version located_ is of
};

}  // namespace covermap::api
