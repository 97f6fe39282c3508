#pragma once
/// \file Mapnik rendering of covermap's layers, one metatile at a time. Mapnik's headers stay
/// in renderer.cpp; each thread keeps its own mapnik::Map per layer, built once.

#include <string>
#include <utility>
#include <vector>

#include "covermap/tiles/source.hpp"
#include "covermap/tiles/tile_id.hpp"

namespace covermap::tiles {

/// The heatmap's class breaks (organizations per km², ascending): where the ramp's colours begin.
/// TileService scales them to the data (heat_classes in heatmap.hpp); these are for tests.
extern const std::vector<double> kDefaultHeatClasses;

/// Renders a metatile of one layer at scale 1 (256 px) or 2 (512 px, @2x); returns the PNG of
/// each tile, row-major, an empty string where the tile has nothing drawn.
std::vector<std::string> render_metatile(const std::string& layer, const MetaTile& m, int scale,
                                         const TileSource& source, double kernel_radius_m,
                                         const std::vector<double>& heat_classes = kDefaultHeatClasses);

/// One circle of the organizations layer below z12: the organizations of a 40-pixel cell,
/// drawn at the cell's centre, so that circles (at most 32 px across) never overlap.
struct Cluster {
    geo::Point at;  ///< EPSG:3857, the cell's centre
    long count = 0;
    long uncovered = 0;
    double size_px = 0;  ///< diameter
};

/// The clusters of orgs at a resolution of res metres per pixel.
std::vector<Cluster> cluster_orgs(const std::vector<OrgFeature>& orgs, double res);

/// The heatmap's colours, one per class (RGBA, alpha 0–1), and the organization states' colours.
extern const std::vector<std::pair<std::string, double>> kHeatColours;
extern const std::vector<std::string> kStateColours;  ///< by OrgState

/// A transparent PNG for empty tiles.
std::string empty_png(int scale);

/// The coverage palette: (Mapnik filter on [rate], colour), for styles and legends.
extern const std::vector<std::pair<std::string, std::string>> kCoveragePalette;

}  // namespace covermap::tiles
