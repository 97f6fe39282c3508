// Tiles: TileJSON, tile addresses, and cached tiles answered on the I/O thread.

#include "tile_routes.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "auth.hpp"
#include "covermap/api/metrics.hpp"
#include "route_support.hpp"

namespace covermap::api {

using namespace detail;

void TileRoutes::add_routes(Router& router) {
    router.add("GET", "/tiles/{}", Role::viewer, this, &TileRoutes::tilejson);
    router.add("GET", "/tiles/{}/{}/{}/{}", Role::viewer, this, &TileRoutes::tile);
}

Response TileRoutes::tilejson(const Request& req, const Caller&, const Args& args) {
    const std::string& name = args[0];
    if (name.size() < 6 || name.substr(name.size() - 5) != ".json")
        return error_response(404, "NotFound", "no such resource");
    try {
        auto base = base_of(req, context_.options);
        Response r;
        r.body = context_.tiles.tilejson(name.substr(0, name.size() - 5), base.substr(0, base.size() - 4));
        return r;
    } catch (const std::invalid_argument&) {
        return error_response(404, "NotFound", "no tile layer " + name.substr(0, name.size() - 5));
    }
}

std::variant<TileRoutes::Address, Response> TileRoutes::parse(const Args& args) {
    if (std::find(tiles::kLayerNames.begin(), tiles::kLayerNames.end(), args[0]) == tiles::kLayerNames.end())
        return error_response(404, "NotFound", "no tile layer " + args[0]);
    std::string last = args[3];
    int scale = 1;
    if (last.size() > 7 && last.substr(last.size() - 7) == "@2x.png") {
        scale = 2;
        last = last.substr(0, last.size() - 7);
    } else if (last.size() > 4 && last.substr(last.size() - 4) == ".png") {
        last = last.substr(0, last.size() - 4);
    } else {
        return error_response(400, "InvalidValue", "tiles are {z}/{x}/{y}.png or {y}@2x.png");
    }
    auto z = parse_id(args[1]), x = parse_id(args[2]), y = parse_id(last);
    if (!z || !x || !y) return error_response(400, "InvalidValue", "z, x and y must be non-negative integers");
    tiles::TileId t{static_cast<int>(std::min<std::int64_t>(*z, 99)),
                    static_cast<int>(std::min<std::int64_t>(*x, 1LL << 30)),
                    static_cast<int>(std::min<std::int64_t>(*y, 1LL << 30))};
    if (*z > 20 || !t.valid())
        return error_response(400, "InvalidValue",
                              "no tile " + args[1] + "/" + args[2] + "/" + last + " (z 0–20, x and y below 2^z)");
    return Address{args[0], t, scale};
}

Response TileRoutes::respond(const Request& req, const tiles::Tile& tile) {
    Response r;
    r.content_type = "image/png";
    r.headers.emplace_back("ETag", tile.etag);
    r.headers.emplace_back("Cache-Control", "no-cache");  // the browser keeps it and revalidates with If-None-Match
    if (!req.if_none_match.empty() && req.if_none_match == tile.etag) {
        r.status = 304;
        return r;
    }
    r.shared_body = tile.png;  // the cache's bytes, written as they are
    return r;
}

Response TileRoutes::tile(const Request& req, const Caller&, const Args& args) {
    auto parsed = parse(args);
    if (auto* err = std::get_if<Response>(&parsed)) return *err;
    const auto& a = std::get<Address>(parsed);
    return respond(req, context_.tiles.get(a.layer, a.id, a.scale));
}

std::optional<Response> TileRoutes::cached(const Request& req) {
    if (req.method != "GET" || req.path.rfind("/tiles/", 0) != 0 || !valid_text(req)) return std::nullopt;
    const auto& segs = req.segments;
    if (segs.size() != 5) return std::nullopt;
    auto who = auth_.authenticate(req);
    if (!who) return std::nullopt;  // the full path answers 401 and counts it
    auto parsed = parse({segs[1], segs[2], segs[3], segs[4]});
    if (!std::holds_alternative<Address>(parsed)) return std::nullopt;
    const auto& a = std::get<Address>(parsed);
    auto t0 = std::chrono::steady_clock::now();
    auto hit = context_.tiles.peek(a.layer, a.id, a.scale);
    if (!hit) return std::nullopt;
    auto res = respond(req, *hit);
    res.token_name = who->name;
    res.route = "/tiles/{}/{}/{}/{}";
    context_.metrics.request(res.route, res.status,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return res;
}

}  // namespace covermap::api
