#pragma once
// Changes other processes commit to a shared PostGIS store, heard through LISTEN/NOTIFY on a
// libpq connection of its own (OGR does not expose notifications).

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace covermap::api {

class ChangeListener {
public:
    /// Listens on the store's channel (geo::change_channel) of a "PG:" uri; on_change gets each
    /// payload of another process, on this listener's thread. Reconnects after a lost connection.
    ChangeListener(const std::string& uri, std::function<void(const std::string&)> on_change);
    ~ChangeListener();
    ChangeListener(const ChangeListener&) = delete;
    ChangeListener& operator=(const ChangeListener&) = delete;

private:
    void run();
    std::string conninfo_, channel_;
    std::function<void(const std::string&)> on_change_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace covermap::api
