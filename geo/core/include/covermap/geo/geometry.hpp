#pragma once
/// \file Geometry operations on the model's value types (GEOS behind them).

#include <functional>
#include <string>
#include <vector>

#include "covermap/geo/model.hpp"

namespace covermap::geo {

/// True when GEOS finds the shape valid; otherwise reason says why.
bool is_valid(const MultiPolygon& shape, std::string* reason = nullptr);

/// The shape repaired by GEOS make-valid, keeping only its polygonal part; throws
/// cancelled_error when `cancelled` turns true while GEOS works (a deadline, a signal).
MultiPolygon make_valid(const MultiPolygon& shape, const std::function<bool()>& cancelled = {});

/// Planar area in square degrees (for comparisons and sanity checks).
double planar_area(const MultiPolygon& shape);

/// The union of shapes (GEOS unary union).
MultiPolygon union_all(const std::vector<MultiPolygon>& shapes);

/// The parent cut into one piece per seed: Voronoi cells clipped to the parent, so
/// the pieces tile it (no gaps, no overlaps). Empty pieces are possible for seeds
/// outside the parent.
std::vector<MultiPolygon> voronoi_split(const MultiPolygon& parent, const std::vector<Point>& seeds);

/// The shape grown by distance (degrees), round joins.
MultiPolygon buffer(const MultiPolygon& shape, double distance);

/// A disc of radius (degrees) around p, clipped to clip.
MultiPolygon disc_within(Point p, double radius, const MultiPolygon& clip);

/// True when p is inside shape or on its border.
bool covers(const MultiPolygon& shape, Point p);

/// The convex hull of points as a polygon (empty for fewer than 3 distinct points).
MultiPolygon convex_hull(const std::vector<Point>& points);

/// A point inside the shape (GEOS point-on-surface); the box centre for empty shapes.
Point interior_point(const MultiPolygon& shape);

/// The mean Earth radius haversine_m uses (IUGG), in metres.
constexpr double kEarthRadiusM = 6371008.8;

/// Great-circle distance in metres (haversine, R = kEarthRadiusM).
double haversine_m(Point a, Point b);
/// The cosine of a point's latitude, as haversine_m computes it.
double cos_lat(Point p);
/// haversine_m with both cosines known (cos_lat of a and of b): the same value, two cosines
/// fewer, for loops that measure from one point to many.
double haversine_m(Point a, Point b, double cos_a, double cos_b);

}  // namespace covermap::geo
