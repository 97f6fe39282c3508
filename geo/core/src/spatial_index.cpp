#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/rtree.hpp"  // before Boost.Geometry's register headers

#include <algorithm>
#include <boost/iterator/function_output_iterator.hpp>
#include <cmath>
#include <cstdint>
#include <boost/geometry/geometries/register/point.hpp>
#include <boost/geometry/geometries/register/ring.hpp>
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

// When a point would meet more candidates than this in its bucket on average (an area far
// from the rest stretches the grid over empty land), an R-tree of the boxes serves instead.
constexpr double kCrowdedBucket = 48;

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

// The candidates of a point come from a uniform grid of buckets over the shapes' extent, each
// bucket listing (in shape order) the shapes whose box meets it: one division per point, where
// Boost's R-tree walked from its root for each of a million organizations and cost more than
// the point tests themselves (0.4 s of the 0.55 s locating them in grid cells at scale 500).
// When the shapes are spread so unevenly that a bucket is crowded, the R-tree serves instead.
struct PolygonIndex::Impl {
    // Per shape: its rings when small, else its GEOS prepared polygon (and the polygon it
    // prepares); one of the two is empty.
    std::vector<MultiPolygon> small;
    std::vector<GeomPtr> shapes;
    std::vector<PreparedPtr> prepared;
    std::vector<BBox> boxes;
    BBox extent;                                  // of every shape
    std::size_t columns = 0, rows = 0;            // buckets across and up
    double column_width = 1, row_height = 1;
    std::vector<std::uint32_t> first, candidates;  // bucket b's: candidates[first[b] .. first[b + 1])
    bgi::rtree<Entry, bgi::quadratic<16>> tree;    // the shapes' boxes, packed, when crowded
    bool by_tree = false;
    std::vector<std::size_t> hits;  // scratch of a query of the tree (one thread per index)

    // The first of the candidates (in shape order) covering p.
    template <class Candidates>
    std::optional<std::size_t> first_covering(const Candidates& in, Point p) const {
        GeomPtr pt;  // made once, only if a large shape is tested
        for (std::size_t i : in) {
            const auto& box = boxes[i];
            if (p.x < box.minx || p.x > box.maxx || p.y < box.miny || p.y > box.maxy) continue;
            if (!prepared[i]) {
                if (covers(small[i], p)) return i;
                continue;
            }
            if (!pt) pt = to_geos(p);
            if (GEOSPreparedCovers_r(geos(), prepared[i].get(), pt.get()) == 1) return i;
        }
        return std::nullopt;
    }

    std::size_t column(double x) const {
        return std::min(columns - 1, static_cast<std::size_t>((x - extent.minx) / column_width));
    }
    std::size_t row(double y) const {
        return std::min(rows - 1, static_cast<std::size_t>((y - extent.miny) / row_height));
    }
};

