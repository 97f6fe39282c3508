#include "covermap/api/events.hpp"

#include <vector>

namespace covermap::api {

std::uint64_t EventHub::subscribe(Sink sink) {
    std::lock_guard lock(mutex_);
    auto id = next_++;
    sinks_.emplace(id, std::move(sink));
    return id;
}

void EventHub::unsubscribe(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    sinks_.erase(id);
}

void EventHub::publish(const std::string& event, const std::string& data) {
    std::string text = "event: " + event + "\ndata: " + data + "\n\n";
    std::vector<Sink> sinks;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, sink] : sinks_) sinks.push_back(sink);
    }
    for (const auto& sink : sinks) sink(text);  // outside the lock: a sink may unsubscribe
}

std::size_t EventHub::subscribers() const {
    std::lock_guard lock(mutex_);
    return sinks_.size();
}

}  // namespace covermap::api
