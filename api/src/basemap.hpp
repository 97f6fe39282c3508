#pragma once
// A deployment's own base map served by covermap under /basemap/{z}/{x}/{y}: a directory of
// XYZ tiles ({z}/{x}/{y}.png|.jpg|.jpeg|.webp) or an MBTiles file (SQLite, TMS rows), Web
// Mercator grids only, for an intranet without any tile server.

#include <memory>
#include <mutex>
#include <string>

#include "router.hpp"

namespace covermap::api {

class Basemap {
public:
    /// A directory or an .mbtiles file; throws std::invalid_argument when it is neither (or the
    /// MBTiles file cannot be read).
    explicit Basemap(const std::string& path);
    ~Basemap();
    void add_routes(Router& router);

    /// Whether `source` (the --basemap value) names local tiles rather than a URL template.
    static bool is_local(const std::string& source);

private:
    Response tile(const Request&, const Caller&, const Args&);

    std::string dir_;
    struct MbTiles;
    std::unique_ptr<MbTiles> mbtiles_;
};

}  // namespace covermap::api
