#include "covermap/geo/adjacency.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <set>
#include <thread>
#include <tuple>

#include "covermap/geo/error.hpp"
#include "covermap/geo/geometry.hpp"
#include "detail/geos.hpp"
#include "detail/ogr.hpp"
#include "detail/threads.hpp"

namespace covermap::geo {

using namespace detail;

namespace {

// One join for every kind of contiguity. Hand-written because GEOS offers no many-to-many
// proximity join: testing box-overlapping pairs one by one with GEOSPreparedDistanceWithin
// took 21 s on China's county polygons (6.9 M vertices). The join:
//  1. candidate pairs: shape boxes grown by the distance (0 for exact), swept along x;
//  2. per pair, a dual descent of two packed trees over the shapes' boundary segments in
//     ring order (consecutive segments are close, so runs of 8 make tight boxes), pruning
//     node pairs whose boxes are farther apart than the distance, stopping at the first
//     shared vertex (exact queen), shared edge (exact rook), segments within the distance
//     (fuzzy queen), or collecting how far the borders run within it (fuzzy rook);
//  3. a shape lying inside another without border contact is at distance 0: point in ring.
// Shared means bit-identical coordinates (-0.0 = 0.0), as for libpysal's Queen and Rook.
// Distances are in metres on WGS84 at the latitude where two segments meet (the local
// scales of a meridian and a parallel), or plain units for projected shapes, so a
// tolerance means the same at 18° N as at 53° N. Boxes are pruned with the smallest scale
// over their latitudes, which never drops a pair within the distance.

constexpr double kPi = 3.14159265358979323846;

struct Scale {
    double x = 1, y = 1;  // metres per degree of longitude / latitude (1, 1 when projected)
};

// Metres per degree at a latitude on the WGS84 ellipsoid.
Scale metres_per_degree(double lat) {
    constexpr double a = 6378137.0, e2 = 0.00669437999014;
    double p = std::clamp(lat, -89.9999, 89.9999) * kPi / 180, s = std::sin(p), w = 1 - e2 * s * s;
    double n = a / std::sqrt(w), m = a * (1 - e2) / (w * std::sqrt(w));
    return {n * std::cos(p) * kPi / 180, m * kPi / 180};
}

struct Box {
    double minx = 1e300, miny = 1e300, maxx = -1e300, maxy = -1e300;
    void add(double x, double y) {
        minx = std::min(minx, x), maxx = std::max(maxx, x), miny = std::min(miny, y), maxy = std::max(maxy, y);
    }
    void add(const Box& b) {
        minx = std::min(minx, b.minx), maxx = std::max(maxx, b.maxx);
        miny = std::min(miny, b.miny), maxy = std::max(maxy, b.maxy);
    }
};

struct Seg {
    double x0, y0, x1, y1;
};

// metres_per_degree every 0.01° of latitude, interpolated: the join asks for scales
// millions of times, and sin/cos/sqrt each time was a fifth of its work. Interpolation
// errs by under 1e-8 relative; the box tests' margin covers it.
class ScaleTable {
public:
    ScaleTable() {
        for (std::size_t i = 0; i < kSize; ++i) table_[i] = metres_per_degree(static_cast<double>(i) / kSteps);
    }
    Scale at(double lat) const {
        double f = std::min(std::fabs(lat), 89.99) * kSteps;
        auto i = static_cast<std::size_t>(f);
        double w = f - static_cast<double>(i);
        const Scale &a = table_[i], &b = table_[i + 1];
        return {a.x + (b.x - a.x) * w, a.y + (b.y - a.y) * w};
    }

private:
    static constexpr double kSteps = 100;
    static constexpr std::size_t kSize = 9001;
    std::array<Scale, kSize> table_;
};

const ScaleTable& scales() {
    static const ScaleTable table;
    return table;
}

class Metric {
public:
    Metric(bool geographic, double distance) : geographic_(geographic), d_(distance), d2_(distance * distance) {}
    double distance() const { return d_; }

