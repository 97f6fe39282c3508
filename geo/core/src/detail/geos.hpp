#pragma once
// GEOS C API handles for the geo layer's sources; never included by public headers.
// One context per thread (GEOS's reentrant API); handles are destroyed on the thread
// that made them.

#include <geos_c.h>

#include <memory>
#include <vector>

#include "covermap/geo/model.hpp"

namespace covermap::geo::detail {

/// This thread's GEOS context (created on first use, errors turned into messages).
GEOSContextHandle_t geos();

struct GeomDeleter {
    void operator()(GEOSGeometry* g) const { GEOSGeom_destroy_r(geos(), g); }
};
struct PreparedDeleter {
    void operator()(const GEOSPreparedGeometry* g) const { GEOSPreparedGeom_destroy_r(geos(), g); }
};
using GeomPtr = std::unique_ptr<GEOSGeometry, GeomDeleter>;
using PreparedPtr = std::unique_ptr<const GEOSPreparedGeometry, PreparedDeleter>;

/// Owns g, throwing geometry_error with the last GEOS message when g is null.
GeomPtr checked(GEOSGeometry* g, const char* what);

GeomPtr to_geos(Point p);
GeomPtr to_geos(const Polygon& p);
GeomPtr to_geos(const MultiPolygon& mp);

/// The polygonal part of any geometry (collections are searched; lines and points dropped).
MultiPolygon to_multipolygon(const GEOSGeometry* g);

}  // namespace covermap::geo::detail
