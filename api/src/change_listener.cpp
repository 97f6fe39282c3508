#include "change_listener.hpp"

#include <libpq-fe.h>
#include <sys/select.h>

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
}

ChangeListener::~ChangeListener() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void ChangeListener::run() {
    bool first = true;
    while (!stop_) {
        PGconn* conn = PQconnectdb(conninfo_.c_str());
        if (PQstatus(conn) != CONNECTION_OK) {
            std::fprintf(stderr, "covermap: cannot listen for other processes' changes: %s", PQerrorMessage(conn));
            PQfinish(conn);
            for (int i = 0; i < 20 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        PGresult* r = PQexec(conn, ("LISTEN " + channel_).c_str());
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        // After a lost connection, whatever was committed while not listening: a full reload.
        if (ok && !first) on_change_(nlohmann::json{{"origin", "listener"}, {"reload", true}}.dump());
        first = false;
        while (ok && !stop_) {
            int fd = PQsocket(conn);
            fd_set set;
            FD_ZERO(&set);
            FD_SET(fd, &set);
            timeval wait{0, 200000};  // wake up to see stop_
            if (select(fd + 1, &set, nullptr, nullptr, &wait) < 0) break;
            if (!PQconsumeInput(conn)) break;
            while (PGnotify* n = PQnotifies(conn)) {
                std::string payload = n->extra ? n->extra : "";
                PQfreemem(n);
                auto j = nlohmann::json::parse(payload, nullptr, false);
                if (j.is_object() && j.value("origin", "") == geo::change_origin()) continue;  // our own
                on_change_(payload);
            }
        }
        PQfinish(conn);
    }
}

}  // namespace covermap::api
