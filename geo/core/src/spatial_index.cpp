#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/rtree.hpp"  // before Boost.Geometry's register headers

#include <algorithm>
#include <boost/geometry/geometries/register/point.hpp>
#include <boost/geometry/geometries/register/ring.hpp>
#include <boost/iterator/function_output_iterator.hpp>
#include <thread>
#include <utility>

#include "detail/geos.hpp"
#include "detail/profile.hpp"

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

namespace {

// Split in `parts` ranges of [0, n), each on its own thread (the caller's the first).
template <class F>
void in_parts(std::size_t n, unsigned parts, F work) {
    std::vector<std::thread> pool;
    std::size_t chunk = (n + parts - 1) / std::max(1u, parts);
    for (unsigned t = 1; t < parts; ++t) {
        std::size_t b = t * chunk, e = std::min(n, b + chunk);
        if (b < e) pool.emplace_back(work, b, e);
    }
    work(std::size_t{0}, std::min(n, chunk));
    for (auto& th : pool) th.join();
}

}  // namespace

std::vector<int> locate_orgs(const Dataset& d, Level level, const std::vector<int>& finer) {
    if (finer.size() != d.orgs.size()) return locate_orgs(d, level);
    detail::ProfileLaps prof("locate from a finer level");
    std::vector<std::size_t> coarse;  // the areas of level, in order
    std::vector<BBox> coarse_box;
    for (std::size_t k = 0; k < d.areas.size(); ++k)
        if (d.areas[k].level == level) {
            coarse.push_back(k);
            coarse_box.push_back(bounds(d.areas[k].shape));
        }
    // The finer areas that hold organizations, and the area of level each hands them (or -1:
    // its organizations are tested one by one). A finer area strictly inside area S (its
    // border too) and meeting no other: each of its points is inside S and on or in no other
    // area, so S is the first area covering it, whatever the order. (Cells that only touch a
    // street's border are left to the test: telling a point on the shared border from one
    // inside cost more than it saved on the demo.)
    std::vector<char> holds(d.areas.size(), 0);
    for (int f : finer)
        if (f >= 0 && static_cast<std::size_t>(f) < d.areas.size()) holds[static_cast<std::size_t>(f)] = 1;
    std::vector<std::size_t> fines;
    for (std::size_t k = 0; k < d.areas.size(); ++k)
        if (holds[k] && !d.areas[k].shape.empty()) fines.push_back(k);
    std::vector<int> hands(d.areas.size(), -1);
    const unsigned threads = std::max(1u, std::min(2u, std::thread::hardware_concurrency()));
    in_parts(fines.size(), fines.size() < 256 ? 1 : threads, [&](std::size_t begin, std::size_t end) {
        auto* ctx = geos();  // GEOS objects stay on the thread that made them
        std::vector<GeomPtr> shapes(coarse.size());
        std::vector<PreparedPtr> prepared(coarse.size());
        auto prepare = [&](std::size_t c) -> const GEOSPreparedGeometry* {
            if (!prepared[c] && !d.areas[coarse[c]].shape.empty()) {
                shapes[c] = to_geos(d.areas[coarse[c]].shape);
                prepared[c].reset(GEOSPrepare_r(ctx, shapes[c].get()));
            }
            return prepared[c].get();
        };
        for (std::size_t k = begin; k < end; ++k) {
            const auto& fine = d.areas[fines[k]];
            BBox box = bounds(fine.shape);
            GeomPtr g;
            int inside = -1;
            bool alone = true;
            for (std::size_t c = 0; c < coarse.size() && alone; ++c) {
                if (!coarse_box[c].intersects(box)) continue;
                const auto* prep = prepare(c);
                if (!prep) continue;
                if (!g) g = to_geos(fine.shape);
                if (inside < 0 && GEOSPreparedContainsProperly_r(ctx, prep, g.get()) == 1)
                    inside = static_cast<int>(c);
                else if (GEOSPreparedIntersects_r(ctx, prep, g.get()) != 0)  // 1, or 2 (GEOS failed)
                    alone = false;
            }
            if (alone && inside >= 0) hands[fines[k]] = static_cast<int>(coarse[static_cast<std::size_t>(inside)]);
        }
    });
    prof.lap("areas");
    std::vector<int> out(d.orgs.size(), -1);
    std::vector<std::size_t> rest;
    for (std::size_t i = 0; i < d.orgs.size(); ++i) {
        int f = finer[i];
        if (f >= 0 && static_cast<std::size_t>(f) < hands.size() && hands[static_cast<std::size_t>(f)] >= 0)
            out[i] = hands[static_cast<std::size_t>(f)];
        else
            rest.push_back(i);
    }
    std::vector<const MultiPolygon*> shapes;
    for (auto k : coarse) shapes.push_back(&d.areas[k].shape);
    std::vector<Point> points;
    points.reserve(rest.size());
    for (auto i : rest) points.push_back(d.orgs[i].location);
    auto hits = locate_points(shapes, points);
    for (std::size_t r = 0; r < rest.size(); ++r)
        if (hits[r] >= 0) out[rest[r]] = static_cast<int>(coarse[static_cast<std::size_t>(hits[r])]);
    prof.lap("organizations (" + std::to_string(rest.size()) + " tested)");
    return out;
}

}  // namespace covermap::geo
