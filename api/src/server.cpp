#include "covermap/api/server.hpp"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <list>
#include <map>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "beast_request.hpp"
#include "covermap/api/app.hpp"
#include "covermap/api/http.hpp"
#include "covermap/geo/text.hpp"

namespace covermap::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class Session;

// Connections waiting for a request header (new or kept alive), oldest first: when the
// server or one client is at its cap, the oldest of them makes room for the newcomer, so
// slow-header clients (slowloris) cannot keep others out.
struct Waiting {
    std::weak_ptr<Session> session;
    std::string client;
};

struct Shared {
    App& app;
    ServerOptions options;
    asio::thread_pool workers;
    asio::thread_pool slow;  // export, import, plan: never in the way of /health, tiles, edits
    std::atomic<bool> draining{false};
    std::atomic<long> open{0};
    std::atomic<long> busy{0};  // requests read and not yet answered
    std::atomic<long> slow_queued{0};
    std::mutex log_mutex;

    std::mutex conn_mutex;
    std::list<Waiting> waiting;
    std::map<std::string, std::size_t> per_client;

    // Request rate per address: a token bucket each, refilled at rate_per_client per second.
    struct Bucket {
        double tokens = 0;
        std::chrono::steady_clock::time_point at;
    };
    std::mutex rate_mutex;
    std::unordered_map<std::string, Bucket> buckets;

    /// True when the address may send one more request now.
    bool admit_rate(const std::string& client) {
        double rate = options.rate_per_client;
        if (rate <= 0) return true;
        auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(rate_mutex);
        if (buckets.size() > 100000) buckets.clear();  // a flood of addresses: start afresh
        auto [it, fresh] = buckets.try_emplace(client, Bucket{2 * rate, now});
        auto& b = it->second;
        if (!fresh) {
            b.tokens = std::min(2 * rate, b.tokens + rate * std::chrono::duration<double>(now - b.at).count());
            b.at = now;
        }
        if (b.tokens < 1) return false;
        b.tokens -= 1;
        return true;
    }

    Shared(App& a, ServerOptions o)
        : app(a), options(std::move(o)), workers(std::max(1, options.threads)), slow(std::max(1, options.threads)) {}
};

// The path as it goes into the log: control characters and invalid UTF-8 escaped, so a
// request cannot write a line of its own.
std::string log_safe(const std::string& path) {
    std::string out;
    for (unsigned char c : geo::replace_invalid_utf8(path)) {
        if (c < 0x20 || c == 0x7f || c == ' ') {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string log_time() {
    auto now = std::chrono::system_clock::now();
    auto t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return std::string(buf) + "." + std::to_string(1000 + ms).substr(1) + "Z";
}

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket&& socket, Shared& shared, std::string client)
        : stream_(std::move(socket)), shared_(shared), client_(std::move(client)) {
        // The address the client connected to (links' fallback): once per connection.
        beast::error_code ec;
        auto local = stream_.socket().local_endpoint(ec);
        if (!ec) {
            auto a = local.address();
            local_ = (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(local.port());
        }
        shared_.app.metrics().connection_opened();
        ++shared_.open;
    }
    ~Session() {
        shared_.app.metrics().connection_closed();
        --shared_.open;
        std::lock_guard lock(shared_.conn_mutex);
        if (waiting_) shared_.waiting.erase(*waiting_);
        if (--shared_.per_client[client_] == 0) shared_.per_client.erase(client_);
    }

    // Closes the connection from any thread (its read ends with an error and it goes).
    void evict() {
        asio::post(stream_.get_executor(), [self = shared_from_this()] {
            beast::error_code ec;
            self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
            self->stream_.socket().close(ec);
        });
    }

    // Registers the new connection under the caps; false when it must be refused. Called
    // once per connection by the listener.
    bool admit() {
        std::vector<std::shared_ptr<Session>> evicted;
        bool ok = true;
        {
            std::lock_guard lock(shared_.conn_mutex);
            std::size_t mine = ++shared_.per_client[client_];
            auto evict_oldest = [&](bool same_client) {
                for (auto it = shared_.waiting.begin(); it != shared_.waiting.end(); ++it) {
                    if (same_client && it->client != client_) continue;
                    auto victim = it->session.lock();
                    shared_.waiting.erase(it);
                    if (victim) {
                        victim->waiting_.reset();
                        evicted.push_back(victim);
                    }
                    return true;
                }
                return false;
            };
            if (mine > shared_.options.max_per_client && !evict_oldest(true)) ok = false;
            long over = shared_.open.load() - static_cast<long>(evicted.size());
            if (ok && static_cast<std::size_t>(over) > shared_.options.max_connections && !evict_oldest(false))
                ok = false;
        }
        for (auto& v : evicted) v->evict();
        return ok;
    }

    void run() {
        asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::do_read, shared_from_this()));
    }

    // Answers at once and closes: used when the server is full.
    void refuse() {
        auto res = std::make_shared<http::response<http::string_body>>(http::status::service_unavailable, 11);
        res->set(http::field::content_type, "application/json");
        res->set(http::field::retry_after, "1");
        res->body() = R"({"code":"Unavailable","message":"too many connections"})";
        res->keep_alive(false);
        res->prepare_payload();
        stream_.expires_after(std::chrono::seconds(5));
        http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, std::size_t) {
            beast::error_code ec;
            self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        });
    }