PolygonIndex::PolygonIndex(const std::vector<const MultiPolygon*>& shapes) : impl_(std::make_unique<Impl>()) {
    auto* ctx = geos();
    auto& m = *impl_;
    auto n = shapes.size();
    m.small.resize(n);
    m.shapes.resize(n);
    m.prepared.resize(n);
    m.boxes.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& shape = *shapes[i];
        if (shape.empty()) continue;
        m.boxes[i] = bounds(shape);
        m.extent.expand(m.boxes[i]);
        if (vertices(shape) <= kSmallShape) {
            m.small[i] = shape;
        } else {
            m.shapes[i] = to_geos(shape);
            m.prepared[i].reset(GEOSPrepare_r(ctx, m.shapes[i].get()));
        }
    }
    if (m.extent.empty()) return;
    auto use_tree = [&] {
        std::vector<Entry> boxes;
        for (std::size_t i = 0; i < n; ++i)
            if (!m.boxes[i].empty())
                boxes.emplace_back(Box({m.boxes[i].minx, m.boxes[i].miny}, {m.boxes[i].maxx, m.boxes[i].maxy}), i);
        m.tree = decltype(m.tree)(boxes.begin(), boxes.end());  // the packing constructor
        m.by_tree = true;
    };
    const auto& e = m.extent;
    if (!std::isfinite(e.minx) || !std::isfinite(e.miny) || !std::isfinite(e.maxx) || !std::isfinite(e.maxy)) {
        use_tree();
        return;
    }
    // About two buckets per shape, square-ish in degrees.
    double w = std::max(e.maxx - e.minx, 1e-12), h = std::max(e.maxy - e.miny, 1e-12);
    double cells = std::clamp(2.0 * static_cast<double>(n), 1.0, 4e6);
    m.columns = static_cast<std::size_t>(std::clamp(std::sqrt(cells * w / h), 1.0, 2048.0));
    m.rows = static_cast<std::size_t>(std::clamp(cells / static_cast<double>(m.columns), 1.0, 2048.0));
    m.column_width = w / static_cast<double>(m.columns);
    m.row_height = h / static_cast<double>(m.rows);
    auto each_bucket = [&](std::size_t i, auto f) {
        const auto& b = m.boxes[i];
        if (b.empty()) return;
        for (std::size_t r = m.row(b.miny); r <= m.row(b.maxy); ++r)
            for (std::size_t c = m.column(b.minx); c <= m.column(b.maxx); ++c) f(r * m.columns + c);
    };
    // Shapes whose boxes span most of the grid (hostile or odd data) would list each too often.
    double spans = 0;
    for (const auto& b : m.boxes)
        if (!b.empty())
            spans += static_cast<double>(m.row(b.maxy) - m.row(b.miny) + 1) *
                     static_cast<double>(m.column(b.maxx) - m.column(b.minx) + 1);
    if (spans > 16.0 * static_cast<double>(n) + 1e6) {
        use_tree();
        return;
    }
    // Counted first: how many candidates a point meets on average, were points spread like the
    // shapes (the bucket sizes weighted by themselves), decides before anything is filled.
    std::vector<std::uint32_t> count(m.columns * m.rows + 1, 0);
    for (std::size_t i = 0; i < n; ++i) each_bucket(i, [&](std::size_t b) { ++count[b + 1]; });
    double listed = 0, weighted = 0;
    for (auto c : count) {
        listed += c;
        weighted += static_cast<double>(c) * c;
    }
    if (listed > 0 && weighted / listed > kCrowdedBucket) {
        use_tree();
        return;
    }
    for (std::size_t b = 1; b < count.size(); ++b) count[b] += count[b - 1];
    m.first = count;
    m.candidates.resize(count.back());
    for (std::size_t i = 0; i < n; ++i)
        each_bucket(i, [&](std::size_t b) { m.candidates[count[b]++] = static_cast<std::uint32_t>(i); });
}

PolygonIndex::~PolygonIndex() = default;
PolygonIndex::PolygonIndex(PolygonIndex&&) noexcept = default;
PolygonIndex& PolygonIndex::operator=(PolygonIndex&&) noexcept = default;

std::size_t PolygonIndex::size() const { return impl_->small.size(); }

std::optional<std::size_t> PolygonIndex::locate(Point p) const {
    auto& m = *impl_;
    if (m.by_tree) {
        m.hits.clear();
        m.tree.query(bgi::intersects(bg::model::point<double, 2, bg::cs::cartesian>(p.x, p.y)),
                     boost::make_function_output_iterator([&](const Entry& e) { m.hits.push_back(e.second); }));
        std::sort(m.hits.begin(), m.hits.end());  // the first area in order wins a shared border
        return m.first_covering(m.hits, p);
    }
    if (m.extent.empty() || !m.extent.contains(p)) return std::nullopt;  // NaN too
    std::size_t b = m.row(p.y) * m.columns + m.column(p.x);
    struct Range {
        const std::uint32_t* first;
        const std::uint32_t* last;
        const std::uint32_t* begin() const { return first; }
        const std::uint32_t* end() const { return last; }
    };
    // Listed in shape order: the first area in order wins a shared border.
    return m.first_covering(Range{m.candidates.data() + m.first[b], m.candidates.data() + m.first[b + 1]}, p);
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
    in_parts(points.size(), points.size() < 20000 ? 1 : threads, work);
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
