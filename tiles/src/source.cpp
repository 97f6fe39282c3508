#include "covermap/tiles/source.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "covermap/geo/rtree.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/tiles/tile_id.hpp"
#include "detail/hash.hpp"

namespace covermap::tiles {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

const std::vector<std::string> kLayerNames = {
    "coverage-district", "coverage-park", "coverage-street", "coverage-community", "coverage-grid",
    "heatmap",           "orgs",          "assignments",    "ledger-due"};

std::optional<geo::Level> coverage_level(const std::string& layer) {
    if (layer == "coverage-district") return geo::Level::district;
    if (layer == "coverage-park") return geo::Level::park;
    if (layer == "coverage-street") return geo::Level::street;
    if (layer == "coverage-community") return geo::Level::community;
    if (layer == "coverage-grid") return geo::Level::grid;
    return std::nullopt;
}

namespace {

using BPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using BBox = bg::model::box<BPoint>;
using BoxItem = std::pair<BBox, std::size_t>;
using PointItem = std::pair<BPoint, std::size_t>;
using BoxTree = bgi::rtree<BoxItem, bgi::rstar<16>>;
using PointTree = bgi::rtree<PointItem, bgi::rstar<16>>;

BBox to_b(const geo::BBox& b) { return BBox(BPoint(b.minx, b.miny), BPoint(b.maxx, b.maxy)); }

geo::MultiPolygon project(const geo::MultiPolygon& shape) { return to_mercator(shape); }

// Operating, and no visit confirmed its ledger since `quarter` began.
bool ledger_due(const geo::Dataset& d, const geo::Organization& o, const std::string& quarter) {
    if (!o.operating()) return false;
    auto v = d.ledger_verified.find(o.id);
    return v == d.ledger_verified.end() || v->second < quarter;
}

OrgState state_of(const geo::Organization& o, const std::unordered_map<std::int64_t, geo::BranchType>& types) {
    if (!o.operating()) return OrgState::inactive;
    if (o.branch_id) {
        auto it = types.find(*o.branch_id);
        return it != types.end() && it->second == geo::BranchType::standalone ? OrgState::standalone : OrgState::joint;
    }
    return o.instructor_id ? OrgState::instructor : OrgState::uncovered;
}

geo::BBox point_box(geo::Point p, double grow = 0) {
    geo::BBox b;
    b.expand(geo::Point{p.x - grow, p.y - grow});
    b.expand(geo::Point{p.x + grow, p.y + grow});
    return b;
}

}  // namespace

struct TileSource::Impl {
    struct Level {
        std::vector<AreaFeature> features;
        std::vector<long> operating, covered;
        std::vector<geo::BBox> boxes;
        BoxTree tree;
    };
    std::map<geo::Level, Level> levels;
    std::vector<OrgFeature> orgs;
    std::unordered_map<geo::Id, std::size_t> org_index;
    std::vector<std::map<geo::Level, int>> org_area;  // per org: area index per level
    std::vector<geo::Organization> org_model;
    PointTree org_tree;
    PointTree uncovered_tree;
    std::unordered_map<std::int64_t, geo::BranchType> branch_types;
    std::unordered_map<geo::Id, geo::Point> instructor_home;  // mercator
    std::unordered_map<geo::Id, std::vector<std::size_t>> instructor_orgs;
    std::unordered_map<geo::Id, std::size_t> instructor_slot;  // id -> index in slot_id (for the tree)
    std::vector<geo::Id> slot_id;
    std::unordered_map<std::size_t, TerritoryFeature> territory;  // by slot
    BoxTree link_tree;       // value: org index (the link is its instructor → it)
    BoxTree territory_tree;  // value: instructor slot
    geo::BBox extent;
    // The fingerprint: the areas' and instructors' part (fixed for a source), and the XOR of
    // the organizations' hashes (org_print), kept as they change.
    Fingerprint statics, org_prints;

    // An organization as the layers draw it: its point, state, size, ledger and instructor.
    Fingerprint org_print(std::size_t i) const {
        const auto& f = orgs[i];
        detail::Hasher h;
        h.text("org").text(f.id).f64(f.at.x).f64(f.at.y).i64(static_cast<int>(f.state)).i64(f.employees);
        h.u64(f.due ? 1 : 0).text(org_model[i].instructor_id ? *org_model[i].instructor_id : std::string());
        return h.done();
    }

    geo::BBox link_box(std::size_t i) const {
        geo::BBox b;
        b.expand(orgs[i].at);
        b.expand(instructor_home.at(*org_model[i].instructor_id));
        return b;
    }