private:
    void do_read() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(shared_.options.header_limit));
        // The route's own limit is applied once the header is in (on_header): here only the
        // largest, so that a Content-Length is not refused before the route is known.
        parser_->body_limit(std::max(shared_.options.body_limit, shared_.options.import_body_limit));
        {
            std::lock_guard lock(shared_.conn_mutex);
            if (!waiting_) waiting_ = shared_.waiting.insert(shared_.waiting.end(), Waiting{weak_from_this(), client_});
        }
        // A whole header must arrive within header_timeout: slow clients cannot hold a slot.
        stream_.expires_after(shared_.options.header_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                beast::bind_front_handler(&Session::on_header, shared_from_this()));
    }

    void on_header(beast::error_code ec, std::size_t) {
        {
            std::lock_guard lock(shared_.conn_mutex);
            if (waiting_) shared_.waiting.erase(*waiting_);
            waiting_.reset();
        }
        if (ec) return fail(ec);
        started_ = std::chrono::steady_clock::now();
        auto& msg = parser_->get();
        auto target = std::string(msg.target());
        bool import = target.rfind("/api/import/", 0) == 0;
        std::size_t limit = import ? shared_.options.import_body_limit : shared_.options.body_limit;
        bool has_body = parser_->chunked() || (parser_->content_length() && *parser_->content_length() > 0);
        if (has_body) {
            // Who may send it is known before a byte of the body is read: a refused request
            // never makes the server buffer its body.
            Request head;
            head.method = std::string(msg.method_string());
            parse_target(target, head);
            head.authorization = std::string(msg[http::field::authorization]);
            head.cookie = std::string(msg[http::field::cookie]);
            std::optional<Response> refusal;
            try {
                refusal = shared_.app.admit(head);
            } catch (const std::exception&) {
                refusal = error_response(500, "InternalError", "the request could not be completed");
            }
            if (refusal) return send(std::move(*refusal), false, head.method, head.path);
            if (parser_->content_length() && *parser_->content_length() > limit) {
                Response res = error_response(413, "PayloadTooLarge", "request body larger than this route allows");
                return send(std::move(res), false, head.method, head.path);
            }
        }
        parser_->body_limit(limit);
        stream_.expires_after(shared_.options.idle_timeout);
        http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void fail(beast::error_code ec) {
        // Errors a client caused get an answer before the connection closes.
        int status = 0;
        std::string code, message;
        if (ec == http::error::header_limit) {
            status = 431, code = "HeaderTooLarge", message = "request header larger than allowed";
        } else if (ec == http::error::body_limit) {
            status = 413, code = "PayloadTooLarge", message = "request body larger than this route allows";
        } else if (ec == http::error::bad_method || ec == http::error::bad_target || ec == http::error::bad_version ||
                   ec == http::error::bad_field || ec == http::error::bad_value || ec == http::error::bad_line_ending ||
                   ec == http::error::bad_content_length || ec == http::error::bad_transfer_encoding ||
                   ec == http::error::bad_chunk || ec == http::error::bad_obs_fold) {
            status = 400, code = "BadRequest", message = "malformed HTTP request";
        }
        if (status == 0) {  // timeouts, resets, end of stream: just close
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
            return;
        }
        Response res = error_response(status, code, message);
        res.route = "-";
        send(res, false, parser_ ? std::string(parser_->get().method_string()) : "-", "-");
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return fail(ec);
        auto& msg = parser_->get();
        auto req = std::make_shared<Request>();
        fill_request(*req, msg);
        req->local_address = local_;
        bool keep_alive = msg.keep_alive() && !shared_.draining;
        if (req->path != "/health" && !shared_.admit_rate(client_)) {
            auto res = error_response(429, "TooManyRequests", "too many requests from this address: slow down");
            res.headers.emplace_back("Retry-After", "1");
            send(std::move(res), keep_alive, req->method, req->path);
            return;
        }
        // Answers that cost no CPU (a cached tile, /health) are given on this thread; all
        // other work goes to the worker pool.
        if (auto fast = shared_.app.handle_fast(*req)) {
            send(std::move(*fast), keep_alive, req->method, req->path);
            return;
        }
        bool slow = shared_.app.is_slow(*req);
        if (slow && shared_.slow_queued.load() >= static_cast<long>(shared_.options.slow_queue)) {
            auto res = error_response(503, "Busy", "too many exports, imports or plans at once: try again shortly");
            res.headers.emplace_back("Retry-After", "5");
            send(std::move(res), keep_alive, req->method, req->path);
            return;
        }
        ++shared_.busy;
        if (slow) ++shared_.slow_queued;
        // Handlers run on the worker pools, never on this I/O thread.
        asio::post(slow ? shared_.slow : shared_.workers, [self = shared_from_this(), req, keep_alive, slow] {
            auto res = std::make_shared<Response>(self->shared_.app.handle(*req));
            if (slow) --self->shared_.slow_queued;
            asio::post(self->stream_.get_executor(), [self, res, req, keep_alive] {
                self->send(std::move(*res), keep_alive && !self->shared_.draining, req->method, req->path);
                --self->shared_.busy;
            });
        });
    }

    void send(Response r, bool keep_alive, const std::string& method, const std::string& path) {
        auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
        res->set(http::field::server, "covermap");
        res->set("X-Content-Type-Options", "nosniff");
        res->set(http::field::content_type, r.content_type);
        for (const auto& [k, v] : r.headers) res->set(k, v);
        auto body_bytes = r.body.size();
        res->keep_alive(keep_alive);
        if (method == "HEAD") {
            res->content_length(body_bytes);  // the length a GET would have, and no body
        } else {
            res->body() = std::move(r.body);
            res->prepare_payload();
        }
        if (shared_.options.access_log) {
            double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
            std::lock_guard lock(shared_.log_mutex);
            // The path only: queries may carry secrets.
            std::fprintf(stderr, "%s %s %s %d %zu %.1fms %s\n", log_time().c_str(), log_safe(method).c_str(),
                         log_safe(path).c_str(), r.status, body_bytes, ms, log_safe(r.token_name).c_str());
        }
        stream_.expires_after(shared_.options.idle_timeout);
        http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
            if (ec) return;
            if (!res->keep_alive()) {
                beast::error_code ignored;
                self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                return;
            }
            self->do_read();
        });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Shared& shared_;
    std::string client_;
    std::string local_;                                    // host:port this connection was accepted on
    std::optional<std::list<Waiting>::iterator> waiting_;  // guarded by shared_.conn_mutex
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(asio::io_context& ioc, tcp::endpoint ep, Shared& shared)
        : ioc_(ioc), acceptor_(asio::make_strand(ioc)), shared_(shared) {
        acceptor_.open(ep.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen(asio::socket_base::max_listen_connections);
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    void run() { do_accept(); }
    void close() {
        asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
            beast::error_code ec;
            self->acceptor_.close(ec);
        });
    }

