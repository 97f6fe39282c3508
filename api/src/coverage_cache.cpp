#include "coverage_cache.hpp"

#include "covermap/geo/clock.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/editor.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/text.hpp"

namespace covermap::api {

std::shared_ptr<const std::vector<int>> CoverageCache::located(geo::Level level) {
    {
        std::lock_guard lock(mutex_);
        if (located_places_ != editor_.places_version()) {
            located_.clear();
            located_places_ = editor_.places_version();
        }
        if (auto it = located_.find(level); it != located_.end()) return it->second;
    }
    std::shared_ptr<const std::vector<int>> where;
    {
        auto view = editor_.view();
        where = std::make_shared<const std::vector<int>>(geo::locate_orgs(view.data(), level));
    }
    std::lock_guard lock(mutex_);
    located_[level] = where;
    return where;
}

std::string CoverageCache::table_json(geo::Level level, std::optional<geo::OrgKind> kind) {
    // The quarter in the key: the ledger figures roll over on its first day with no edit.
    std::string key = std::string(geo::to_string(level)) + "/" + (kind ? std::string(geo::to_string(*kind)) : "") +
                      "/" + geo::quarter_start(geo::china_date());
    {
        std::lock_guard lock(mutex_);
        auto it = tables_.find(key);
        if (it != tables_.end() && it->second.first == editor_.version()) return it->second.second;
    }
    auto where = located(level);
    auto view = editor_.view();
    const auto& data = view.data();
    auto version = editor_.version();
    auto table = where->size() == data.orgs.size() ? geo::compute_coverage(data, level, kind, *where)
                                                   : geo::compute_coverage(data, level, kind);
    auto body = geo::dump_json(geo::to_json(table));
    std::lock_guard lock(mutex_);
    tables_[key] = {version, body};
    return body;
}

std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> CoverageCache::by_code(geo::Level level) {
    auto quarter = geo::quarter_start(geo::china_date());
    {
        std::lock_guard lock(mutex_);
        if (quarter != rows_quarter_) rows_.clear(), rows_quarter_ = quarter;  // the ledger figures roll over
        auto it = rows_.find(level);
        if (it != rows_.end() && it->second.first == editor_.version()) return it->second.second;
    }
    auto rows = std::make_shared<std::unordered_map<std::string, geo::CoverageRow>>();
    auto where = located(level);
    std::uint64_t version;
    {
        auto view = editor_.view();
        const auto& data = view.data();
        version = editor_.version();
        auto table = where->size() == data.orgs.size() ? geo::compute_coverage(data, level, std::nullopt, *where)
                                                       : geo::compute_coverage(data, level);
        for (auto& r : table.areas) rows->emplace(r.code, r);
    }
    std::lock_guard lock(mutex_);
    rows_[level] = {version, rows};
    return rows;
}

}  // namespace covermap::api
