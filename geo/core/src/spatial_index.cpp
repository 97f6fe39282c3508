#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/rtree.hpp"  // before Boost.Geometry's register headers

#include <algorithm>
#include <boost/geometry/geometries/register/point.hpp>
#include <boost/geometry/geometries/register/ring.hpp>
#include <boost/iterator/function_output_iterator.hpp>
#include <thread>
#include <utility>

#include "detail/geos.hpp"

// Our rings as Boost.Geometry sees them: closed (the model's rule), either orientation (the
// winding test below does not depend on it).
BOOST_GEOMETRY_REGISTER_POINT_2D(covermap::geo::Point, double, boost::geometry::cs::cartesian, x, y)
BOOST_GEOMETRY_REGISTER_RING(covermap::geo::Ring)

namespace covermap::geo {

using namespace detail;
namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

namespace {

using Box = bg::model::box<bg::model::point<double, 2, bg::cs::cartesian>>;
using Entry = std::pair<Box, std::size_t>;

// Shapes with at most this many vertices are tested by Boost.Geometry's winding test on their
// rings; larger ones by a GEOS prepared polygon. GEOS builds an index of a prepared polygon's
// edges on its first point test and wants a GEOS point per query: worth it for a street with
// thousands of vertices, five to ten times the work of walking a grid cell's handful of edges
// (scale 50: 10,972 cells of 7 vertices, 112 streets of 150 on average).
constexpr std::size_t kSmallShape = 64;

std::size_t vertices(const MultiPolygon& shape) {
    std::size_t n = 0;
    for (const auto& poly : shape) {
        n += poly.exterior.size();
        for (const auto& hole : poly.holes) n += hole.size();
    }
    return n;
}

// Inside or on the border of a polygon: in its exterior ring (border included) and strictly
// inside none of its holes (a hole's border is the polygon's border).
bool covers(const MultiPolygon& shape, Point p) {
    for (const auto& poly : shape) {
        if (poly.exterior.size() < 4 || !bg::covered_by(p, poly.exterior)) continue;
        bool in_hole = std::any_of(poly.holes.begin(), poly.holes.end(),
                                   [&](const Ring& hole) { return hole.size() >= 4 && bg::within(p, hole); });
        if (!in_hole) return true;
    }
    return false;
}

}  // namespace

struct PolygonIndex::Impl {
    // Per shape: its rings when small, else its GEOS prepared polygon (and the polygon it
    // prepares); one of the two is empty.
    std::vector<MultiPolygon> small;
    std::vector<GeomPtr> shapes;
    std::vector<PreparedPtr> prepared;
    bgi::rtree<Entry, bgi::quadratic<16>> tree;  // the shapes' boxes, packed
    std::vector<std::size_t> hits;               // scratch of locate (one thread per index)
};

PolygonIndex::PolygonIndex(const std::vector<const MultiPolygon*>& shapes) : impl_(std::make_unique<Impl>()) {
    auto* ctx = geos();
    auto n = shapes.size();
    impl_->small.resize(n);
    impl_->shapes.resize(n);
    impl_->prepared.resize(n);
    std::vector<Entry> boxes;
    boxes.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& shape = *shapes[i];
        if (shape.empty()) continue;
        auto b = bounds(shape);
        boxes.emplace_back(Box({b.minx, b.miny}, {b.maxx, b.maxy}), i);
        if (vertices(shape) <= kSmallShape) {
            impl_->small[i] = shape;
        } else {
            impl_->shapes[i] = to_geos(shape);
            impl_->prepared[i].reset(GEOSPrepare_r(ctx, impl_->shapes[i].get()));
        }
    }
    impl_->tree = decltype(impl_->tree)(boxes.begin(), boxes.end());  // the packing constructor
}

PolygonIndex::~PolygonIndex() = default;
PolygonIndex::PolygonIndex(PolygonIndex&&) noexcept = default;
PolygonIndex& PolygonIndex::operator=(PolygonIndex&&) noexcept = default;

std::size_t PolygonIndex::size() const { return impl_->small.size(); }

std::optional<std::size_t> PolygonIndex::locate(Point p) const {
    auto& hits = impl_->hits;
    hits.clear();
    bg::model::point<double, 2, bg::cs::cartesian> at(p.x, p.y);
    impl_->tree.query(bgi::intersects(at),
                      boost::make_function_output_iterator([&](const Entry& e) { hits.push_back(e.second); }));
    std::sort(hits.begin(), hits.end());  // the first area in order wins a shared border
    GeomPtr pt;                           // made once, only if a large shape is tested
    for (std::size_t i : hits) {
        if (!impl_->prepared[i]) {
            if (covers(impl_->small[i], p)) return i;
            continue;
        }
        if (!pt) pt = to_geos(p);
        if (GEOSPreparedCovers_r(geos(), impl_->prepared[i].get(), pt.get()) == 1) return i;
    }
    return std::nullopt;
}

std::vector<int> locate_points(const std::vector<const MultiPolygon*>& areas, const std::vector<Point>& points) {
    std::vector<int> out(points.size(), -1);
    auto work = [&](std::size_t begin, std::size_t end) {
        // GEOS objects stay on the thread that made them: each worker builds its own index.
        PolygonIndex index(areas);
        for (std::size_t i = begin; i < end; ++i) {
            if (auto hit = index.locate(points[i])) out[i] = static_cast<int>(*hit);
        }
    };
    unsigned threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
    if (points.size() < 20000 || threads == 1) {
        work(0, points.size());
        return out;
    }
    std::vector<std::thread> pool;
    std::size_t chunk = (points.size() + threads - 1) / threads;
    for (unsigned t = 0; t < threads; ++t) {
        std::size_t b = t * chunk, e = std::min(points.size(), b + chunk);
        if (b < e) pool.emplace_back(work, b, e);
    }
    for (auto& th : pool) th.join();
    return out;
}

std::vector<int> locate_orgs(const Dataset& d, Level level) {
    std::vector<const MultiPolygon*> shapes;
    std::vector<int> area_index;
    for (std::size_t i = 0; i < d.areas.size(); ++i) {
        if (d.areas[i].level != level) continue;
        shapes.push_back(&d.areas[i].shape);
        area_index.push_back(static_cast<int>(i));
    }
    std::vector<Point> points;
    points.reserve(d.orgs.size());
    for (const auto& o : d.orgs) points.push_back(o.location);
    auto hits = locate_points(shapes, points);
    for (auto& h : hits)
        if (h >= 0) h = area_index[h];
    return hits;
}

}  // namespace covermap::geo
