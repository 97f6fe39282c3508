#pragma once
// Who a request speaks for: the API tokens (only their hashes, read from the store and read
// again on an interval, so that the command line can add and revoke them under a running
// server) and the web page's session cookies. Its own state and locks; App routes to it.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "covermap/api/app.hpp"
#include "covermap/geo/store.hpp"
#include "covermap/geo/tokens.hpp"

namespace covermap::api {

class Auth {
public:
    struct Options {
        std::string db;  ///< the store, re-read through a handle of Auth's own
        std::chrono::milliseconds refresh_interval{5000};
        std::chrono::milliseconds unknown_token_interval{2000};
        std::size_t sessions_per_token = 20;
        std::size_t max_sessions = 10000;
        std::chrono::hours session_life{12};
    };

    /// Starts from the store's token rows as they are now.
    Auth(Options options, const std::vector<geo::TokenRow>& rows);
    ~Auth();

    /// The caller a request speaks for: its bearer token, or for reads its session cookie.
    std::optional<Caller> authenticate(const Request& req) const;
    /// A token the store now holds (added by this process): usable at once.
    void remember(const std::string& hash, Caller who);
    /// True when no token is known yet.
    bool empty() const;
    /// A new web session for who: the cookie's value (64 hex digits). A token at its cap loses
    /// its oldest session; a full table, the oldest session of the token holding the most.
    std::string open_session(const Caller& who);
    /// Ends the session whose cookie the request carries (nothing when there is none).
    void close_session(const Request& req);
    /// The session cookie's name and lifetime.
    static constexpr const char* kCookie = "covermap_session";
    std::chrono::hours session_life() const { return options_.session_life; }

private:
    struct Session {
        Caller who;
        std::chrono::steady_clock::time_point expires;
    };
    void refresh(const std::vector<geo::TokenRow>& rows) const;  // the usable ones, into tokens_
    void reread() const;                                          // refresh from the store
    std::optional<Caller> session_of(const Request& req) const;

    Options options_;
    mutable std::mutex tokens_mutex_;
    mutable std::unordered_map<std::string, Caller> tokens_;       // hash -> caller
    mutable std::chrono::steady_clock::time_point tokens_read_{};  // the last periodic re-read
    mutable std::chrono::steady_clock::time_point missed_read_{};  // the last re-read for an unknown token
    mutable std::mutex store_mutex_;
    mutable std::unique_ptr<geo::Store> store_;  // read-only use: the tokens layer
    mutable std::mutex sessions_mutex_;
    mutable std::unordered_map<std::string, Session> sessions_;  // hash of the cookie value -> session
};

}  // namespace covermap::api
