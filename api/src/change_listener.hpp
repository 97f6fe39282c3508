#pragma once
// Changes other processes commit to a shared PostGIS store, heard through LISTEN/NOTIFY on a
// libpq connection of its own (OGR does not expose notifications).

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace covermap::api {

class ChangeListener {
public:
    /// Listens on the store's channel (geo::change_channel) of a "PG:" uri; on_change gets each
    /// payload of another process, on this listener's thread, once start() is called. LISTEN is
    /// in place when the constructor returns (unless its first attempt failed: the reconnection
    /// then asks for a full reload), so a listener made before the data is loaded misses nothing
    /// committed while it loads: those payloads are held, in order, until start(). Reconnects
    /// after a lost connection, and asks for a full reload then too.
    ChangeListener(const std::string& uri, std::function<void(const std::string&)> on_change);
    ~ChangeListener();
    ChangeListener(const ChangeListener&) = delete;
    ChangeListener& operator=(const ChangeListener&) = delete;

    /// Delivers what was held and every payload from now on.
    void start();

private:
    void run();
    void deliver(std::string payload);
    std::string conninfo_, channel_;
    std::function<void(const std::string&)> on_change_;
    std::atomic<bool> stop_{false}, started_{false};
    std::vector<std::string> held_;  // the listener thread's own: payloads before start()
    std::mutex first_mutex_;
    std::condition_variable first_done_;
    bool first_tried_ = false, gave_up_ = false;  // under first_mutex_
    std::thread thread_;
};

}  // namespace covermap::api
