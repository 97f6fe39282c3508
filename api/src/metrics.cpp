#include "covermap/api/metrics.hpp"

#include <algorithm>
#include <sstream>

namespace covermap::api {

namespace {
std::atomic<long> next_metrics_id{0};
}

Metrics::Metrics() : id_(++next_metrics_id) {}

Metrics::Slot& Metrics::slot(const std::string& route, int status) {
    thread_local long last_id = 0;
    thread_local int last_status = 0;
    thread_local std::string last_route;
    thread_local Slot* last = nullptr;
    if (last && last_id == id_ && last_status == status && last_route == route) return *last;
    std::lock_guard lock(mutex_);
    auto& s = requests_[{route, status}];
    if (!s.latency) s.latency = &latency_[route];
    last_id = id_, last_status = status, last_route = route, last = &s;
    return s;
}

void Metrics::request(const std::string& route, int status, double seconds) {
    Slot& s = slot(route, status);
    ++s.requests;
    auto& h = *s.latency;
    ++h.count;
    h.sum_ns += static_cast<long>(seconds * 1e9);
    // One bucket counted, the one it falls in (the exposition adds them up): a dozen atomic
    // increments per request, on a line both I/O threads write, were a visible share of
    // serving a cached tile.
    auto bucket = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds) - kBuckets.begin();
    if (bucket < static_cast<std::ptrdiff_t>(kBuckets.size())) ++h.counts[static_cast<std::size_t>(bucket)];
}

std::string Metrics::text() const {
    std::ostringstream out;
    std::lock_guard lock(mutex_);
    out << "# HELP covermap_http_requests_total HTTP requests by route and status.\n"
           "# TYPE covermap_http_requests_total counter\n";
    for (const auto& [key, s] : requests_)
        out << "covermap_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} "
            << s.requests.load() << '\n';
    out << "# HELP covermap_http_request_duration_seconds Request latency by route.\n"
           "# TYPE covermap_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency_) {
        long below = 0;  // cumulative, as Prometheus reads buckets
        for (std::size_t i = 0; i < kBuckets.size(); ++i)
            out << "covermap_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"" << kBuckets[i]
                << "\"} " << (below += h.counts[i].load()) << '\n';
        out << "covermap_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << h.count.load()
            << '\n';
        out << "covermap_http_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum_ns.load() / 1e9
            << '\n';
        out << "covermap_http_request_duration_seconds_count{route=\"" << route << "\"} " << h.count.load() << '\n';
    }
    out << "# HELP covermap_open_connections Open HTTP connections.\n# TYPE covermap_open_connections gauge\n"
        << "covermap_open_connections " << open_connections_.load() << '\n';
    out << "# HELP covermap_planner_runs_total Planner runs.\n# TYPE covermap_planner_runs_total counter\n"
        << "covermap_planner_runs_total " << planner_runs_.load() << '\n';
    return out.str();
}

}  // namespace covermap::api
