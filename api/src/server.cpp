#include "covermap/api/server.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cerrno>
#include <deque>
#include <cstdio>
#include <ctime>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <sys/socket.h>

#include "beast_request.hpp"
#include "covermap/api/app.hpp"
#include "covermap/api/http.hpp"
#include "covermap/api/events.hpp"
#include "covermap/geo/text.hpp"

namespace covermap::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
// Each connection's socket and stream bound to its I/O context's own executor type rather than
// the type-erased any_io_executor: every asynchronous operation of a request would otherwise
// copy, query and destroy a polymorphic executor (a measurable share of serving a cached tile).
using Executor = asio::io_context::executor_type;
using Socket = tcp::socket::rebind_executor<Executor>::other;
using Stream = beast::basic_stream<tcp, Executor>;

namespace {

class Session;

// A connection's "waiting for a request header since" (new or kept alive), or minus "receiving
// a body since", or kNotWaiting: when the server or one client is at its cap, the connection
// waiting longest makes room for the newcomer, so slow clients (slowloris, a trickled body)
// cannot keep others out. Only header waits are swept by the header timeout.
constexpr std::int64_t kNotWaiting = std::numeric_limits<std::int64_t>::max();
std::int64_t ticks_now() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

struct Shared {
    App& app;
    ServerOptions options;
    asio::thread_pool workers;
    asio::thread_pool writes;  // edits: never queued behind renders and reads
    asio::thread_pool slow;  // export, import, plan: never in the way of /health, tiles, edits
    std::atomic<bool> draining{false};
    std::atomic<long> open{0};
    std::atomic<long> busy{0};  // requests read and not yet answered
    std::atomic<long> slow_queued{0};
    std::shared_ptr<spdlog::logger> access;  // the access log, when on

