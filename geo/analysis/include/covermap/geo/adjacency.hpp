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
    bool geographic = true;  ///< shapes in degrees (WGS84/CGCS2000); else projected, in metres
    /// > 0: fuzzy contiguity. Queen links shapes whose borders come within this many metres
    /// (measured on the ellipsoid's local scales where the two borders meet when geographic);
    /// rook links shared edges and borders that run within it of each other for more than
    /// twice its length (so corners that merely meet stay apart).
    double tolerance_m = 0;
    /// With tolerance 0: borders that touch or cross link too (queen), or overlap along a
    /// stretch (rook), not only shared vertices or edges.
    bool touch = false;
    unsigned threads = 0;  ///< 0: up to two cores
};

struct AdjacencyGraph {
    std::size_t areas = 0;
    std::vector<std::pair<int, int>> links;  ///< (a, b) with a < b, sorted, each once
    std::size_t islands = 0;                 ///< areas without a neighbour
    std::size_t components = 0;              ///< connected components (an island is one)
    std::size_t empty = 0;                   ///< shapes without a ring of 3 distinct points (islands)
    std::vector<int> component;              ///< component id per area
};

/// Builds the graph: one join of the shapes' boundary segments over candidate pairs from
/// boxes grown by the tolerance. Exact modes look for identical vertices (queen) or edges
/// (rook) of the rings as given (no repair: it would move vertices); fuzzy ones for borders
/// within the tolerance, and shapes nested in one another. Works on any ring, valid or not;
/// never throws on bad geometry.
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