    // Rebuilds an instructor's territory; returns the old and new boxes.
    std::vector<geo::BBox> rebuild_territory(const geo::Id& id) {
        std::vector<geo::BBox> dirty;
        auto slot_it = instructor_slot.find(id);
        if (slot_it == instructor_slot.end()) return dirty;
        std::size_t slot = slot_it->second;
        if (auto it = territory.find(slot); it != territory.end()) {
            auto box = geo::bounds(it->second.shape);
            territory_tree.remove(BoxItem(to_b(box), slot));
            dirty.push_back(box);
            territory.erase(it);
        }
        auto home = instructor_home.find(id);
        if (home == instructor_home.end()) return dirty;
        std::vector<geo::Point> pts{home->second};
        for (auto i : instructor_orgs[id]) pts.push_back(orgs[i].at);
        auto hull = geo::convex_hull(pts);
        if (!hull.empty()) {
            auto box = geo::bounds(hull);
            territory[slot] = TerritoryFeature{id, std::move(hull)};
            territory_tree.insert(BoxItem(to_b(box), slot));
            dirty.push_back(box);
        }
        return dirty;
    }
};

TileSource::TileSource(const geo::Dataset& d) : impl_(std::make_unique<Impl>()) {
    auto& im = *impl_;
    for (const auto& b : d.branches) im.branch_types[b.id] = b.type;
    for (const auto& in : d.instructors) {
        im.instructor_home[in.id] = to_mercator(in.home);
        im.instructor_slot[in.id] = im.slot_id.size();
        im.slot_id.push_back(in.id);
    }
    im.org_model = d.orgs;
    im.org_area.resize(d.orgs.size());
    const std::string quarter = geo::quarter_start(geo::china_date());
    for (std::size_t i = 0; i < d.orgs.size(); ++i) {
        const auto& o = d.orgs[i];
        im.orgs.push_back({o.id, to_mercator(o.location), state_of(o, im.branch_types), o.employees,
                           ledger_due(d, o, quarter)});
        im.org_index[o.id] = i;
        im.extent.expand(o.location);
    }
    for (auto level :
         {geo::Level::district, geo::Level::park, geo::Level::street, geo::Level::community, geo::Level::grid}) {
        auto& L = im.levels[level];
        std::vector<int> area_to_feature(d.areas.size(), -1);
        std::vector<BoxItem> items;
        for (std::size_t a = 0; a < d.areas.size(); ++a) {
            if (d.areas[a].level != level) continue;
            area_to_feature[a] = static_cast<int>(L.features.size());
            AreaFeature f;
            f.name = d.areas[a].name;
            f.shape = project(d.areas[a].shape);
            f.label = to_mercator(geo::interior_point(d.areas[a].shape));
            L.boxes.push_back(geo::bounds(f.shape));
            items.emplace_back(to_b(L.boxes.back()), L.features.size());
            L.features.push_back(std::move(f));
            im.extent.expand(geo::bounds(d.areas[a].shape));
        }
        L.tree = BoxTree(items.begin(), items.end());
        L.operating.assign(L.features.size(), 0);
        L.covered.assign(L.features.size(), 0);
        auto where = geo::locate_orgs(d, level);
        for (std::size_t i = 0; i < d.orgs.size(); ++i) {
            int f = where[i] >= 0 ? area_to_feature[static_cast<std::size_t>(where[i])] : -1;
            im.org_area[i][level] = f;
            if (f < 0 || !d.orgs[i].operating()) continue;
            ++L.operating[static_cast<std::size_t>(f)];
            if (d.orgs[i].branch_id) ++L.covered[static_cast<std::size_t>(f)];
        }
        for (std::size_t f = 0; f < L.features.size(); ++f)
            L.features[f].rate = L.operating[f] ? double(L.covered[f]) / L.operating[f] : -1;
    }
    std::vector<PointItem> all, unc;
    std::vector<BoxItem> links;
    for (std::size_t i = 0; i < im.orgs.size(); ++i) {
        BPoint p(im.orgs[i].at.x, im.orgs[i].at.y);
        all.emplace_back(p, i);
        if (im.orgs[i].state == OrgState::uncovered) unc.emplace_back(p, i);
        if (auto in = d.orgs[i].instructor_id; in && im.instructor_home.count(*in)) {
            im.instructor_orgs[*in].push_back(i);
            links.emplace_back(to_b(im.link_box(i)), i);
        }
    }
    im.org_tree = PointTree(all.begin(), all.end());
    im.uncovered_tree = PointTree(unc.begin(), unc.end());
    im.link_tree = BoxTree(links.begin(), links.end());
    for (const auto& in : d.instructors) im.rebuild_territory(in.id);
    for (std::size_t i = 0; i < im.orgs.size(); ++i) im.org_prints ^= im.org_print(i);
    // Areas by code, level, name and every vertex; instructors by id and home.
    for (const auto& a : d.areas) {
        detail::Hasher h;
        h.text("area").text(a.code).text(geo::to_string(a.level)).text(a.name).u64(a.shape.size());
        for (const auto& poly : a.shape) {
            h.u64(poly.exterior.size()).u64(poly.holes.size());
            for (const auto& p : poly.exterior) h.f64(p.x).f64(p.y);
            for (const auto& ring : poly.holes) {
                h.u64(ring.size());
                for (const auto& p : ring) h.f64(p.x).f64(p.y);
            }
        }
        im.statics ^= h.done();
    }
    for (const auto& in : d.instructors)
        im.statics ^= detail::Hasher().text("instructor").text(in.id).f64(in.home.x).f64(in.home.y).done();
}

TileSource::~TileSource() = default;

void TileSource::add_branch(std::int64_t id, geo::BranchType type) {
    std::unique_lock lock(mutex_);
    impl_->branch_types[id] = type;
}

geo::BBox TileSource::extent() const {
    std::shared_lock lock(mutex_);
    return impl_->extent;
}

Fingerprint TileSource::fingerprint() const {
    std::shared_lock lock(mutex_);
    Fingerprint f = impl_->statics;
    return f ^= impl_->org_prints;
}

Fingerprint TileSource::fixed_fingerprint() const {
    std::shared_lock lock(mutex_);
    return impl_->statics;
}

std::string Fingerprint::hex() const {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(hi),
                  static_cast<unsigned long long>(lo));
    return buf;
}

