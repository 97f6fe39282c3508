#include "covermap/geo/geometry.hpp"

#include <cmath>
#include <mutex>

#include "covermap/geo/error.hpp"
#include "detail/geos.hpp"

namespace covermap::geo {

using namespace detail;

bool is_valid(const MultiPolygon& shape, std::string* reason) {
    auto g = to_geos(shape);
    char valid = GEOSisValid_r(geos(), g.get());
    if (valid != 1 && reason) {
        char* r = GEOSisValidReason_r(geos(), g.get());
        *reason = r ? r : "invalid";
        GEOSFree_r(geos(), r);
    }
    return valid == 1;
}

namespace {

// GEOS can be interrupted only through one process-wide flag, checked inside its long loops
// after a callback it calls on the checking thread: the callback asks for the interruption
// when that thread's own cancel predicate says so, so only the repair that should stop stops.
thread_local const std::function<bool()>* t_cancelled = nullptr;

void interrupt_if_cancelled() {
    if (t_cancelled && (*t_cancelled)()) GEOS_interruptRequest();
}

}  // namespace

MultiPolygon make_valid(const MultiPolygon& shape, const std::function<bool()>& cancelled) {
    auto g = to_geos(shape);
    if (!cancelled) return to_multipolygon(checked(GEOSMakeValid_r(geos(), g.get()), "make-valid").get());
    static std::once_flag once;
    std::call_once(once, [] { GEOS_interruptRegisterCallback(&interrupt_if_cancelled); });
    t_cancelled = &cancelled;
    GEOSGeometry* fixed = GEOSMakeValid_r(geos(), g.get());
    t_cancelled = nullptr;
    if (!fixed && cancelled()) throw cancelled_error("geometry repair stopped: it took too long or was interrupted");
    return to_multipolygon(checked(fixed, "make-valid").get());
}

double planar_area(const MultiPolygon& shape) {
    auto g = to_geos(shape);
    double a = 0;
    GEOSArea_r(geos(), g.get(), &a);
    return a;
}

MultiPolygon union_all(const std::vector<MultiPolygon>& shapes) {
    std::vector<GEOSGeometry*> parts;
    for (const auto& s : shapes)
        for (const auto& p : s) parts.push_back(to_geos(p).release());
    auto coll = checked(
        GEOSGeom_createCollection_r(geos(), GEOS_GEOMETRYCOLLECTION, parts.data(), static_cast<unsigned>(parts.size())),
        "collection");
    auto u = checked(GEOSUnaryUnion_r(geos(), coll.get()), "union");
    return to_multipolygon(u.get());
}

std::vector<MultiPolygon> voronoi_split(const MultiPolygon& parent, const std::vector<Point>& seeds) {
    auto* ctx = geos();
    std::vector<MultiPolygon> out(seeds.size());
    if (seeds.empty()) return out;
    auto shape = to_geos(parent);
    if (seeds.size() == 1) {
        out[0] = parent;
        return out;
    }
    std::vector<GEOSGeometry*> pts;
    for (auto p : seeds) pts.push_back(to_geos(p).release());
    auto mpoint = checked(
        GEOSGeom_createCollection_r(ctx, GEOS_MULTIPOINT, pts.data(), static_cast<unsigned>(pts.size())), "seeds");
    // The diagram's envelope must hold the whole parent so the clipped cells tile it.
    auto env = checked(GEOSEnvelope_r(ctx, shape.get()), "envelope");
    auto cells = checked(GEOSVoronoiDiagram_r(ctx, mpoint.get(), env.get(), 0.0, 0), "voronoi");
    auto prepared = PreparedPtr(GEOSPrepare_r(ctx, shape.get()));
    int n = GEOSGetNumGeometries_r(ctx, cells.get());
    // Cells come back in no promised order: match each to the seed it contains.
    for (int i = 0; i < n; ++i) {
        const GEOSGeometry* cell = GEOSGetGeometryN_r(ctx, cells.get(), i);
        auto prepared_cell = PreparedPtr(GEOSPrepare_r(ctx, cell));
        for (size_t s = 0; s < seeds.size(); ++s) {
            if (!out[s].empty()) continue;
            auto pt = to_geos(seeds[s]);
            if (GEOSPreparedIntersects_r(ctx, prepared_cell.get(), pt.get()) != 1) continue;
            if (GEOSPreparedContains_r(ctx, prepared.get(), cell) == 1) {
                out[s] = to_multipolygon(cell);
            } else {
                auto clipped = checked(GEOSIntersection_r(ctx, cell, shape.get()), "clip");
                out[s] = to_multipolygon(clipped.get());
            }
            break;
        }
    }
    return out;
}

MultiPolygon buffer(const MultiPolygon& shape, double distance) {
    auto g = to_geos(shape);
    auto b = checked(GEOSBuffer_r(geos(), g.get(), distance, 8), "buffer");
    return to_multipolygon(b.get());
}

MultiPolygon disc_within(Point p, double radius, const MultiPolygon& clip) {
    auto pt = to_geos(p);
    auto disc = checked(GEOSBuffer_r(geos(), pt.get(), radius, 8), "buffer");
    auto c = to_geos(clip);
    auto inter = checked(GEOSIntersection_r(geos(), disc.get(), c.get()), "clip");
    return to_multipolygon(inter.get());
}

bool covers(const MultiPolygon& shape, Point p) {
    auto g = to_geos(shape);
    auto pt = to_geos(p);
    return GEOSCovers_r(geos(), g.get(), pt.get()) == 1;
}

MultiPolygon convex_hull(const std::vector<Point>& points) {
    if (points.size() < 3) return {};
    std::vector<GEOSGeometry*> pts;
    for (auto p : points) pts.push_back(to_geos(p).release());
    auto mp = checked(
        GEOSGeom_createCollection_r(geos(), GEOS_MULTIPOINT, pts.data(), static_cast<unsigned>(pts.size())), "points");
    auto hull = checked(GEOSConvexHull_r(geos(), mp.get()), "convex hull");
    return to_multipolygon(hull.get());
}

Point interior_point(const MultiPolygon& shape) {
    if (shape.empty()) return {};
    try {
        auto g = to_geos(shape);
        auto p = checked(GEOSPointOnSurface_r(geos(), g.get()), "point on surface");
        Point out;
        GEOSGeomGetX_r(geos(), p.get(), &out.x);
        GEOSGeomGetY_r(geos(), p.get(), &out.y);
        return out;
    } catch (const error&) {
        auto b = bounds(shape);
        return {(b.minx + b.maxx) / 2, (b.miny + b.maxy) / 2};
    }
}

double cos_lat(Point p) { return std::cos(p.y * (M_PI / 180.0)); }

double haversine_m(Point a, Point b, double cos_a, double cos_b) {
    constexpr double R = kEarthRadiusM;
    constexpr double rad = M_PI / 180.0;
    double dlat = (b.y - a.y) * rad, dlon = (b.x - a.x) * rad;
    // Each sine once (the compiler may not merge calls that could set errno): the same value.
    double slat = std::sin(dlat / 2), slon = std::sin(dlon / 2);
    double h = slat * slat + cos_a * cos_b * slon * slon;
    return 2 * R * std::asin(std::min(1.0, std::sqrt(h)));
}

double haversine_m(Point a, Point b) { return haversine_m(a, b, cos_lat(a), cos_lat(b)); }

}  // namespace covermap::geo
