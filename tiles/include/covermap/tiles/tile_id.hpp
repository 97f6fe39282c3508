#pragma once
/// \file XYZ tile addresses in Web Mercator (EPSG:3857).

#include <optional>
#include <string>
#include <tuple>

#include "covermap/geo/model.hpp"

namespace covermap::tiles {

/// An XYZ tile: zoom z, column x, row y (row 0 at the north).
struct TileId {
    int z = 0;
    int x = 0;
    int y = 0;

    /// True when 0 ≤ z ≤ 22 and x, y are inside the zoom's grid.
    bool valid() const;
    /// The tile's box in EPSG:3857 metres.
    geo::BBox mercator_bounds() const;
    /// The tile's box in longitude/latitude.
    geo::BBox lonlat_bounds() const;
    std::string str() const;
};

bool operator==(const TileId& a, const TileId& b);

/// n × n tiles rendered together, top-left tile (x0, y0).
struct MetaTile {
    int z = 0;
    int x0 = 0;
    int y0 = 0;
    int n = 1;
    bool operator<(const MetaTile& o) const { return std::tie(z, x0, y0, n) < std::tie(o.z, o.x0, o.y0, o.n); }
};

/// The metatile holding a tile: 8 × 8 from z10, 4 × 4 from z6, single tiles below.
MetaTile metatile_of(const TileId& t);

/// Web Mercator projection of a longitude/latitude.
geo::Point to_mercator(geo::Point lonlat);
/// The tile at zoom z holding a longitude/latitude.
TileId tile_at(geo::Point lonlat, int z);

/// A shape from longitude/latitude to Web Mercator.
geo::MultiPolygon to_mercator(const geo::MultiPolygon& lonlat);

}  // namespace covermap::tiles
