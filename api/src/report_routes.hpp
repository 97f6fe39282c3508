#pragma once
// The monthly reporting duty: targets (re-read from the store, which the command line changes
// under a running server), an area's coverage history, the report as PDF or XLSX, and the
// snapshot a server takes on the first request of each month.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "covermap/geo/figures.hpp"
#include "covermap/geo/store.hpp"
#include "router.hpp"

namespace covermap::api {

class CoverageCache;

class Reports {
public:
    Reports(Context& context, CoverageCache& coverage) : context_(context), coverage_(coverage) {}
    void add_routes(Router& router);

    /// True when any target is set (the coverage table then carries them).
    bool has_targets();
    /// The targets resolved for areas of a level (code "total": the whole), as JSON.
    nlohmann::json targets_json(const std::string& level, const std::vector<std::string>& codes);
    /// On the first request of a month: a snapshot dated today unless the month has one.
    void monthly_snapshot();

private:
    Response history(const Request&, const Caller&, const Args&);
    Response report(const Request&, const Caller&, const Args&);
    Response print(const Request&, const Caller&, const Args&);
    Response list_targets(const Request&, const Caller&, const Args&);
    Response add_target(const Request&, const Caller&, const Args&);
    Response remove_target(const Request&, const Caller&, const Args&);

    struct TargetState {
        std::vector<geo::Target> targets;
        std::vector<geo::Snapshot> baselines;  // the snapshots relative targets start from
    };
    std::shared_ptr<const TargetState> target_state();
    geo::Store& history_store();  // call with mutex_ held

    Context& context_;
    CoverageCache& coverage_;
    std::mutex mutex_;  // the targets and the history store's one user at a time
    std::shared_ptr<const TargetState> targets_;
    std::chrono::steady_clock::time_point targets_read_{};
    std::unique_ptr<geo::Store> history_store_;  // read-only use, opened once
    std::mutex snapshot_mutex_;
    std::atomic<int> snapshot_month_{0};  // yyyymm whose snapshot was seen to or tried
};

}  // namespace covermap::api
