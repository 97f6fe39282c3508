#include "covermap/tiles/tile_id.hpp"

#include <algorithm>
#include <cmath>

namespace covermap::tiles {

namespace {
constexpr double kHalf = 20037508.342789244;  // half the Web Mercator world, metres
}

bool TileId::valid() const {
    if (z < 0 || z > 22) return false;
    long long n = 1LL << z;
    return x >= 0 && y >= 0 && x < n && y < n;
}

geo::BBox TileId::mercator_bounds() const {
    double size = 2 * kHalf / static_cast<double>(1LL << z);
    geo::BBox b;
    b.expand(geo::Point{-kHalf + x * size, kHalf - (y + 1) * size});
    b.expand(geo::Point{-kHalf + (x + 1) * size, kHalf - y * size});
    return b;
}

geo::BBox TileId::lonlat_bounds() const {
    double n = static_cast<double>(1LL << z);
    auto lon = [&](double tx) { return tx / n * 360.0 - 180.0; };
    auto lat = [&](double ty) { return std::atan(std::sinh(M_PI * (1 - 2 * ty / n))) * 180.0 / M_PI; };
    geo::BBox b;
    b.expand(geo::Point{lon(x), lat(y + 1)});
    b.expand(geo::Point{lon(x + 1), lat(y)});
    return b;
}

std::string TileId::str() const { return std::to_string(z) + "/" + std::to_string(x) + "/" + std::to_string(y); }

bool operator==(const TileId& a, const TileId& b) { return a.z == b.z && a.x == b.x && a.y == b.y; }

geo::Point to_mercator(geo::Point p) {
    double lat = std::clamp(p.y, -85.0511287798, 85.0511287798);
    return {p.x * kHalf / 180.0, std::log(std::tan((90.0 + lat) * M_PI / 360.0)) * kHalf / M_PI};
}

geo::MultiPolygon to_mercator(const geo::MultiPolygon& shape) {
    geo::MultiPolygon out = shape;
    for (auto& poly : out) {
        for (auto& p : poly.exterior) p = to_mercator(p);
        for (auto& h : poly.holes)
            for (auto& p : h) p = to_mercator(p);
    }
    return out;
}

MetaTile metatile_of(const TileId& t) {
    int n = t.z >= 10 ? 8 : t.z >= 6 ? 4 : 1;
    n = std::min(n, 1 << t.z);
    return MetaTile{t.z, t.x - t.x % n, t.y - t.y % n, n};
}

TileId tile_at(geo::Point lonlat, int z) {
    auto m = to_mercator(lonlat);
    double n = static_cast<double>(1LL << z);
    int x = static_cast<int>(std::floor((m.x + kHalf) / (2 * kHalf) * n));
    int y = static_cast<int>(std::floor((kHalf - m.y) / (2 * kHalf) * n));
    int last = static_cast<int>(n) - 1;
    return {z, std::clamp(x, 0, last), std::clamp(y, 0, last)};
}

}  // namespace covermap::tiles