    // Every admitted connection, until its destructor: a Session in this list is alive while
    // conn_mutex is held (the destructor takes it to leave). The list changes once per
    // connection; a request only stores its session's waiting time, with no lock (a list
    // node and two locks per request were a visible share of serving a cached tile).
    std::mutex conn_mutex;
    std::list<Session*> sessions;
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
        : app(a),
          options(std::move(o)),
          workers(std::max(1, options.threads)),
          writes(std::max(1, options.threads)),
          slow(std::max(1, options.threads)) {}
};

// The path as it goes into the log: control characters (C0, DEL, C1 such as NEL), line and
// paragraph separators, bidirectional overrides and invalid UTF-8 escaped as %XX of their
// bytes, so a request can neither write a line of its own nor make one read backwards.
std::string log_safe(const std::string& path) {
    std::string text = geo::replace_invalid_utf8(path), out;
    auto escape = [&](std::size_t at, std::size_t n) {
        for (std::size_t k = 0; k < n; ++k) out += percent_byte(static_cast<unsigned char>(text[at + k]));
    };
    for (std::size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        n = std::min(n, text.size() - i);
        // The code point, for the multi-byte forms that matter here (2 and 3 bytes).
        unsigned cp = n == 1   ? c
                      : n == 2 ? ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu)
                      : n == 3 ? ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(text[i + 1]) & 0x3Fu) << 6) |
                                     (static_cast<unsigned char>(text[i + 2]) & 0x3Fu)
                               : 0x10000;
        bool unsafe = cp < 0x20 || cp == 0x7f || cp == ' ' || (cp >= 0x80 && cp <= 0x9f) ||  // C0, DEL, C1
                      cp == 0x061c || cp == 0x200e || cp == 0x200f ||                         // bidi marks
                      (cp >= 0x2028 && cp <= 0x202e) ||                                       // separators, embeddings
                      (cp >= 0x2066 && cp <= 0x2069);                                         // isolates
        if (unsafe)
            escape(i, n);
        else
            out.append(text, i, n);
        i += n;
    }
    return out;
}

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(Socket&& socket, Shared& shared, std::string client)
        : stream_(std::move(socket)), shared_(shared), client_(std::move(client)) {
        // The address the client connected to (links' fallback): once per connection.
        beast::error_code ec;
        auto local = stream_.socket().local_endpoint(ec);
        if (!ec) {
            auto a = local.address();
            local_ = (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(local.port());
        }
        if (shared_.options.send_buffer)
            stream_.socket().set_option(
                asio::socket_base::send_buffer_size(static_cast<int>(shared_.options.send_buffer)), ec);
        shared_.app.metrics().connection_opened();
        ++shared_.open;
    }
    ~Session() {
        if (subscription_) shared_.app.events().unsubscribe(subscription_);
        shared_.app.metrics().connection_closed();
        --shared_.open;
        std::lock_guard lock(shared_.conn_mutex);
        if (entry_) shared_.sessions.erase(*entry_);
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

    // Ends the session's wait for a header if it is still the one begun at `since`: true for
    // the one caller that may then evict it.
    bool stop_waiting(std::int64_t since) { return waiting_since_.compare_exchange_strong(since, kNotWaiting); }
    std::int64_t waiting_since() const { return waiting_since_.load(); }
    const std::string& client() const { return client_; }

    // Registers the new connection under the caps; false when it must be refused. Called
    // once per connection by the listener.
    bool admit() {
        // Declared before the lock: the last reference to a session must not go while
        // conn_mutex is held (its destructor takes it).
        std::vector<std::shared_ptr<Session>> evicted, seen;
        bool ok = true;
        {
            std::lock_guard lock(shared_.conn_mutex);
            entry_ = shared_.sessions.insert(shared_.sessions.end(), this);
            std::size_t mine = ++shared_.per_client[client_];
            // Closes the connection of `of` (any address when empty) that has waited longest
            // for a header or been receiving a body longest; false when none waits.
            auto evict_oldest = [&](const std::string& of) {
                for (;;) {
                    Session* oldest = nullptr;
                    std::int64_t since = kNotWaiting, first = kNotWaiting;
                    for (Session* s : shared_.sessions) {
                        if (s == this || (!of.empty() && s->client() != of)) continue;
                        auto t = s->waiting_since();
                        if (t == kNotWaiting) continue;
                        if (auto at = t < 0 ? -t : t; at < first) first = at, since = t, oldest = s;
                    }
                    if (!oldest) return false;
                    auto victim = oldest->weak_from_this().lock();
                    if (victim) seen.push_back(victim);
                    if (oldest->stop_waiting(since)) {  // else its header came meanwhile: look again
                        if (victim) evicted.push_back(std::move(victim));
                        return true;
                    }
                }
            };
            if (mine > shared_.options.max_per_client && !evict_oldest(client_)) ok = false;
            long over = shared_.open.load() - static_cast<long>(evicted.size());
            if (ok && static_cast<std::size_t>(over) > shared_.options.max_connections) {
                // The server is full: the address holding the most connections makes room (its
                // longest-waiting one goes), so that addresses with few, /health's prober and a
                // planner among them, always get in. A newcomer from that address itself evicts
                // one of its own, never someone else's.
                std::string heaviest = client_;
                std::size_t most = mine;
                for (const auto& [who, n] : shared_.per_client)
                    if (n > most) most = n, heaviest = who;
                if (!evict_oldest(heaviest) && (heaviest == client_ || !evict_oldest(std::string()))) ok = false;
            }
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
        waiting_since_ = ticks_now();
        // A whole header must arrive within header_timeout, or sweep_waiting closes the
        // connection: slow clients cannot hold a slot. (One sweep for all instead of a timer
        // armed per request: each arming could cost a system call.)
        stream_.expires_never();
        read_header();
    }

    void read_header() {
        http::async_read_header(stream_, buffer_, *parser_,
                                beast::bind_front_handler(&Session::on_header, shared_from_this()));
    }

    void on_header(beast::error_code ec, std::size_t) {
        // An evictor that claimed the wait first closes the connection: answer nothing.
        if (waiting_since_.exchange(kNotWaiting) == kNotWaiting && !ec) return;
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
        if (parser_->is_done()) return on_read({}, 0);  // no body (a GET): no second read
        body_started_ = std::chrono::steady_clock::now();
        // While its body comes, the connection may make room for a newcomer at the caps
        // (Session::admit), as one waiting for a header may.
        waiting_since_ = -ticks_now();
        read_body();
    }

    // The body arrives piece by piece, each read under a deadline: the whole body within
    // body_timeout, and after body_grace no slower than body_min_rate on average (the next
    // bytes are due when the average would drop below it). A trickle is cut, not waited for.
    void read_body() {
        const auto& o = shared_.options;
        auto received = static_cast<double>(parser_->get().body().size());
        // In seconds as doubles until the smaller is known: a rate-bound deadline can be far
        // beyond what a clock duration holds.
        double due = std::max(std::chrono::duration<double>(o.body_grace).count(),
                              o.body_min_rate > 0 ? received / o.body_min_rate : 1e9);
        double total = std::chrono::duration<double>(o.body_timeout).count();
        auto until = body_started_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                         std::chrono::duration<double>(std::min(due, total)));
        stream_.expires_at(until);
        http::async_read_some(stream_, buffer_, *parser_,
                              beast::bind_front_handler(&Session::on_body, shared_from_this()));
    }

    void on_body(beast::error_code ec, std::size_t) {
        if (ec) {
            waiting_since_ = kNotWaiting;
            return fail(ec);
        }
        if (!parser_->is_done()) return read_body();
        // Claim the request: an evictor that claimed it first closes the connection.
        if (waiting_since_.exchange(kNotWaiting) == kNotWaiting) return;
        on_read({}, 0);
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
        Request& req = req_;  // reused: its strings keep their capacity between requests
        fill_request(req, msg);
        req.local_address = local_;
        bool keep_alive = msg.keep_alive() && !shared_.draining;
        if (req.path != "/health" && !shared_.admit_rate(client_)) {
            auto res = error_response(429, "TooManyRequests", "too many requests from this address: slow down");
            res.headers.emplace_back("Retry-After", "1");
            send(std::move(res), keep_alive, req.method, req.path);
            return;
        }
        // Answers that cost no CPU (a cached tile, /health) are given on this thread; all
        // other work goes to the worker pool.
        if (auto fast = shared_.app.handle_fast(req)) {
            send(std::move(*fast), keep_alive, req.method, req.path);
            return;
        }
        bool slow = shared_.app.is_slow(req);
        if (slow && shared_.slow_queued.load() >= static_cast<long>(shared_.options.slow_queue)) {
            auto res = error_response(503, "Busy", "too many exports, imports or plans at once: try again shortly");
            res.headers.emplace_back("Retry-After", "5");
            send(std::move(res), keep_alive, req.method, req.path);
            return;
        }
        ++shared_.busy;
        auto shared_req = std::make_shared<Request>(std::move(req));
        if (slow) ++shared_.slow_queued;
        // Handlers run on the worker pools, never on this I/O thread. Edits have a pool of their
        // own: a write never waits behind tile renders or reads (an uncached tile storm from a
        // few addresses would otherwise hold every edit for a render or two). Reads share the
        // workers' queue, which also paces clients that ask for many tiles at once.
        bool write = !slow && shared_req->method != "GET" && shared_req->method != "HEAD";
        asio::post(slow ? shared_.slow : write ? shared_.writes : shared_.workers,
                   [self = shared_from_this(), req = shared_req, keep_alive, slow, write] {
                       // A read whose client has hung up while it queued is not worth a render:
                       // it is dropped (nginx's 499), so that a client that gave up and came back
                       // on new connections does not find its old ones still counted against it.
                       // An edit is always carried out: its client cannot know it was not.
                       if (!write && self->peer_gone()) {
                           if (slow) --self->shared_.slow_queued;
                           asio::post(self->stream_.get_executor(), [self, req] {
                               self->dropped(*req);
                               --self->shared_.busy;
                           });
                           return;
                       }
                       auto res = std::make_shared<Response>(self->shared_.app.handle(*req));
                       if (slow) --self->shared_.slow_queued;
                       asio::post(self->stream_.get_executor(), [self, res, req, keep_alive] {
                           self->send(std::move(*res), keep_alive && !self->shared_.draining, req->method, req->path);
                           --self->shared_.busy;
                       });
                   });
    }

    // Writes the response: its head serialized here into a buffer the session keeps, its
    // body (or the cache's shared bytes) beside it, in one gather write. By hand rather than
    // Beast's serializer: a cached tile is a head and bytes already in memory, and the
    // serializer's allocations and buffer walks were a visible share of serving one.
    void send(Response r, bool keep_alive, const std::string& method, const std::string& path) {
        if (r.event_stream && r.status == 200) return open_stream(r, method, path);
        out_ = std::move(r);
        auto body = out_.payload();
        head_.clear();
        head_ += "HTTP/1.1 ";
        head_ += std::to_string(out_.status);
        head_ += ' ';
        auto reason = http::obsolete_reason(static_cast<http::status>(out_.status));
        head_.append(reason.data(), reason.size());
        head_ += "\r\nServer: covermap\r\nX-Content-Type-Options: nosniff\r\n";
        auto field = [&](std::string_view k, std::string_view v) {
            head_ += k;
            head_ += ": ";
            for (char c : v) head_ += (c == '\r' || c == '\n') ? ' ' : c;  // no header splitting
            head_ += "\r\n";
        };
        field("Content-Type", out_.content_type);
        for (const auto& [k, v] : out_.headers) field(k, v);
        // 1xx, 204 and 304 have no content and no Content-Length; HEAD gets the GET's length.
        if (out_.status >= 200 && out_.status != 204 && out_.status != 304)
            field("Content-Length", std::to_string(body.size()));
        head_ += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
        if (method == "HEAD" || out_.status == 204 || out_.status == 304) body = {};
        if (shared_.access) {
            double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
            // The path only: queries may carry secrets.
            shared_.access->info("{} {} {} {} {:.1f}ms {}", log_safe(method), log_safe(path), out_.status,
                                 out_.payload().size(), ms, log_safe(out_.token_name));
        }
        std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body.data(), body.size())};
        // First a write right here, which does not wait (the socket is in non-blocking mode):
        // a tile or a small answer fits the socket's buffer and is gone at once, without a
        // completion handler, a timer and a trip through the event loop. Whatever does not fit
        // is written asynchronously, under the idle timeout.
        beast::error_code ec;
        auto& socket = stream_.socket();
        if (!socket.non_blocking()) socket.non_blocking(true, ec);
        std::size_t sent = ec ? 0 : socket.write_some(buffers, ec);
        if (ec && ec != asio::error::would_block) return written(ec, keep_alive);
        if (sent == asio::buffer_size(buffers)) return written({}, keep_alive);
        beast::buffers_suffix<std::array<asio::const_buffer, 2>> rest(buffers);
        rest.consume(sent);
        stream_.expires_after(shared_.options.send_timeout);
        asio::async_write(stream_, rest, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
            self->written(ec, keep_alive);
        });
    }

    // An event stream (GET /api/events): the head, then every published change, a comment
    // line every event_heartbeat, until the client goes. Writes are queued (one in flight at a
    // time); a read watches for the client closing its end. The connection counts against the
    // caps like any other.
    void open_stream(const Response& r, const std::string& method, const std::string& path) {
        std::string head = "HTTP/1.1 200 OK\r\nServer: covermap\r\nX-Content-Type-Options: nosniff\r\n"
                           "Content-Type: text/event-stream\r\nCache-Control: no-store\r\nX-Accel-Buffering: no\r\n"
                           "Connection: close\r\n\r\n: covermap events\n\n";
        if (shared_.access)
            shared_.access->info("{} {} 200 stream {}", log_safe(method), log_safe(path), log_safe(r.token_name));
        auto weak = weak_from_this();
        auto executor = stream_.get_executor();
        subscription_ = shared_.app.events().subscribe([weak, executor](const std::string& text) {
            asio::post(executor, [weak, text] {
                if (auto self = weak.lock()) self->push(text);
            });
        });
        push(std::move(head));
        heartbeat();
        watch_close();
    }

    void push(std::string text) {
        if (ended_) return;
        outbox_.push_back(std::move(text));
        if (!writing_) write_next();
    }

    void write_next() {
        if (outbox_.empty()) {
            writing_ = false;
            return;
        }
        writing_ = true;
        stream_.expires_after(shared_.options.send_timeout);  // a reader that stops reading is cut
        asio::async_write(stream_, asio::buffer(outbox_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->stream_.expires_never();
            if (ec) return self->end_stream();
            self->outbox_.pop_front();
            self->write_next();
        });
    }

    void heartbeat() {
        if (!beat_) beat_.emplace(stream_.get_executor());
        beat_->expires_after(shared_.options.event_heartbeat);
        beat_->async_wait([weak = weak_from_this()](beast::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || self->ended_) return;
            self->push(": ping\n\n");
            self->heartbeat();
        });
    }

    void watch_close() {
        stream_.socket().async_read_some(asio::buffer(sink_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->end_stream();  // the client went (or sent something: it has no say here)
            self->watch_close();
        });
    }

    void end_stream() {
        if (ended_) return;
        ended_ = true;
        if (subscription_) shared_.app.events().unsubscribe(std::exchange(subscription_, 0));
        if (beat_) beat_->cancel();
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
    }

    // True when the client has closed its end (or reset it): a peek at the socket, which
    // does not wait and takes nothing out. Safe from a worker thread: while a request is
    // being handled, no read is pending on the socket.
    bool peer_gone() {
        char c;
        auto n = ::recv(stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    }

    // A request dropped because its client went: logged as 499 (nginx's "client closed
    // request") and the connection closed.
    void dropped(const Request& req) {
        if (shared_.access) {
            double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
            shared_.access->info("{} {} 499 0 {:.1f}ms {}", log_safe(req.method), log_safe(req.path), ms, "-");
        }
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
    }

    void written(beast::error_code ec, bool keep_alive) {
        out_ = Response{};  // drop the body (and the cache's bytes) now
        if (ec) {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
            return;
        }
        if (!keep_alive) {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
            return;
        }
        do_read();
    }

    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<ArrivingBody>> parser_;
    Shared& shared_;
    std::string client_;
    std::string local_;                                     // host:port this connection was accepted on
    std::optional<std::list<Session*>::iterator> entry_;    // in shared_.sessions; guarded by conn_mutex
    std::atomic<std::int64_t> waiting_since_{kNotWaiting};  // steady-clock ticks, or kNotWaiting
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point body_started_;
    Request req_;       // the request being answered on this thread
    Response out_;      // the response being written
    std::string head_;  // its head, serialized (capacity kept between requests)
    // An event stream's state (open_stream).
    std::uint64_t subscription_ = 0;
    std::deque<std::string> outbox_;
    bool writing_ = false, ended_ = false;
    std::optional<asio::steady_timer> beat_;
    std::array<char, 256> sink_{};
};

