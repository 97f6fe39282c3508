#include "covermap/api/geojson.hpp"

namespace covermap::api {

using nlohmann::json;

json geometry_json(const geo::MultiPolygon& shape) {
    json coords = json::array();
    for (const auto& poly : shape) {
        json rings = json::array();
        auto ring = [](const geo::Ring& r) {
            json pts = json::array();
            for (const auto& p : r) pts.push_back({p.x, p.y});
            return pts;
        };
        rings.push_back(ring(poly.exterior));
        for (const auto& h : poly.holes) rings.push_back(ring(h));
        coords.push_back(rings);
    }
    return {{"type", "MultiPolygon"}, {"coordinates", coords}};
}

json point_json(geo::Point p) { return {{"type", "Point"}, {"coordinates", {p.x, p.y}}}; }

}  // namespace covermap::api
