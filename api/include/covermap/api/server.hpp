#pragma once
/// \file The Boost.Beast HTTP/1.1 server: listener and sessions on I/O threads, handlers on a
/// worker pool, slow work (export, import, plan) on a second pool. Beast stays in server.cpp.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace covermap::api {

class App;

struct ServerOptions {
    std::string bind = "127.0.0.1";
    unsigned short port = 8080;  ///< 0: any free port (see Server::port)
    int threads = 2;             ///< I/O threads; as many workers again run handlers
    /// Connections in all. At the cap a newcomer takes the place of an idle or slowly sending
    /// connection of the address holding the most, so no one address (nor nine) can keep
    /// others, /health or a planner out.
    std::size_t max_connections = 512;
    std::size_t max_per_client = 64;  ///< connections from one address; more evict its idle ones
    /// Requests per second from one address (a bucket of twice as many lets bursts through);
    /// beyond it 429 with Retry-After. 0: no limit (benchmarks; behind a proxy that limits).
    double rate_per_client = 1000;
    std::size_t slow_queue = 16;           ///< slow requests (export, import, plan) waiting; more → 503
    std::size_t header_limit = 16 * 1024;  ///< bytes; more → 431
    std::size_t body_limit = 1 << 20;      ///< bytes for every route but imports; more → 413
    std::size_t import_body_limit = 100u << 20;
    std::chrono::milliseconds header_timeout{10000};  ///< to receive a whole header (slow clients)
    std::chrono::milliseconds idle_timeout{30000};    ///< between requests
    /// A response must be sent (read by the client) within this, or the connection is closed:
    /// slow readers cannot hold a connection and its response for long.
    std::chrono::milliseconds send_timeout{60000};
    /// An open event stream (GET /api/events) gets a comment line this often: proxies and
    /// browsers keep it open, and a client that went is found.
    std::chrono::milliseconds event_heartbeat{15000};
    std::size_t send_buffer = 0;  ///< SO_SNDBUF of each connection in bytes; 0: the kernel's (autotuned)
    /// A request body must arrive within body_timeout in all and, after body_grace, at no less
    /// than body_min_rate bytes per second on average (a trickle of a byte a second is cut).
    std::chrono::milliseconds body_timeout{120000};
    std::chrono::milliseconds body_grace{5000};
    double body_min_rate = 4096;
    std::chrono::milliseconds drain_timeout{10000};   ///< graceful stop: wait for open requests
    bool access_log = true;
};

class Server {
public:
    Server(App& app, ServerOptions options);
    ~Server();
    /// Binds and starts the I/O and worker threads; returns the bound port.
    unsigned short start();
    /// Blocks until SIGINT/SIGTERM (or stop()), then drains open connections.
    void wait();
    /// Stops accepting, lets open requests finish (up to drain_timeout), stops the threads.
    void stop();
    unsigned short port() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace covermap::api
