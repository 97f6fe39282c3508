#pragma once
// A Beast request as the application sees it: used by the server and by the request fuzzer,
// so both hand App the same Request for the same bytes.

#include <boost/beast/http.hpp>

#include "covermap/api/http.hpp"

namespace covermap::api {

inline void fill_request(Request& req, boost::beast::http::request<boost::beast::http::string_body>& msg) {
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
