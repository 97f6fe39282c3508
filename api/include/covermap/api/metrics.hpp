#pragma once
/// \file Prometheus metrics: requests by route and status, latency histograms, connections, planner runs.

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace covermap::api {

class Metrics {
public:
    Metrics();
    /// Records one finished request.
    void request(const std::string& route, int status, double seconds);
    void connection_opened() { ++open_connections_; }
    void connection_closed() { --open_connections_; }
    void planner_run() { ++planner_runs_; }
    long open_connections() const { return open_connections_; }
    /// The Prometheus text exposition.
    std::string text() const;

private:
    static constexpr std::array<double, 10> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
    struct Histogram {
        std::array<std::atomic<long>, kBuckets.size()> counts{};  // per bucket, not cumulative
        std::atomic<long> count{0};
        std::atomic<long> sum_ns{0};
    };
    struct Slot {  // one (route, status): its count and its route's histogram
        std::atomic<long> requests{0};
        Histogram* latency = nullptr;
    };
    // Slots are made under the mutex and never move (map nodes); counting is atomic, so a
    // request takes no lock once its slot exists (each thread remembers its last slot).
    Slot& slot(const std::string& route, int status);
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, Slot> requests_;
    std::map<std::string, Histogram> latency_;
    const long id_;  // tells this instance's slots from another's in the threads' memory
    std::atomic<long> open_connections_{0};
    std::atomic<long> planner_runs_{0};
};

}  // namespace covermap::api
