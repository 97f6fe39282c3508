// Request parsing and routing: any bytes, parsed by Beast as the server parses them, then
// through App's admission, fast path and handlers. "Bearer V" and "Bearer P" in the input stand
// for a viewer's and a planner's token, so the fuzzer reaches the routes behind them.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>

#include "beast_request.hpp"
#include "fuzz_app.hpp"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& f = covermap::fuzz::fixture();
    http::request_parser<covermap::api::ArrivingBody> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(1024 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (ec || !parser.is_header_done()) return 0;
    covermap::api::Request req;
    covermap::api::fill_request(req, parser.get());
    req.local_address = "127.0.0.1:8080";
    if (req.authorization == "Bearer V") req.authorization = "Bearer " + f.viewer;
    if (req.authorization == "Bearer P") req.authorization = "Bearer " + f.planner;
    if (auto refused = f.app->admit(req)) return covermap::fuzz::check(*refused), 0;
    if (auto fast = f.app->handle_fast(req)) covermap::fuzz::check(*fast);
    if (!parser.is_done()) return 0;
    covermap::fuzz::check(f.app->handle(req));
    return 0;
}
