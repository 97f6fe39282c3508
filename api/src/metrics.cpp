#include "covermap/api/metrics.hpp"

#include <sstream>

namespace covermap::api {

void Metrics::request(const std::string& route, int status, double seconds) {
    std::lock_guard lock(mutex_);
    ++requests_[{route, status}];
    auto& h = latency_[route];
    ++h.count;
    h.sum += seconds;
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
        if (seconds <= kBuckets[i]) ++h.counts[i];
}

std::string Metrics::text() const {
    std::ostringstream out;
    std::lock_guard lock(mutex_);
    out << "# HELP covermap_http_requests_total HTTP requests by route and status.\n"
           "# TYPE covermap_http_requests_total counter\n";
    for (const auto& [key, n] : requests_)
        out << "covermap_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n
            << '\n';
    out << "# HELP covermap_http_request_duration_seconds Request latency by route.\n"
           "# TYPE covermap_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency_) {
        for (std::size_t i = 0; i < kBuckets.size(); ++i)
            out << "covermap_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"" << kBuckets[i]
                << "\"} " << h.counts[i] << '\n';
        out << "covermap_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << h.count
            << '\n';
        out << "covermap_http_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum << '\n';
        out << "covermap_http_request_duration_seconds_count{route=\"" << route << "\"} " << h.count << '\n';
    }
    out << "# HELP covermap_open_connections Open HTTP connections.\n# TYPE covermap_open_connections gauge\n"
        << "covermap_open_connections " << open_connections_.load() << '\n';
    out << "# HELP covermap_planner_runs_total Planner runs.\n# TYPE covermap_planner_runs_total counter\n"
        << "covermap_planner_runs_total " << planner_runs_.load() << '\n';
    return out.str();
}

}  // namespace covermap::api
