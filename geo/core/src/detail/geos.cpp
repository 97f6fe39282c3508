#include "detail/geos.hpp"

#include <cstdarg>
#include <cstdio>
#include <string>

#include "covermap/geo/error.hpp"

namespace covermap::geo::detail {
namespace {

thread_local std::string last_geos_error;

void on_geos_message(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    last_geos_error = buf;
}

struct Context {
    GEOSContextHandle_t handle = GEOS_init_r();
    Context() {
        GEOSContext_setErrorHandler_r(handle, on_geos_message);
        GEOSContext_setNoticeHandler_r(handle, nullptr);
    }
    ~Context() { GEOS_finish_r(handle); }
};

GEOSCoordSequence* ring_coords(const Ring& ring) {
    auto* ctx = geos();
    // GEOS needs closed rings of at least 4 points; close and pad what real data leaves open.
    std::vector<Point> pts(ring.begin(), ring.end());
    if (!pts.empty() && (pts.front().x != pts.back().x || pts.front().y != pts.back().y)) pts.push_back(pts.front());
    while (!pts.empty() && pts.size() < 4) pts.push_back(pts.front());
    auto* seq = GEOSCoordSeq_create_r(ctx, static_cast<unsigned>(pts.size()), 2);
    for (unsigned i = 0; i < pts.size(); ++i) GEOSCoordSeq_setXY_r(ctx, seq, i, pts[i].x, pts[i].y);
    return seq;
}

Ring ring_from(const GEOSGeometry* ring) {
    auto* ctx = geos();
    const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(ctx, ring);
    unsigned n = 0;
    GEOSCoordSeq_getSize_r(ctx, seq, &n);
    Ring out(n);
    for (unsigned i = 0; i < n; ++i) GEOSCoordSeq_getXY_r(ctx, seq, i, &out[i].x, &out[i].y);
    return out;
}

void collect(const GEOSGeometry* g, MultiPolygon& out) {
    auto* ctx = geos();
    switch (GEOSGeomTypeId_r(ctx, g)) {
        case GEOS_POLYGON: {
            if (GEOSisEmpty_r(ctx, g)) return;
            Polygon p;
            p.exterior = ring_from(GEOSGetExteriorRing_r(ctx, g));
            int nh = GEOSGetNumInteriorRings_r(ctx, g);
            for (int i = 0; i < nh; ++i) p.holes.push_back(ring_from(GEOSGetInteriorRingN_r(ctx, g, i)));
            out.push_back(std::move(p));
            return;
        }
        case GEOS_MULTIPOLYGON:
        case GEOS_GEOMETRYCOLLECTION: {
            int n = GEOSGetNumGeometries_r(ctx, g);
            for (int i = 0; i < n; ++i) collect(GEOSGetGeometryN_r(ctx, g, i), out);
            return;
        }
        default:
            return;
    }
}

}  // namespace

GEOSContextHandle_t geos() {
    thread_local Context context;
    return context.handle;
}

GeomPtr checked(GEOSGeometry* g, const char* what) {
    if (!g) throw geometry_error(std::string(what) + ": " + last_geos_error);
    return GeomPtr(g);
}

GeomPtr to_geos(Point p) { return checked(GEOSGeom_createPointFromXY_r(geos(), p.x, p.y), "point"); }

GeomPtr to_geos(const Polygon& p) {
    auto* ctx = geos();
    GEOSGeometry* shell = GEOSGeom_createLinearRing_r(ctx, ring_coords(p.exterior));
    if (!shell) throw geometry_error("ring: " + last_geos_error);
    std::vector<GEOSGeometry*> holes;
    for (const auto& h : p.holes) {
        if (auto* r = GEOSGeom_createLinearRing_r(ctx, ring_coords(h))) holes.push_back(r);
    }
    return checked(GEOSGeom_createPolygon_r(ctx, shell, holes.data(), static_cast<unsigned>(holes.size())), "polygon");
}

GeomPtr to_geos(const MultiPolygon& mp) {
    std::vector<GEOSGeometry*> parts;
    for (const auto& p : mp) parts.push_back(to_geos(p).release());
    return checked(
        GEOSGeom_createCollection_r(geos(), GEOS_MULTIPOLYGON, parts.data(), static_cast<unsigned>(parts.size())),
        "multipolygon");
}

MultiPolygon to_multipolygon(const GEOSGeometry* g) {
    MultiPolygon out;
    if (g) collect(g, out);
    return out;
}

}  // namespace covermap::geo::detail
