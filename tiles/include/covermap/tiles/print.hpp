#pragma once
/// \file Coverage maps for print (the monthly report): the tiles' cartography drawn by Mapnik's
/// Cairo renderer, so a PDF keeps vectors and text. Mapnik's headers stay in renderer.cpp.

#include <string>
#include <vector>

#include "covermap/geo/model.hpp"

typedef struct _cairo cairo_t;  // NOLINT: Cairo's own C name, to keep cairo.h out of this header

namespace covermap::tiles {

/// One area of a printed coverage map.
struct PrintArea {
    geo::MultiPolygon shape;  ///< longitude/latitude
    std::string name;
    double rate = -1;  ///< organizational coverage 0–1; −1 without operating organizations
};

/// A point drawn over a printed map (an organization), in its state's colour.
struct PrintPoint {
    geo::Point at;          ///< longitude/latitude
    std::string colour;     ///< "#rrggbb"
};

/// Draws areas as a coverage choropleth of level's style (Blues, labels "名称 42 %") framed on
/// box (longitude/latitude, widened to the rectangle's aspect), with outlines drawn over them
/// (the reported area's border), into the rectangle (x, y, w, h) of cr, in points.
/// Points, when given, are drawn over everything as small dots.
/// Returns the ground metres per point at the map's centre latitude (for a scale bar).
double print_coverage_map(cairo_t* cr, double x, double y, double w, double h, const std::vector<PrintArea>& areas,
                          const std::vector<geo::MultiPolygon>& outlines, const geo::BBox& box, geo::Level level,
                          const std::vector<PrintPoint>& points = {});

}  // namespace covermap::tiles