private:
    void do_accept() {
        acceptor_.async_accept(asio::make_strand(ioc_),
                               beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }
    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
            beast::error_code ignored;
            auto client = socket.remote_endpoint(ignored).address().to_string();
            auto session = std::make_shared<Session>(std::move(socket), shared_, client);
            if (!session->admit())
                session->refuse();
            else
                session->run();
        }
        do_accept();
    }

    asio::io_context& ioc_;
    tcp::acceptor acceptor_;
    Shared& shared_;
};

}  // namespace

struct Server::Impl {
    Shared shared;
    asio::io_context ioc;
    std::shared_ptr<Listener> listener;
    std::vector<std::thread> threads;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    asio::signal_set signals{ioc, SIGINT, SIGTERM};
    std::mutex stop_mutex;
    std::condition_variable stopped_cv;
    bool stopping = false;
    bool stopped = false;

    std::optional<asio::steady_timer> flush_timer;

    void schedule_flush() {
        flush_timer->expires_after(std::chrono::milliseconds(200));
        flush_timer->async_wait([this](beast::error_code ec) {
            std::lock_guard lock(shared.log_mutex);
            std::fflush(stderr);
            if (!ec && !shared.draining) schedule_flush();
        });
    }

    Impl(App& app, ServerOptions o) : shared(app, std::move(o)), ioc(std::max(1, shared.options.threads)) {}
};

