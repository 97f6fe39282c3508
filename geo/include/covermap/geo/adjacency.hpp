#pragma once
/// \file Contiguity of polygons: queen (a shared point), rook (a shared edge) and fuzzy
/// (borders within a tolerance), for covermap's areas and for any OGR polygon source.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "covermap/geo/model.hpp"

namespace covermap::geo {

enum class Contiguity { queen, rook };

struct AdjacencyParams {
    Contiguity mode = Contiguity::queen;
    double tolerance = 0;    ///< > 0: also link shapes whose borders come this close (shape units)
    bool geographic = true;  ///< shapes in degrees: tolerance_m is converted at their latitude
    double tolerance_m = 0;  ///< the tolerance in metres (converted to shape units when geographic)
};

struct AdjacencyGraph {
    std::size_t areas = 0;
    std::vector<std::pair<int, int>> links;  ///< (a, b) with a < b, sorted, each once
    std::size_t islands = 0;                 ///< areas without a neighbour
    std::size_t components = 0;              ///< connected components (an island is one)
    std::size_t empty = 0;                   ///< shapes without a ring of 3 distinct points (islands)
    std::vector<int> component;              ///< component id per area
};

/// Builds the graph. Exact methods hash shared vertices (queen) or shared edges (rook) of the
/// rings as given (no repair: it would move vertices); with a tolerance, a grid join of the
/// boundary segments adds pairs whose borders come within it. Works on any ring, valid or
/// not; never throws on bad geometry.
AdjacencyGraph build_adjacency(std::vector<MultiPolygon> shapes, const AdjacencyParams& params);

/// Fills islands, components and component from links.
void summarize(AdjacencyGraph& g);

/// The polygons of an OGR source, with their FIDs, for `covermap adjacency`.
struct PolygonSource {
    std::vector<MultiPolygon> shapes;
    std::vector<std::int64_t> fids;
    bool geographic = true;
    std::size_t non_polygonal = 0;  ///< features with no polygonal geometry (kept, as empty shapes)
};
/// Reads a layer (first one by default); throws format_error.
PolygonSource read_polygons(const std::string& source, const std::string& layer = "");

}  // namespace covermap::geo
