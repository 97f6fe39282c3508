#pragma once
// A Beast request as the application sees it: used by the server and by the request fuzzer,
// so both hand App the same Request for the same bytes.

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http.hpp>
#include <boost/optional.hpp>
#include <string>

#include "covermap/api/http.hpp"

namespace covermap::api {

/// A request body kept in a string that grows only with the bytes that have arrived.
/// Beast's string_body reserves the whole Content-Length before the first byte: a client that
/// announces 1 MB and sends one byte a second would hold a megabyte each (hand-written for
/// that one difference; Beast has no body type that grows on arrival into contiguous text).
struct ArrivingBody {
    using value_type = std::string;
    static std::uint64_t size(const value_type& body) { return body.size(); }

    class reader {
    public:
        template <bool isRequest, class Fields>
        reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
        void init(const boost::optional<std::uint64_t>&, boost::beast::error_code& ec) { ec = {}; }
        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
            std::size_t n = 0;
            for (auto b : boost::beast::buffers_range_ref(buffers)) {
                body_.append(static_cast<const char*>(b.data()), b.size());
                n += b.size();
            }
            ec = {};
            return n;
        }
        void finish(boost::beast::error_code& ec) { ec = {}; }

    private:
        value_type& body_;
    };
};

using BeastRequest = boost::beast::http::request<ArrivingBody>;

inline void fill_request(Request& req, BeastRequest& msg) {
    namespace http = boost::beast::http;
    req.method = std::string(msg.method_string());
    parse_target(std::string(msg.target()), req);
    req.authorization = std::string(msg[http::field::authorization]);
    req.cookie = std::string(msg[http::field::cookie]);
    req.host = std::string(msg[http::field::host]);
    req.forwarded_host = std::string(msg["X-Forwarded-Host"]);
    req.forwarded_proto = std::string(msg["X-Forwarded-Proto"]);
    req.if_match = std::string(msg[http::field::if_match]);
    req.if_none_match = std::string(msg[http::field::if_none_match]);
    req.content_type = std::string(msg[http::field::content_type]);
    req.body = std::move(msg.body());
}

}  // namespace covermap::api
