#include "change_listener.hpp"

#include <libpq-fe.h>
#include <sys/select.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "covermap/geo/store.hpp"

namespace covermap::api {

namespace {

// OGR's "PG:" string is a libpq conninfo plus OGR's own keys, which libpq would refuse.
std::string libpq_conninfo(const std::string& uri) {
    std::istringstream in(uri.substr(3));
    std::string out, part;
    while (in >> part)
        if (part.rfind("active_schema=", 0) != 0 && part.rfind("schemas=", 0) != 0 && part.rfind("tables=", 0) != 0)
            out += part + " ";
    return out;
}

}  // namespace

ChangeListener::ChangeListener(const std::string& uri, std::function<void(const std::string&)> on_change)
    : conninfo_(libpq_conninfo(uri)), channel_(geo::change_channel(uri)), on_change_(std::move(on_change)) {
    thread_ = std::thread([this] { run(); });
    // The first LISTEN before the caller loads its data; a database that does not answer within
    // half a minute is retried by the thread, and the reconnection asks for a full reload.
    std::unique_lock lock(first_mutex_);
    if (!first_done_.wait_for(lock, std::chrono::seconds(30), [this] { return first_tried_; }))
        gave_up_ = true;  // the caller loads without LISTEN: a later success must reload
}

ChangeListener::~ChangeListener() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void ChangeListener::start() { started_ = true; }

void ChangeListener::deliver(std::string payload) {
    if (!started_) {
        held_.push_back(std::move(payload));
        return;
    }
    for (auto& p : held_) on_change_(p);
    held_.clear();
    on_change_(payload);
}

void ChangeListener::run() {
    bool reload = false;  // set once LISTEN failed or was lost: what was committed meanwhile is unknown
    // After the first attempt: whether the constructor had stopped waiting for it.
    auto tried = [this] {
        std::lock_guard lock(first_mutex_);
        if (!first_tried_) {
            first_tried_ = true;
            first_done_.notify_all();
        }
        return gave_up_;
    };
    while (!stop_) {
        PGconn* conn = PQconnectdb(conninfo_.c_str());
        if (PQstatus(conn) != CONNECTION_OK) {
            std::fprintf(stderr, "covermap: cannot listen for other processes' changes: %s", PQerrorMessage(conn));
            PQfinish(conn);
            reload = true;
            tried();
            for (int i = 0; i < 20 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        PGresult* r = PQexec(conn, ("LISTEN " + channel_).c_str());
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (tried()) reload = true;
        if (ok && reload) deliver(nlohmann::json{{"origin", "listener"}, {"reload", true}}.dump());
        reload = true;  // from here, a lost connection misses what is committed until the next LISTEN
        while (ok && !stop_) {
            if (started_ && !held_.empty()) {  // start() came while nothing was committed
                for (auto& p : held_) on_change_(p);
                held_.clear();
            }
            int fd = PQsocket(conn);
            fd_set set;
            FD_ZERO(&set);
            FD_SET(fd, &set);
            timeval wait{0, 200000};  // wake up to see stop_ and start()
            if (select(fd + 1, &set, nullptr, nullptr, &wait) < 0) {
                if (errno == EINTR) continue;  // a signal, not the connection
                break;
            }
            if (!PQconsumeInput(conn)) break;
            while (PGnotify* n = PQnotifies(conn)) {
                std::string payload = n->extra ? n->extra : "";
                PQfreemem(n);
                auto j = nlohmann::json::parse(payload, nullptr, false);
                if (j.is_object() && j.value("origin", "") == geo::change_origin()) continue;  // our own
                deliver(std::move(payload));
            }
        }
        PQfinish(conn);
        if (!ok)  // LISTEN refused: not at once again
            for (int i = 0; i < 20 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

}  // namespace covermap::api
