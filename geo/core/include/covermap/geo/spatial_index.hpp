#pragma once
/// \file Point-in-polygon lookups over many areas: a grid of buckets over their boxes, then a winding
/// test on a small area's rings or a GEOS prepared polygon for a large one.

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "covermap/geo/model.hpp"

namespace covermap::geo {

/// Finds which of a fixed set of shapes holds a point. Build and query on one thread.
class PolygonIndex {
public:
    /// Indexes the shapes; they are copied, the shapes and the vector may go away.
    explicit PolygonIndex(const std::vector<const MultiPolygon*>& shapes);
    ~PolygonIndex();
    PolygonIndex(PolygonIndex&&) noexcept;
    PolygonIndex& operator=(PolygonIndex&&) noexcept;

    /// Index of the first shape covering p (inside or on the border), if any.
    std::optional<std::size_t> locate(Point p) const;

    std::size_t size() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// For each point, the index of the area in areas covering it (or -1); areas on a
/// shared border go to the first. Runs on both cores for large inputs.
std::vector<int> locate_points(const std::vector<const MultiPolygon*>& areas, const std::vector<Point>& points);

/// For each organization, the index in d.areas of the area of level holding it, or -1.
std::vector<int> locate_orgs(const Dataset& d, Level level);

/// The same answer as locate_orgs(d, level), helped by where each organization lies at a finer
/// level (finer[i]: an index in d.areas, or -1, as locate_orgs gave it): the organizations of a
/// finer area lying strictly inside one area of level and meeting no other take that area
/// without a test of their own. Where areas nest (grid cells in streets), a fraction of the time.
std::vector<int> locate_orgs(const Dataset& d, Level level, const std::vector<int>& finer);

}  // namespace covermap::geo
