// Several processes on one PostGIS store: what another process committed (heard through
// LISTEN/NOTIFY, change_listener.cpp) is applied here as this process applies its own edits:
// memory first, then the coverage caches (data_version_) and exactly the tiles it touched.
#include <cstdio>

#include "covermap/api/app.hpp"
#include "covermap/geo/store.hpp"

namespace covermap::api {

void App::apply_remote(const std::string& payload) {
    auto j = nlohmann::json::parse(payload, nullptr, false);
    if (!j.is_object()) return;
    try {
        if (!remote_store_) remote_store_ = std::make_unique<geo::Store>(geo::Store::open_existing(options_.db));
        std::vector<geo::Organization> changed;
        bool reload_all = j.value("reload", false);
        if (!reload_all && j.contains("orgs") && j["orgs"].is_array()) {
            std::vector<geo::Id> ids;
            for (const auto& id : j["orgs"])
                if (id.is_string()) ids.push_back(id.get<std::string>());
            changed = remote_store_->orgs(ids);
            std::shared_lock lock(data_mutex_);
            for (const auto& o : changed) {
                // A new organization or a branch this process has not seen: read everything.
                bool known_branch =
                    !o.branch_id || std::any_of(data_.branches.begin(), data_.branches.end(),
                                                [&](const geo::Branch& b) { return b.id == *o.branch_id; });
                if (!org_index_.count(o.id) || !known_branch) reload_all = true;
            }
        }
        std::lock_guard writer(write_mutex_);
        if (reload_all) {
            auto was = org_versions();
            reload();  // takes the data lock itself
            std::shared_lock lock(data_mutex_);
            auto touched = touched_since(was);
            for (const auto& b : data_.branches) tiles_->add_branch(b.id, b.type);
            if (!touched.empty()) tiles_->replace(data_, touched);
            return;
        }
        for (const auto& after : changed) {
            geo::Organization before;
            {
                std::unique_lock lock(data_mutex_);
                auto& mine = data_.orgs[org_index_.at(after.id)];
                if (mine.version >= after.version) continue;  // already here
                before = mine;
                mine = after;
                if (before.instructor_id) --load_[*before.instructor_id];
                if (after.instructor_id) ++load_[*after.instructor_id];
                ++data_version_;
                if (before.location.x != after.location.x || before.location.y != after.location.y)
                    ++reload_generation_;  // located anew
            }
            tiles_->update(before, after);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "covermap: cannot apply another process's change: %s\n", e.what());
    }
}

}  // namespace covermap::api
