#include "auth.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/store.hpp"
#include "covermap/geo/text.hpp"

namespace covermap::api {

namespace {

// The value of one cookie in a Cookie header ("a=1; b=2").
std::string cookie_value(const std::string& header, const std::string& name) {
    std::size_t at = 0;
    while (at < header.size()) {
        auto end = header.find(';', at);
        auto part = header.substr(at, end == std::string::npos ? std::string::npos : end - at);
        auto b = part.find_first_not_of(' ');
        if (b != std::string::npos) part = part.substr(b);
        if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
        if (end == std::string::npos) break;
        at = end + 1;
    }
    return "";
}

}  // namespace

Auth::Auth(Options options, const std::vector<geo::TokenRow>& rows) : options_(std::move(options)) { refresh(rows); }

Auth::~Auth() = default;

bool Auth::empty() const {
    std::lock_guard lock(tokens_mutex_);
    return tokens_.empty();
}

void Auth::remember(const std::string& hash, Caller who) {
    std::lock_guard lock(tokens_mutex_);
    tokens_[hash] = std::move(who);
}

// The tokens as stored now, through a store handle of its own (opened once: the writer's is
// busy during imports, and opening a store checks its schema every time).
void Auth::reread() const {
    std::vector<geo::TokenRow> rows;
    try {
        std::lock_guard lock(store_mutex_);
        if (!store_) store_ = std::make_unique<geo::Store>(geo::Store::open_existing(options_.db));
        rows = store_->tokens();
    } catch (const std::exception&) {
        return;  // keep the tokens known so far
    }
    refresh(rows);
}

void Auth::refresh(const std::vector<geo::TokenRow>& rows) const {
    auto now = geo::china_date();
    std::unordered_map<std::string, Caller> fresh;
    for (const auto& t : rows)
        if (auto role = parse_role(t.role); role && t.usable(now))
            fresh[t.hash] = Caller{geo::replace_invalid_utf8(t.name), *role, t.expires, t.hash, t.area, t.instructor};
    std::set<std::string> keys;
    for (const auto& [hash, t] : fresh) keys.insert(hash);
    {
        std::lock_guard lock(tokens_mutex_);
        tokens_ = std::move(fresh);
        tokens_read_ = std::chrono::steady_clock::now();
    }
    // A revoked or expired token's web sessions end with it.
    std::lock_guard lock(sessions_mutex_);
    for (auto it = sessions_.begin(); it != sessions_.end();)
        it = keys.count(it->second.who.key) ? std::next(it) : sessions_.erase(it);
}

std::optional<Caller> Auth::authenticate(const Request& req) const {
    // The web page's session cookie counts for reads only; a write needs the header, which
    // another site cannot make a browser send (and the cookie is SameSite=Strict too).
    if (req.authorization.empty() && (req.method == "GET" || req.method == "HEAD")) {
        bool stale;
        {
            std::lock_guard lock(tokens_mutex_);
            stale = std::chrono::steady_clock::now() - tokens_read_ > options_.refresh_interval;
            if (stale) tokens_read_ = std::chrono::steady_clock::now();
        }
        if (stale) reread();
        return session_of(req);
    }
    // "Bearer" is a scheme name, and scheme names are case-insensitive (RFC 9110 §11.1).
    const std::string& a = req.authorization;
    if (a.size() < 8 || a.size() > 512) return std::nullopt;
    static const char scheme[] = "bearer";
    for (int i = 0; i < 6; ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != scheme[i]) return std::nullopt;
    auto start = a.find_first_not_of(' ', 6);
    if (start == 6 || start == std::string::npos) return std::nullopt;
    auto end = a.find_last_not_of(' ');
    auto hash = hash_token(a.substr(start, end - start + 1));
    // The store's tokens are read again every 5 s (a token made or revoked on the command line
    // counts on a running server without a restart), and at once for an unknown token, at most
    // every 2 s (so wrong tokens cannot make every request read the store).
    auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(tokens_mutex_);
        auto it = tokens_.find(hash);
        if (it != tokens_.end() && now - tokens_read_ < options_.refresh_interval) {
            if (!it->second.expires.empty() && geo::china_date() > it->second.expires)
                return std::nullopt;
            return it->second;
        }
        if (it == tokens_.end()) {
            if (now - missed_read_ < options_.unknown_token_interval) return std::nullopt;
            missed_read_ = now;
        } else {
            tokens_read_ = now;  // one reader at a time; the others use what is there
        }
    }
    reread();
    std::lock_guard lock(tokens_mutex_);
    auto it = tokens_.find(hash);
    if (it == tokens_.end()) return std::nullopt;
    return it->second;
}

std::optional<Caller> Auth::session_of(const Request& req) const {
    auto value = cookie_value(req.cookie, kCookie);
    if (value.size() != 64) return std::nullopt;
    auto key = hash_token(value);
    std::lock_guard lock(sessions_mutex_);
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return std::nullopt;
    if (it->second.expires < std::chrono::steady_clock::now()) {
        sessions_.erase(it);
        return std::nullopt;
    }
    return it->second.who;
}

std::string Auth::open_session(const Caller& who) {
    std::string value = random_hex(32);
    {
        std::lock_guard lock(sessions_mutex_);
        auto now = std::chrono::steady_clock::now();
        // Expired sessions go; then a token at its cap loses its oldest session, and a full
        // table loses the oldest session of the token holding the most: one token signing in
        // again and again can never lock another out.
        std::map<std::string, std::pair<std::size_t, decltype(sessions_)::iterator>> per_token;  // count, oldest
        for (auto it = sessions_.begin(); it != sessions_.end();) {
            if (it->second.expires < now) {
                it = sessions_.erase(it);
                continue;
            }
            auto [at, fresh] = per_token.try_emplace(it->second.who.key, 0, it);
            ++at->second.first;
            if (!fresh && it->second.expires < at->second.second->second.expires) at->second.second = it;
            ++it;
        }
        auto mine = per_token.find(who.key);
        if (mine != per_token.end() && mine->second.first >= std::max<std::size_t>(1, options_.sessions_per_token)) {
            sessions_.erase(mine->second.second);
        } else if (!per_token.empty() && sessions_.size() >= std::max<std::size_t>(1, options_.max_sessions)) {
            auto most = std::max_element(per_token.begin(), per_token.end(),
                                         [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
            sessions_.erase(most->second.second);
        }
        sessions_[hash_token(value)] = Session{who, now + options_.session_life};
    }
    return value;
}

void Auth::close_session(const Request& req) {
    auto value = cookie_value(req.cookie, kCookie);
    if (value.empty()) return;
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(hash_token(value));
}

}  // namespace covermap::api
