#pragma once
// Map tiles over HTTP: TileJSON, tiles (rendered or cached by the tile service, revalidated by
// ETag), and the fast path that answers a cached tile on an I/O thread.

#include <optional>
#include <string>
#include <variant>

#include "covermap/tiles/service.hpp"
#include "router.hpp"

namespace covermap::api {

class Auth;

class TileRoutes {
public:
    TileRoutes(Context& context, const Auth& auth) : context_(context), auth_(auth) {}
    void add_routes(Router& router);
    /// A cached tile's answer, else nullopt (the request then takes the full path).
    std::optional<Response> cached(const Request& req);

private:
    Response tilejson(const Request&, const Caller&, const Args&);
    Response tile(const Request&, const Caller&, const Args&);

    struct Address {
        std::string layer;
        tiles::TileId id;
        int scale = 1;
    };
    /// Parses /tiles/{layer}/{z}/{x}/{y}.png or …@2x.png; an error response when it is not one.
    static std::variant<Address, Response> parse(const Args& args);
    static Response respond(const Request& req, const tiles::Tile& tile);

    Context& context_;
    const Auth& auth_;
};

}  // namespace covermap::api