std::optional<Fingerprint> Fingerprint::parse(const std::string& hex) {
    if (hex.size() != 32 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
    return Fingerprint{std::stoull(hex.substr(0, 16), nullptr, 16), std::stoull(hex.substr(16), nullptr, 16)};
}

namespace {
// The indexes of the items in a tree meeting box, in index order (a stable drawing order).
template <class Tree>
std::vector<std::size_t> hits(const Tree& tree, const geo::BBox& box) {
    std::vector<typename Tree::value_type> found;
    tree.query(bgi::intersects(to_b(box)), std::back_inserter(found));
    std::vector<std::size_t> out;
    out.reserve(found.size());
    for (const auto& f : found) out.push_back(f.second);
    std::sort(out.begin(), out.end());
    return out;
}
}  // namespace

std::vector<AreaFeature> TileSource::areas(geo::Level level, const geo::BBox& box) const {
    std::shared_lock lock(mutex_);
    std::vector<AreaFeature> out;
    auto it = impl_->levels.find(level);
    if (it == impl_->levels.end()) return out;
    for (auto i : hits(it->second.tree, box)) out.push_back(it->second.features[i]);
    return out;
}

std::vector<OrgFeature> TileSource::orgs(const geo::BBox& box) const {
    std::shared_lock lock(mutex_);
    std::vector<OrgFeature> out;
    for (auto i : hits(impl_->org_tree, box)) out.push_back(impl_->orgs[i]);
    return out;
}

std::vector<geo::Point> TileSource::uncovered(const geo::BBox& box) const {
    std::shared_lock lock(mutex_);
    std::vector<geo::Point> out;
    for (auto i : hits(impl_->uncovered_tree, box)) out.push_back(impl_->orgs[i].at);
    return out;
}

std::vector<LinkFeature> TileSource::links(const geo::BBox& box) const {
    std::shared_lock lock(mutex_);
    std::vector<LinkFeature> out;
    for (auto i : hits(impl_->link_tree, box)) {
        auto in = *impl_->org_model[i].instructor_id;
        out.push_back({in, impl_->instructor_home.at(in), impl_->orgs[i].at});
    }
    return out;
}

std::vector<TerritoryFeature> TileSource::territories(const geo::BBox& box) const {
    std::shared_lock lock(mutex_);
    std::vector<TerritoryFeature> out;
    for (auto slot : hits(impl_->territory_tree, box)) out.push_back(impl_->territory.at(slot));
    return out;
}

Dirty TileSource::set_due(const geo::Id& org, bool due) {
    std::unique_lock lock(mutex_);
    auto& im = *impl_;
    Dirty dirty;
    auto it = im.org_index.find(org);
    if (it == im.org_index.end()) return dirty;
    auto& f = im.orgs[it->second];
    if (f.due != due) {
        im.org_prints ^= im.org_print(it->second);
        f.due = due;
        im.org_prints ^= im.org_print(it->second);
        dirty["ledger-due"].push_back(point_box(f.at));
    }
    return dirty;
}

void TileSource::set_all_due() {
    std::unique_lock lock(mutex_);
    auto& im = *impl_;
    im.org_prints = Fingerprint{};
    for (std::size_t i = 0; i < im.orgs.size(); ++i) {
        im.orgs[i].due = im.orgs[i].state != OrgState::inactive;
        im.org_prints ^= im.org_print(i);
    }
}

Dirty TileSource::update(const geo::Organization& before, const geo::Organization& after, double kernel_radius_m) {
    std::unique_lock lock(mutex_);
    auto& im = *impl_;
    Dirty dirty;
    auto it = im.org_index.find(after.id);
    if (it == im.org_index.end()) return dirty;
    std::size_t i = it->second;
    auto& f = im.orgs[i];
    im.org_prints ^= im.org_print(i);  // out as it was drawn, in again as it is drawn below
    auto old_state = f.state;
    // Branch ids new since the build (accepted plans) are joint/affiliated unless known.
    auto new_state = state_of(after, im.branch_types);
    f.state = new_state;
    BPoint p(f.at.x, f.at.y);
    if (before.operating() != after.operating()) f.due = f.due && after.operating();
    // The marker's size from z15 (both layers that draw organizations).
    if (f.employees != after.employees) {
        f.employees = after.employees;
        dirty["orgs"].push_back(point_box(f.at));
        dirty["ledger-due"].push_back(point_box(f.at));
    }
    if (old_state != new_state) {
        dirty["orgs"].push_back(point_box(f.at));
        dirty["ledger-due"].push_back(point_box(f.at));  // drawn in its state's colour
        if ((old_state == OrgState::uncovered) != (new_state == OrgState::uncovered)) {
            if (old_state == OrgState::uncovered)
                im.uncovered_tree.remove(PointItem(p, i));
            else
                im.uncovered_tree.insert(PointItem(p, i));
            // The kernel reaches kernel_radius_m on the ground: Mercator metres grow with 1/cos(lat).
            double grow = kernel_radius_m / std::cos(before.location.y * M_PI / 180);
            dirty["heatmap"].push_back(point_box(f.at, grow));
        }
    }
    // Coverage counters of the areas holding the organization, at each level.
    bool was_covered = before.operating() && before.branch_id, is_covered = after.operating() && after.branch_id;
    if (was_covered != is_covered || before.operating() != after.operating()) {
        for (auto& [level, L] : im.levels) {
            int a = im.org_area[i][level];
            if (a < 0) continue;
            auto ua = static_cast<std::size_t>(a);
            L.operating[ua] += (after.operating() ? 1 : 0) - (before.operating() ? 1 : 0);
            L.covered[ua] += (is_covered ? 1 : 0) - (was_covered ? 1 : 0);
            L.features[ua].rate = L.operating[ua] ? double(L.covered[ua]) / L.operating[ua] : -1;
            dirty[std::string("coverage-") + std::string(geo::to_string(level))].push_back(L.boxes[ua]);
        }
    }
    // Assignment links and territories.
    if (before.instructor_id != after.instructor_id) {
        auto& links = dirty["assignments"];
        if (before.instructor_id && im.instructor_home.count(*before.instructor_id)) {
            auto box = im.link_box(i);
            im.link_tree.remove(BoxItem(to_b(box), i));
            links.push_back(box);
            auto& v = im.instructor_orgs[*before.instructor_id];
            v.erase(std::remove(v.begin(), v.end(), i), v.end());
        }
        im.org_model[i] = after;
        if (after.instructor_id && im.instructor_home.count(*after.instructor_id)) {
            auto box = im.link_box(i);
            im.link_tree.insert(BoxItem(to_b(box), i));
            links.push_back(box);
            im.instructor_orgs[*after.instructor_id].push_back(i);
        }
        for (const auto& id : {before.instructor_id, after.instructor_id})
            if (id)
                for (auto& b : im.rebuild_territory(*id)) links.push_back(b);
    }
    im.org_model[i] = after;
    im.org_prints ^= im.org_print(i);
    return dirty;
}

}  // namespace covermap::tiles