// Accepts on the first I/O context and hands each connection to the next context in turn:
// one context per I/O thread, so a connection's handlers all run on one thread and need
// no strand (and each context, run by one thread, takes no locks of its own).
// Closes the connections that have waited longer than header_timeout for a whole header
// Called a few times per header_timeout.
void sweep_waiting(Shared& shared) {
    // Both released after the lock (see Session::admit): the late ones, and any other a
    // reference was taken to.
    std::vector<std::shared_ptr<Session>> late, kept;
    {
        auto too_old =
            ticks_now() -
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(shared.options.header_timeout).count();
        std::lock_guard lock(shared.conn_mutex);
        for (Session* s : shared.sessions) {
            auto since = s->waiting_since();
            if (since == kNotWaiting || since < 0 || since >= too_old) continue;  // < 0: a body comes
            auto victim = s->weak_from_this().lock();
            if (!victim) continue;  // already going
            (victim->stop_waiting(since) ? late : kept).push_back(std::move(victim));
        }
    }
    for (auto& v : late) v->evict();
}

class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(std::vector<std::unique_ptr<asio::io_context>>& contexts, tcp::endpoint ep, Shared& shared)
        : contexts_(contexts), acceptor_(*contexts.front()), shared_(shared) {
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
        auto& next = *contexts_[next_++ % contexts_.size()];
        acceptor_.async_accept(next, beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }
    void on_accept(beast::error_code ec, Socket socket) {
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

    std::vector<std::unique_ptr<asio::io_context>>& contexts_;
    std::size_t next_ = 0;
    tcp::acceptor acceptor_;
    Shared& shared_;
};

}  // namespace

