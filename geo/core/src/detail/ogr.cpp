#include "detail/ogr.hpp"

#include <mutex>
#include <optional>

#include "covermap/geo/error.hpp"
#include "covermap/geo/text.hpp"

namespace covermap::geo::detail {

void ensure_gdal() {
    static std::once_flag once;
    std::call_once(once, [] {
        GDALAllRegister();
        CPLSetConfigOption("OGR_GPKG_FOREIGN_KEY_CHECK", "NO");
        // Quiet by default: every problem covermap cares about is turned into an exception.
        CPLSetErrorHandler(CPLQuietErrorHandler);
        // No file covermap opens should reach the network; bound it anyway if one does.
        CPLSetConfigOption("GDAL_HTTP_TIMEOUT", "5");
        CPLSetConfigOption("GDAL_HTTP_CONNECTTIMEOUT", "3");
    });
}

const OGRSpatialReference& cgcs2000() {
    static const OGRSpatialReference srs = [] {
        OGRSpatialReference s;
        s.importFromEPSG(4490);
        s.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        return s;
    }();
    return srs;
}

OGRSpatialReference srs_from(const std::string& text) {
    // Only "EPSG:n": SetFromUserInput would also open files and fetch URLs named by the text.
    auto code = parse_epsg(text);
    if (!code) throw invalid_argument("CRS must be EPSG:n, not '" + text + "'");
    OGRSpatialReference s;
    if (s.importFromEPSG(*code) != OGRERR_NONE) throw invalid_argument("unknown CRS '" + text + "'");
    s.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    return s;
}

namespace {
OGRLinearRing* ring_to_ogr(const Ring& r) {
    auto* ring = new OGRLinearRing();
    ring->setNumPoints(static_cast<int>(r.size()));
    for (int i = 0; i < static_cast<int>(r.size()); ++i) ring->setPoint(i, r[i].x, r[i].y);
    ring->closeRings();
    return ring;
}

Ring ring_from(const OGRLinearRing* r) {
    Ring out(r->getNumPoints());
    for (int i = 0; i < r->getNumPoints(); ++i) out[i] = {r->getX(i), r->getY(i)};
    return out;
}

void collect(const OGRGeometry* g, MultiPolygon& out) {
    if (!g || g->IsEmpty()) return;
    switch (wkbFlatten(g->getGeometryType())) {
        case wkbPolygon: {
            auto* p = g->toPolygon();
            Polygon poly;
            poly.exterior = ring_from(p->getExteriorRing());
            for (int i = 0; i < p->getNumInteriorRings(); ++i) poly.holes.push_back(ring_from(p->getInteriorRing(i)));
            out.push_back(std::move(poly));
            return;
        }
        case wkbMultiPolygon:
        case wkbGeometryCollection:
        case wkbMultiSurface: {
            auto* c = g->toGeometryCollection();
            for (int i = 0; i < c->getNumGeometries(); ++i) collect(c->getGeometryRef(i), out);
            return;
        }
        case wkbCurvePolygon: {
            std::unique_ptr<OGRGeometry> lin(g->getLinearGeometry());
            collect(lin.get(), out);
            return;
        }
        default:
            return;
    }
}
}  // namespace

std::unique_ptr<OGRMultiPolygon> to_ogr(const MultiPolygon& mp) {
    auto out = std::make_unique<OGRMultiPolygon>();
    for (const auto& p : mp) {
        auto* poly = new OGRPolygon();
        poly->addRingDirectly(ring_to_ogr(p.exterior));
        for (const auto& h : p.holes) poly->addRingDirectly(ring_to_ogr(h));
        out->addGeometryDirectly(poly);
    }
    return out;
}

std::unique_ptr<OGRPoint> to_ogr(Point p) { return std::make_unique<OGRPoint>(p.x, p.y); }

MultiPolygon from_ogr_polygons(const OGRGeometry* g) {
    MultiPolygon out;
    collect(g, out);
    return out;
}

}  // namespace covermap::geo::detail
