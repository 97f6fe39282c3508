#include "covermap/geo/spatial_index.hpp"

#include <algorithm>
#include <thread>

#include "detail/geos.hpp"

namespace covermap::geo {

using namespace detail;

struct PolygonIndex::Impl {
    std::vector<GeomPtr> shapes;
    std::vector<PreparedPtr> prepared;
    std::vector<std::size_t> ids;  // stable addresses handed to the tree
    TreePtr tree;
    std::vector<std::size_t> hits;  // scratch of locate (one thread per index)
};

PolygonIndex::PolygonIndex(const std::vector<const MultiPolygon*>& shapes) : impl_(std::make_unique<Impl>()) {
    auto* ctx = geos();
    impl_->tree = TreePtr(GEOSSTRtree_create_r(ctx, 10));
    impl_->ids.resize(shapes.size());
    impl_->shapes.reserve(shapes.size());
    impl_->prepared.reserve(shapes.size());
    for (std::size_t i = 0; i < shapes.size(); ++i) {
        impl_->ids[i] = i;
        impl_->shapes.push_back(to_geos(*shapes[i]));
        impl_->prepared.emplace_back(GEOSPrepare_r(ctx, impl_->shapes.back().get()));
        if (!shapes[i]->empty())
            GEOSSTRtree_insert_r(ctx, impl_->tree.get(), impl_->shapes.back().get(), &impl_->ids[i]);
    }
}

PolygonIndex::~PolygonIndex() = default;
PolygonIndex::PolygonIndex(PolygonIndex&&) noexcept = default;
PolygonIndex& PolygonIndex::operator=(PolygonIndex&&) noexcept = default;

std::size_t PolygonIndex::size() const { return impl_->shapes.size(); }

std::vector<std::size_t> PolygonIndex::query(const BBox& b) const {
    std::vector<std::size_t> hits;
    if (b.empty()) return hits;
    auto box = make_box(b);
    GEOSSTRtree_query_r(
        geos(), impl_->tree.get(), box.get(),
        [](void* item, void* user) {
            static_cast<std::vector<std::size_t>*>(user)->push_back(*static_cast<std::size_t*>(item));
        },
        &hits);
    std::sort(hits.begin(), hits.end());
    return hits;
}

std::optional<std::size_t> PolygonIndex::locate(Point p) const {
    // One GEOS point serves the tree query and the covers test; the hit list is reused.
    auto pt = to_geos(p);
    auto& hits = impl_->hits;
    hits.clear();
    GEOSSTRtree_query_r(
        geos(), impl_->tree.get(), pt.get(),
        [](void* item, void* user) {
            static_cast<std::vector<std::size_t>*>(user)->push_back(*static_cast<std::size_t*>(item));
        },
        &hits);
    std::sort(hits.begin(), hits.end());  // the first area in order wins a shared border
    for (std::size_t i : hits)
        if (GEOSPreparedCovers_r(geos(), impl_->prepared[i].get(), pt.get()) == 1) return i;
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

}  // namespace covermap::geo
