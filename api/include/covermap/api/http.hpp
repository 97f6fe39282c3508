#pragma once
/// \file The HTTP layer's plain request and response, free of Beast: handlers take and return these.

#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "covermap/geo/text.hpp"

namespace covermap::api {

/// A parsed request: method, decoded path, decoded query, the headers handlers use, the body.
struct Request {
    std::string method;
    std::string path;                          ///< percent-decoded, without the query
    std::vector<std::string> segments;         ///< the path's non-empty segments, each decoded on its own
                                               ///< (an id may hold an encoded '/')
    std::map<std::string, std::string> query;  ///< percent-decoded
    std::string host;                          ///< the Host header (never trusted for links)
    std::string local_address;                 ///< host:port the client connected to (links' fallback)
    std::string forwarded_host;                ///< X-Forwarded-Host (used behind a trusted proxy only)
    std::string forwarded_proto;               ///< X-Forwarded-Proto
    std::string authorization;
    std::string cookie;  ///< the Cookie header (the web page's session)
    std::string if_match;
    std::string if_none_match;
    std::string content_type;
    std::string body;
};

/// A response: status, content type, body, extra headers; token_name is for the access log.
struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::shared_ptr<const std::string> shared_body;  ///< sent instead of body when set (cached bytes, not copied)
    std::vector<std::pair<std::string, std::string>> headers;
    std::string token_name = "-";
    std::string route = "other";  ///< route pattern, for metrics
    bool event_stream = false;    ///< the head only: the server keeps the connection for events

    /// The bytes to send: shared_body when set, else body.
    std::string_view payload() const { return shared_body ? std::string_view(*shared_body) : std::string_view(body); }
};

/// Percent-decodes a URL component ('+' stays '+'; in queries it also means a space).
std::string url_decode(const std::string& s, bool plus_is_space = false);

/// Percent-encodes everything but unreserved characters (RFC 3986): for ids in links.
std::string url_encode(const std::string& s);

/// Bytes as lower-case hex digits (token secrets, their hashes, session cookies).
std::string hex(std::string_view bytes);

/// n random bytes from OpenSSL's generator, as hex; throws when there is no randomness.
std::string random_hex(std::size_t n);

/// One byte as "%XX" (URL encoding, and the access log's escapes).
std::string percent_byte(unsigned char c);

/// Splits a request target into decoded path and query.
void parse_target(const std::string& target, Request& r);

/// JSON text of j; invalid UTF-8 in strings becomes U+FFFD (a writer never throws on text).
using geo::dump_json;

/// True when the path and every query key and value are valid UTF-8.
bool valid_text(const Request& r);

/// A query parameter's value, empty when absent.
std::string query_value(const Request& r, const char* key);

/// The first query parameter not among known, or nullopt when there is none.
std::optional<std::string> unknown_parameter(const Request& r, std::initializer_list<std::string_view> known);

/// A JSON response of j.
Response json_response(const nlohmann::json& j, int status = 200);

/// A JSON error response {"code", "message"}.
Response error_response(int status, const std::string& code, const std::string& message);

}  // namespace covermap::api
