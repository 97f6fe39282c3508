#include "covermap/api/server.hpp"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <optional>
#include <thread>
#include <vector>

#include "covermap/api/app.hpp"
#include "covermap/api/http.hpp"

namespace covermap::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Shared {
    App& app;
    ServerOptions options;
    asio::thread_pool workers;
    std::atomic<bool> draining{false};
    std::atomic<long> open{0};
    std::atomic<long> busy{0};  // requests read and not yet answered
    std::mutex log_mutex;

    Shared(App& a, ServerOptions o) : app(a), options(std::move(o)), workers(std::max(1, options.threads)) {}
};

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
    Session(tcp::socket&& socket, Shared& shared) : stream_(std::move(socket)), shared_(shared) {
        shared_.app.metrics().connection_opened();
        ++shared_.open;
    }
    ~Session() {
        shared_.app.metrics().connection_closed();
        --shared_.open;
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
        parser_->body_limit(shared_.options.body_limit);
        // A whole header must arrive within header_timeout: slow clients cannot hold a slot.
        stream_.expires_after(shared_.options.header_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                beast::bind_front_handler(&Session::on_header, shared_from_this()));
    }

    void on_header(beast::error_code ec, std::size_t) {
        if (ec) return fail(ec);
        started_ = std::chrono::steady_clock::now();
        auto target = parser_->get().target();
        if (target.starts_with("/api/import/")) parser_->body_limit(shared_.options.import_body_limit);
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
        req->method = std::string(msg.method_string());
        parse_target(std::string(msg.target()), *req);
        req->authorization = std::string(msg[http::field::authorization]);
        req->host = std::string(msg[http::field::host]);
        req->if_match = std::string(msg[http::field::if_match]);
        req->if_none_match = std::string(msg[http::field::if_none_match]);
        req->content_type = std::string(msg[http::field::content_type]);
        req->body = std::move(msg.body());
        bool keep_alive = msg.keep_alive() && !shared_.draining;
        // Answers that cost no CPU (a cached tile, /health) are given on this thread; all
        // other work goes to the worker pool.
        if (auto fast = shared_.app.handle_fast(*req)) {
            send(std::move(*fast), keep_alive, req->method, req->path);
            return;
        }
        ++shared_.busy;
        // Handlers run on the worker pool, never on this I/O thread.
        asio::post(shared_.workers, [self = shared_from_this(), req, keep_alive] {
            auto res = std::make_shared<Response>(self->shared_.app.handle(*req));
            asio::post(self->stream_.get_executor(), [self, res, req, keep_alive] {
                self->send(std::move(*res), keep_alive && !self->shared_.draining, req->method, req->path);
                --self->shared_.busy;
            });
        });
    }

    void send(Response r, bool keep_alive, const std::string& method, const std::string& path) {
        auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
        res->set(http::field::server, "covermap");
        res->set(http::field::content_type, r.content_type);
        for (const auto& [k, v] : r.headers) res->set(k, v);
        auto body_bytes = r.body.size();
        res->body() = std::move(r.body);
        res->keep_alive(keep_alive);
        res->prepare_payload();
        if (shared_.options.access_log) {
            double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
            std::lock_guard lock(shared_.log_mutex);
            // The path only: queries may carry secrets.
            std::fprintf(stderr, "%s %s %s %d %zu %.1fms %s\n", log_time().c_str(), method.c_str(), path.c_str(),
                         r.status, body_bytes, ms, r.token_name.c_str());
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
            auto session = std::make_shared<Session>(std::move(socket), shared_);
            if (static_cast<std::size_t>(shared_.open.load()) > shared_.options.max_connections)
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
    {
        std::lock_guard log(im.shared.log_mutex);
        std::fflush(stderr);
    }
    std::lock_guard lock(im.stop_mutex);
    im.stopped = true;
    im.stopped_cv.notify_all();
}

}  // namespace covermap::api