struct Server::Impl {
    Shared shared;
    std::vector<std::unique_ptr<asio::io_context>> contexts;  // one per I/O thread
    asio::io_context& ioc;                                    // the first: listener, signals, log flush
    std::shared_ptr<Listener> listener;
    std::vector<std::thread> threads;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
    asio::signal_set signals{ioc, SIGINT, SIGTERM};
    std::mutex stop_mutex;
    std::condition_variable stopped_cv;
    bool stopping = false;
    bool stopped = false;

    std::optional<asio::steady_timer> flush_timer;
    std::optional<asio::steady_timer> sweep_timer;

    void schedule_sweep() {
        auto every = std::clamp(shared.options.header_timeout / 4, std::chrono::milliseconds(10),
                                std::chrono::milliseconds(1000));
        sweep_timer->expires_after(every);
        sweep_timer->async_wait([this](beast::error_code ec) {
            if (ec || shared.draining) return;
            sweep_waiting(shared);
            schedule_sweep();
        });
    }

    void schedule_flush() {
        flush_timer->expires_after(std::chrono::milliseconds(200));
        flush_timer->async_wait([this](beast::error_code ec) {
            shared.access->flush();
            if (!ec && !shared.draining) schedule_flush();
        });
    }

    static std::vector<std::unique_ptr<asio::io_context>> make_contexts(int n) {
        std::vector<std::unique_ptr<asio::io_context>> v;
        for (int i = 0; i < std::max(1, n); ++i) v.push_back(std::make_unique<asio::io_context>(1));
        return v;
    }
    Impl(App& app, ServerOptions o)
        : shared(app, std::move(o)), contexts(make_contexts(shared.options.threads)), ioc(*contexts.front()) {}
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
    im.listener = std::make_shared<Listener>(im.contexts, tcp::endpoint(address, im.shared.options.port), im.shared);
    im.listener->run();
    for (auto& c : im.contexts) im.work.push_back(asio::make_work_guard(*c));
    im.sweep_timer.emplace(im.ioc);
    im.schedule_sweep();
    im.signals.async_wait([this](beast::error_code ec, int) {
        if (!ec) std::thread([this] { stop(); }).detach();
    });
    if (im.shared.options.access_log) {
        // The access log through spdlog: one line per request with its UTC time, into a
        // buffered handle on stderr (a line costs no system call) flushed every 200 ms. Where
        // /dev/stderr cannot be opened, spdlog's stderr sink writes each line at once.
        std::shared_ptr<spdlog::sinks::sink> sink;
        try {
            sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>("/dev/stderr");
        } catch (const spdlog::spdlog_ex&) {
            sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        }
        im.shared.access = std::make_shared<spdlog::logger>("access", std::move(sink));
        im.shared.access->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc);
        im.shared.access->flush_on(spdlog::level::off);
        im.flush_timer.emplace(im.ioc);
        im.schedule_flush();
    }
    for (auto& c : im.contexts) im.threads.emplace_back([&ctx = *c] { ctx.run(); });
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
    asio::post(im.ioc, [&im] {
        if (im.flush_timer) im.flush_timer->cancel();
        im.sweep_timer->cancel();
    });
    im.work.clear();
    for (auto& c : im.contexts) c->stop();
    for (auto& t : im.threads)
        if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    im.shared.workers.join();
    im.shared.writes.join();
    im.shared.slow.join();
    if (im.shared.access) im.shared.access->flush();
    std::lock_guard lock(im.stop_mutex);
    im.stopped = true;
    im.stopped_cv.notify_all();
}

}  // namespace covermap::api