    Scale at(double lat) const { return geographic_ ? scales().at(lat) : Scale{}; }
    // The smallest scales anywhere between two latitudes (less a margin): a degree of
    // longitude shrinks towards the poles, a degree of latitude is shortest at the equator.
    Scale least(double lat0, double lat1) const {
        if (!geographic_) return {};
        constexpr double margin = 1 - 1e-6;
        double far = std::max(std::fabs(lat0), std::fabs(lat1));
        double near = (lat0 <= 0 && lat1 >= 0) ? 0 : std::min(std::fabs(lat0), std::fabs(lat1));
        return {scales().at(far).x * margin, scales().at(near).y * margin};
    }
    // False only when no point of a is within the distance of any point of b.
    bool near(const Box& a, const Box& b) const {
        double dx = std::max({0.0, a.minx - b.maxx, b.minx - a.maxx});
        double dy = std::max({0.0, a.miny - b.maxy, b.miny - a.maxy});
        if (dx == 0 && dy == 0) return true;
        Scale s = least(std::min(a.miny, b.miny), std::max(a.maxy, b.maxy));
        dx *= s.x, dy *= s.y;
        return dx * dx + dy * dy <= d2_;
    }
    // The two segments in metres, with a's start as origin, at the latitude where they meet.
    std::pair<Seg, Seg> local(const Seg& a, const Seg& b) const {
        double lo = std::max(std::min(a.y0, a.y1), std::min(b.y0, b.y1));
        double hi = std::min(std::max(a.y0, a.y1), std::max(b.y0, b.y1));
        Scale s = at((lo + hi) / 2);
        auto m = [&](const Seg& g) {
            return Seg{(g.x0 - a.x0) * s.x, (g.y0 - a.y0) * s.y, (g.x1 - a.x0) * s.x, (g.y1 - a.y0) * s.y};
        };
        return {m(a), m(b)};
    }
    double d2() const { return d2_; }

private:
    bool geographic_;
    double d_, d2_;
};

double orient(double ax, double ay, double bx, double by, double cx, double cy) {
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

bool on_segment(double px, double py, const Seg& s) {
    return std::min(s.x0, s.x1) <= px && px <= std::max(s.x0, s.x1) && std::min(s.y0, s.y1) <= py &&
           py <= std::max(s.y0, s.y1);
}

// Whether two segments share a point (cross, touch or overlap), with the usual orientation
// tests on the coordinates as given: exact for the lattice coordinates of quantized data.
bool segments_meet(const Seg& a, const Seg& b) {
    double o1 = orient(a.x0, a.y0, a.x1, a.y1, b.x0, b.y0), o2 = orient(a.x0, a.y0, a.x1, a.y1, b.x1, b.y1);
    double o3 = orient(b.x0, b.y0, b.x1, b.y1, a.x0, a.y0), o4 = orient(b.x0, b.y0, b.x1, b.y1, a.x1, a.y1);
    if (((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))) return true;
    return (o1 == 0 && on_segment(b.x0, b.y0, a)) || (o2 == 0 && on_segment(b.x1, b.y1, a)) ||
           (o3 == 0 && on_segment(a.x0, a.y0, b)) || (o4 == 0 && on_segment(a.x1, a.y1, b));
}

double segment_point_d2(double px, double py, double ax, double ay, double bx, double by) {
    double dx = bx - ax, dy = by - ay;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? std::clamp(((px - ax) * dx + (py - ay) * dy) / len2, 0.0, 1.0) : 0.0;
    double ex = ax + t * dx - px, ey = ay + t * dy - py;
    return ex * ex + ey * ey;
}

// Squared distance between two segments (0 when they cross).
double segment_d2(const Seg& s, const Seg& t) {
    double o1 = orient(s.x0, s.y0, s.x1, s.y1, t.x0, t.y0), o2 = orient(s.x0, s.y0, s.x1, s.y1, t.x1, t.y1);
    double o3 = orient(t.x0, t.y0, t.x1, t.y1, s.x0, s.y0), o4 = orient(t.x0, t.y0, t.x1, t.y1, s.x1, s.y1);
    if (((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))) return 0;
    return std::min(
        {segment_point_d2(s.x0, s.y0, t.x0, t.y0, t.x1, t.y1), segment_point_d2(s.x1, s.y1, t.x0, t.y0, t.x1, t.y1),
         segment_point_d2(t.x0, t.y0, s.x0, s.y0, s.x1, s.y1), segment_point_d2(t.x1, t.y1, s.x0, s.y0, s.x1, s.y1)});
}

// The part [lo, hi] of segment a (as a fraction of it) within r of segment b: a line meets
// the capsule around b (convex) in one interval, the union of its meetings with the two end
// discs and the band along b. Unnormalized forms keep r = 0 exact for collinear overlaps.
bool interval_within(const Seg& a, const Seg& b, double r, double& lo, double& hi) {
    double dx = a.x1 - a.x0, dy = a.y1 - a.y0, bx = b.x1 - b.x0, by = b.y1 - b.y0;
    lo = 1e300, hi = -1e300;
    auto disc = [&](double cx, double cy) {  // |a0 + s d - c|^2 <= r^2
        double ox = a.x0 - cx, oy = a.y0 - cy;
        double qa = dx * dx + dy * dy, qb = 2 * (ox * dx + oy * dy), qc = ox * ox + oy * oy - r * r;
        if (qa == 0) {
            if (qc <= 0) lo = std::min(lo, 0.0), hi = std::max(hi, 1.0);
            return;
        }
        double disc = qb * qb - 4 * qa * qc;
        if (disc < 0) return;
        double sq = std::sqrt(disc);
        lo = std::min(lo, (-qb - sq) / (2 * qa)), hi = std::max(hi, (-qb + sq) / (2 * qa));
    };
    disc(b.x0, b.y0);
    disc(b.x1, b.y1);
    double len2 = bx * bx + by * by;
    if (len2 > 0) {
        // c0 + s c1 within [l, h] for the projection on b and the offset across it.
        double slo = -1e300, shi = 1e300;
        auto clip = [&](double c0, double c1, double l, double h) {
            if (c1 == 0) {
                if (c0 < l || c0 > h) slo = 1, shi = 0;
                return;
            }
            double s0 = (l - c0) / c1, s1 = (h - c0) / c1;
            if (s0 > s1) std::swap(s0, s1);
            slo = std::max(slo, s0), shi = std::min(shi, s1);
        };
        double ox = a.x0 - b.x0, oy = a.y0 - b.y0, rl = r * std::sqrt(len2);
        clip(ox * bx + oy * by, dx * bx + dy * by, 0, len2);
        clip(ox * by - oy * bx, dx * by - dy * bx, -rl, rl);
        if (slo <= shi) lo = std::min(lo, slo), hi = std::max(hi, shi);
    }
    lo = std::max(lo, 0.0), hi = std::min(hi, 1.0);
    return lo <= hi;
}

// A shape's boundary segments in ring order with a packed tree of boxes over them. The
// segments are read in place from the rings (copying 6.9 M of them cost more than the join).
struct Border {
    static constexpr std::size_t kFan = 8;
    struct Run {
        const Point* p;  // n + 1 points: n segments
        std::uint32_t n;
    };
    std::vector<Run> runs;                      // leaves: up to kFan segments of one ring
    std::vector<std::vector<Box>> levels;       // [0]: the runs' boxes; last: the root
    std::vector<const Ring*> rings;             // for point-in-shape
    std::vector<std::array<Point, 2>> closers;  // closing segments of rings given open

    void build(const MultiPolygon& shape) {
        std::size_t count = 0, open = 0;
        auto each_ring = [&](auto&& f) {
            for (const auto& p : shape) {
                f(p.exterior);
                for (const auto& h : p.holes) f(h);
            }
        };
        each_ring([&](const Ring& r) {
            if (r.size() < 2) return;
            count += (r.size() + kFan - 2) / kFan;
            open += r.front().x != r.back().x || r.front().y != r.back().y;
        });
        runs.reserve(count + open);
        closers.reserve(open);  // runs point into it: never reallocated
        std::vector<Box> leaves;
        leaves.reserve(count + open);
        auto add_run = [&](const Point* p, std::size_t n) {
            Box b;
            for (std::size_t i = 0; i <= n; ++i) b.add(p[i].x, p[i].y);
            runs.push_back({p, static_cast<std::uint32_t>(n)});
            leaves.push_back(b);
        };
        each_ring([&](const Ring& r) {
            if (r.size() < 2) return;
            rings.push_back(&r);
            for (std::size_t i = 0; i + 1 < r.size(); i += kFan) add_run(&r[i], std::min(kFan, r.size() - 1 - i));
            if (r.front().x != r.back().x || r.front().y != r.back().y) {
                closers.push_back({r.back(), r.front()});
                add_run(closers.back().data(), 1);
            }
        });
        if (runs.empty()) return;
        levels.push_back(std::move(leaves));
        while (levels.back().size() > 1) {
            const auto& below = levels.back();
            std::vector<Box> up((below.size() + kFan - 1) / kFan);
            for (std::size_t i = 0; i < below.size(); ++i) up[i / kFan].add(below[i]);
            levels.push_back(std::move(up));
        }
    }
    bool empty() const { return runs.empty(); }
    const Box& root() const { return levels.back().front(); }
    std::size_t children(std::size_t level) const { return levels[level - 1].size(); }
    Seg seg(const Run& r, std::size_t i) const { return {r.p[i].x, r.p[i].y, r.p[i + 1].x, r.p[i + 1].y}; }
    Point first() const { return runs.front().p[0]; }

    // Even-odd over every ring: inside the shape's area (holes excluded).
    bool contains(Point q) const {
        bool in = false;
        for (const Ring* r : rings)
            for (std::size_t i = 0, j = r->size() - 1; i < r->size(); j = i++) {
                const Point &p = (*r)[i], &o = (*r)[j];
                if ((p.y > q.y) != (o.y > q.y) && q.x < (o.x - p.x) * (q.y - p.y) / (o.y - p.y) + p.x) in = !in;
            }
        return in;
    }
};

// Walks the node pairs of two borders whose boxes are near, down to pairs of leaves (runs
// of up to kFan segments); `leaf` returns true to stop. Returns true when stopped.
template <class Leaf>
bool descend(const Border& a, std::size_t la, std::size_t ia, const Border& b, std::size_t lb, std::size_t ib,
             const Metric& m, Leaf& leaf) {
    if (la == 0 && lb == 0) return leaf(a.runs[ia], b.runs[ib]);
    bool split_a = la > 0 && (lb == 0 || la >= lb);
    const Border& s = split_a ? a : b;
    std::size_t level = split_a ? la : lb, node = split_a ? ia : ib;
    const Box& other = split_a ? b.levels[lb][ib] : a.levels[la][ia];
    std::size_t end = std::min((node + 1) * Border::kFan, s.children(level));
    for (std::size_t c = node * Border::kFan; c < end; ++c) {
        if (!m.near(s.levels[level - 1][c], other)) continue;
        bool stop = split_a ? descend(a, la - 1, c, b, lb, ib, m, leaf) : descend(a, la, ia, b, lb - 1, c, m, leaf);
        if (stop) return true;
    }
    return false;
}

bool same(Point p, Point q) { return p.x == q.x && p.y == q.y; }

// The same edge, either way round (a repeated vertex is no edge).
bool same_edge(const Point* p, const Point* q) {
    return !same(p[0], p[1]) && ((same(p[0], q[0]) && same(p[1], q[1])) || (same(p[0], q[1]) && same(p[1], q[0])));
}

// Exact: a vertex (queen) or an edge (rook) of a's rings identical to one of b's.
bool borders_share(const Border& a, const Border& b, const Metric& m, Contiguity mode) {
    auto leaf = [&](const Border::Run& ra, const Border::Run& rb) {
        if (mode == Contiguity::queen) {
            for (std::size_t i = 0; i <= ra.n; ++i)
                for (std::size_t j = 0; j <= rb.n; ++j)
                    if (same(ra.p[i], rb.p[j])) return true;
        } else {
            for (std::size_t i = 0; i < ra.n; ++i)
                for (std::size_t j = 0; j < rb.n; ++j)
                    if (same_edge(ra.p + i, rb.p + j)) return true;
        }
        return false;
    };
    return descend(a, a.levels.size() - 1, 0, b, b.levels.size() - 1, 0, m, leaf);
}

// Fuzzy queen: some point of a's border within the distance of b's (or touching it at 0).
bool borders_near(const Border& a, const Border& b, const Metric& m) {
    auto leaf = [&](const Border::Run& ra, const Border::Run& rb) {
        for (std::size_t i = 0; i < ra.n; ++i)
            for (std::size_t j = 0; j < rb.n; ++j) {
                Seg s = a.seg(ra, i), t = b.seg(rb, j);
                if (m.distance() == 0) {
                    if (segments_meet(s, t)) return true;
                    continue;
                }
                auto [sa, sb] = m.local(s, t);
                if (segment_d2(sa, sb) <= m.d2()) return true;
            }
        return false;
    };
    return descend(a, a.levels.size() - 1, 0, b, b.levels.size() - 1, 0, m, leaf);
}

// Whether a set of points (degrees or units) spans more than `span` metres: its diameter.
bool spans_more_than(const std::vector<Point>& pts, double span, const Metric& m) {
    if (pts.empty()) return false;
    auto d2 = [&](Point p, Point q) {
        Scale s = m.at((p.y + q.y) / 2);
        double dx = (p.x - q.x) * s.x, dy = (p.y - q.y) * s.y;
        return dx * dx + dy * dy;
    };
    double far = 0, limit = span * span;
    for (Point p : pts) far = std::max(far, d2(pts.front(), p));
    if (far > limit) return true;
    if (far <= limit / 4) return false;  // all within span/2 of one point
    for (std::size_t i = 0; i < pts.size(); ++i)
        for (std::size_t j = i + 1; j < pts.size(); ++j)
            if (d2(pts[i], pts[j]) > limit) return true;
    return false;
}

// Fuzzy rook: a shared edge, or borders that run together: the part of a's border within the
// distance of b's, and the part of b's within a's, each more than twice the distance across.
// Two corners meeting at right angles give parts 1.41 times the distance across; a corner
// on a straight border gives more than twice only where its side parts from the border at
// under 30°, i.e. where the two do run together. At distance 0 only borders overlapping
// along a stretch count (a point of contact spans nothing).
bool borders_run_together(const Border& a, const Border& b, const Metric& m) {
    std::vector<Point> on_a, on_b;  // ends of the near parts of each border
    auto leaf = [&](const Border::Run& ra, const Border::Run& rb) {
        double lo, hi;
        auto ends = [](const Seg& g, double lo, double hi, std::vector<Point>& out) {
            out.push_back({g.x0 + (g.x1 - g.x0) * lo, g.y0 + (g.y1 - g.y0) * lo});
            out.push_back({g.x0 + (g.x1 - g.x0) * hi, g.y0 + (g.y1 - g.y0) * hi});
        };
        for (std::size_t i = 0; i < ra.n; ++i)
            for (std::size_t j = 0; j < rb.n; ++j) {
                if (same_edge(ra.p + i, rb.p + j)) return true;
                Seg s = a.seg(ra, i), t = b.seg(rb, j);
                auto [sa, sb] = m.local(s, t);
                if (segment_d2(sa, sb) > m.d2()) continue;
                if (interval_within(sa, sb, m.distance(), lo, hi)) ends(s, lo, hi, on_a);
                if (interval_within(sb, sa, m.distance(), lo, hi)) ends(t, lo, hi, on_b);
            }
        return false;
    };
    if (descend(a, a.levels.size() - 1, 0, b, b.levels.size() - 1, 0, m, leaf)) return true;
    double span = 2 * m.distance();
    return spans_more_than(on_a, span, m) && spans_more_than(on_b, span, m);
}

// The linked pairs (a < b): exact when not fuzzy, else within the metric's distance.
std::vector<std::pair<int, int>> join(const std::vector<MultiPolygon>& shapes, const Metric& m, Contiguity mode,
                                      bool fuzzy, unsigned threads) {
    std::vector<Border> borders(shapes.size());
    on_threads(threads, shapes.size(), [&](std::size_t i) { borders[i].build(shapes[i]); });
    // Candidates: boxes grown by the distance (1 % more: growth is in degrees at the box's
    // least scale, the test per pair is exact), swept along x.
    std::vector<Box> grown(shapes.size());
    std::vector<int> order;
    for (std::size_t i = 0; i < borders.size(); ++i) {
        if (borders[i].empty()) continue;
        const Box& r = borders[i].root();
        Scale s = m.least(r.miny, r.maxy);
        double gx = 1.01 * m.distance() / s.x, gy = 1.01 * m.distance() / s.y;
        grown[i] = {r.minx - gx, r.miny - gy, r.maxx + gx, r.maxy + gy};
        order.push_back(static_cast<int>(i));
    }
    std::sort(order.begin(), order.end(), [&](int a, int b) { return grown[a].minx < grown[b].minx; });
    std::vector<std::pair<int, int>> candidates;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const Box& a = grown[order[i]];
        for (std::size_t j = i + 1; j < order.size() && grown[order[j]].minx <= a.maxx; ++j) {
            const Box& b = grown[order[j]];
            if (b.miny > a.maxy || b.maxy < a.miny) continue;
            std::pair<int, int> pair(std::min(order[i], order[j]), std::max(order[i], order[j]));
            if (m.near(borders[pair.first].root(), borders[pair.second].root())) candidates.push_back(pair);
        }
    }
    std::vector<char> linked(candidates.size(), 0);
    on_threads(threads, candidates.size(), [&](std::size_t k) {
        const Border &a = borders[candidates[k].first], &c = borders[candidates[k].second];
        if (!fuzzy) {
            linked[k] = borders_share(a, c, m, mode);
        } else if (mode == Contiguity::rook) {
            linked[k] = borders_run_together(a, c, m);
        } else {
            // One inside the other without their borders meeting is distance 0 too. (Rook
            // asks for a shared stretch of border, which nesting alone does not give.)
            linked[k] = borders_near(a, c, m) || a.contains(c.first()) || c.contains(a.first());
        }
    });
    std::vector<std::pair<int, int>> links;
    for (std::size_t k = 0; k < candidates.size(); ++k)
        if (linked[k]) links.push_back(candidates[k]);
    return links;
}

}  // namespace

void summarize(AdjacencyGraph& g) {
    std::vector<int> parent(g.areas);
    std::iota(parent.begin(), parent.end(), 0);
    std::function<int(int)> find = [&](int x) {
        while (parent[x] != x) x = parent[x] = parent[parent[x]];
        return x;
    };
    std::vector<int> degree(g.areas, 0);
    for (auto [a, b] : g.links) {
        ++degree[a];
        ++degree[b];
        parent[find(a)] = find(b);
    }
    g.islands = static_cast<std::size_t>(std::count(degree.begin(), degree.end(), 0));
    g.component.assign(g.areas, -1);
    std::vector<int> id_of_root(g.areas, -1);
    int next = 0;
    for (std::size_t i = 0; i < g.areas; ++i) {
        int r = find(static_cast<int>(i));
        if (id_of_root[r] < 0) id_of_root[r] = next++;
        g.component[i] = id_of_root[r];
    }
    g.components = static_cast<std::size_t>(next);
}

AdjacencyGraph build_adjacency(std::vector<MultiPolygon> shapes, const AdjacencyParams& params) {
    AdjacencyGraph g;
    g.areas = shapes.size();
    // Exact modes compare the rings as they are: a shared vertex or edge is well defined even on
    // a self-intersecting ring, and repairing would move vertices (make-valid adds nodes and
    // drops repeated points), so nothing is repaired there. Only shapes without any ring of
    // three distinct points are set aside (and counted) as islands.
    for (auto& s : shapes) {
        bool usable = false;
        for (const auto& poly : s) {
            std::size_t distinct = 0;
            for (std::size_t i = 0; i < poly.exterior.size() && distinct < 3; ++i)
                if (i == 0 || poly.exterior[i].x != poly.exterior[i - 1].x ||
                    poly.exterior[i].y != poly.exterior[i - 1].y)
                    ++distinct;
            usable |= distinct >= 3;
        }
        if (!usable) {
            s.clear();
            ++g.empty;
        }
    }
    unsigned threads = params.threads ? params.threads : default_threads();
    bool fuzzy = params.tolerance_m > 0 || params.touch;
    g.links = join(shapes, Metric(params.geographic, params.tolerance_m), params.mode, fuzzy, threads);
    std::sort(g.links.begin(), g.links.end());
    g.links.erase(std::unique(g.links.begin(), g.links.end()), g.links.end());
    summarize(g);
    return g;
}

PolygonSource read_polygons(const std::string& source, const std::string& layer_name) {
    ensure_gdal();
    DatasetPtr ds(GDALDataset::FromHandle(GDALOpenEx(source.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr)));
    if (!ds) throw format_error(source, "", std::string("cannot open: ") + CPLGetLastErrorMsg());
    OGRLayer* layer = layer_name.empty() ? ds->GetLayer(0) : ds->GetLayerByName(layer_name.c_str());
    if (!layer) throw format_error(source, "", "no layer " + layer_name);
    PolygonSource out;
    if (const auto* srs = layer->GetSpatialRef()) out.geographic = srs->IsGeographic();
    layer->ResetReading();
    while (auto f = own(layer->GetNextFeature())) {
        auto shape = from_ogr_polygons(f->GetGeometryRef());
        if (shape.empty()) ++out.non_polygonal;
        out.shapes.push_back(std::move(shape));
        out.fids.push_back(f->GetFID());
    }
    return out;
}

}  // namespace covermap::geo