Server::Server(App& app, ServerOptions options) : impl_(std::make_unique<Impl>(app, std::move(options))) {}

Server::~Server() {
    stop();
    // A stop begun elsewhere (a signal) finishes before the server goes.
    std::unique_lock lock(impl_->stop_mutex);
    impl_->stopped_cv.wait(lock, [&] { return !impl_->stopping || impl_->stopped; });
}

unsigned short Server::start() {
    auto& im = *impl_;
    auto address = asio::ip::make_address(im.shared.options.bind);
    im.listener = std::make_shared<Listener>(im.ioc, tcp::endpoint(address, im.shared.options.port), im.shared);
    im.listener->run();
    im.work.emplace(im.ioc.get_executor());
    im.signals.async_wait([this](beast::error_code ec, int) {
        if (!ec) std::thread([this] { stop(); }).detach();
    });
    if (im.shared.options.access_log) {
        // The access log is block-buffered (one write per 64 KB, not per request) and flushed
        // every 200 ms, so logging does not cost a system call per request.
        static char buffer[1 << 16];
        std::setvbuf(stderr, buffer, _IOFBF, sizeof buffer);
        im.flush_timer.emplace(im.ioc);
        im.schedule_flush();
    }
    for (int i = 0; i < std::max(1, im.shared.options.threads); ++i) im.threads.emplace_back([&im] { im.ioc.run(); });
    return im.listener->port();
}

unsigned short Server::port() const { return impl_->listener ? impl_->listener->port() : 0; }

void Server::wait() {
    std::unique_lock lock(impl_->stop_mutex);
    impl_->stopped_cv.wait(lock, [&] { return impl_->stopped; });
}

void Server::stop() {
    auto& im = *impl_;
    {
        std::lock_guard lock(im.stop_mutex);
        if (im.stopping || !im.listener) return;
        im.stopping = true;  // claim the stop; waiters are released at the end
    }
    im.shared.draining = true;
    im.shared.app.stop_slow_work();
    im.listener->close();
    beast::error_code ec;
    im.signals.cancel(ec);
    // Drain: requests in flight are answered (with Connection: close); idle keep-alive
    // connections hold no request and are simply closed.
    auto deadline = std::chrono::steady_clock::now() + im.shared.options.drain_timeout;
    while (im.shared.busy.load() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (im.flush_timer) {
        asio::post(im.ioc, [&im] { im.flush_timer->cancel(); });
    }
    im.work.reset();
    im.ioc.stop();
    for (auto& t : im.threads)
        if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    im.shared.workers.join();
    im.shared.slow.join();
    {
        std::lock_guard log(im.shared.log_mutex);
        std::fflush(stderr);
    }
    std::lock_guard lock(im.stop_mutex);
    im.stopped = true;
    im.stopped_cv.notify_all();
}

}  // namespace covermap::api
