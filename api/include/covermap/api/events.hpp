#pragma once
// Live updates for open pages: every committed change (this process's or, through PostGIS
// NOTIFY, another's) as one Server-Sent Event, `event: change` with the change id, the
// organizations (null with a count beyond 1,000), the areas and the box it touched. The HTTP
// server keeps each `GET /api/events` connection open and subscribes it here.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace covermap::api {

class EventHub {
public:
    using Sink = std::function<void(const std::string& text)>;  ///< must not block: it posts the write

    /// A new subscriber; the id unsubscribes it.
    std::uint64_t subscribe(Sink sink);
    void unsubscribe(std::uint64_t id);
    /// Sends one event (its JSON data) to every subscriber.
    void publish(const std::string& event, const std::string& data);
    std::size_t subscribers() const;

private:
    mutable std::mutex mutex_;
    std::map<std::uint64_t, Sink> sinks_;
    std::uint64_t next_ = 1;
};

}  // namespace covermap::api
