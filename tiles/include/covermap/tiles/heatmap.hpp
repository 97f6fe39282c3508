#pragma once
/// \file Kernel density of points on a grid: the heatmap layer's raster, computed for a tile
/// plus a buffer of the kernel radius so neighbouring tiles agree at their edges.

#include <vector>

#include "covermap/geo/model.hpp"

namespace covermap::tiles {

struct DensityGrid {
    int width = 0, height = 0;
    geo::BBox box;              ///< EPSG:3857 extent the grid covers (cell edges)
    std::vector<float> values;  ///< row-major from the top, organizations per km² on the ground
};

/// Quartic (biweight) kernel density of points (EPSG:3857) on a width × height grid over box;
/// the radius is in metres on the ground (Mercator metres are scaled by 1/cos(latitude)), and
/// is never below 1.5 cells, so the density stays meaningful when a cell is larger than it.
DensityGrid kernel_density(const std::vector<geo::Point>& points, const geo::BBox& box, int width, int height,
                           double radius_ground_m);

/// The heatmap's five class breaks (organizations per km²): the 50th, 75th, 90th, 97th and
/// 99.5th percentiles of the density found at the points themselves (at most 20,000 of them,
/// evenly sampled), so the whole colour ramp is used where uncovered organizations are, at any
/// data scale. Strictly ascending; fixed defaults when there are fewer than 20 points.
std::vector<double> heat_classes(const std::vector<geo::Point>& points, double radius_ground_m);

}  // namespace covermap::tiles
