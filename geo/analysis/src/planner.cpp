#include "covermap/geo/planner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>
#include <unordered_map>

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>
#include <nanoflann.hpp>

#include "covermap/geo/adjacency.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/credit_code.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/rtree.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "detail/profile.hpp"
#include "detail/threads.hpp"

namespace covermap::geo {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

namespace {

using BPoint = bg::model::point<double, 2, bg::cs::cartesian>;

// Local planar coordinates (metres-ish) for nearest-neighbour pruning: longitude scaled by
// the cosine of the latitude. Exact costs are always computed with haversine.
BPoint planar(Point p, double coslat) { return BPoint(p.x * 111319.49 * coslat, p.y * 111319.49); }

double mean_coslat(const std::vector<Point>& pts) {
    if (pts.empty()) return 1;
    double s = 0;
    for (auto p : pts) s += p.y;
    return std::cos(s / pts.size() * M_PI / 180);
}

// Indices viewed in place, where C++20 would use std::span.
struct Span {
    const std::size_t* first;
    const std::size_t* last;
    const std::size_t* begin() const { return first; }
    const std::size_t* end() const { return last; }
    bool empty() const { return first == last; }
    std::size_t size() const { return static_cast<std::size_t>(last - first); }
    std::size_t front() const { return *first; }
};

class Timer {
public:
    explicit Timer(Plan& plan) : plan_(plan), t_(std::chrono::steady_clock::now()) {}
    void lap(const char* stage) {
        auto now = std::chrono::steady_clock::now();
        plan_.timings_ms.emplace_back(stage, std::chrono::duration<double, std::milli>(now - t_).count());
        profile_.lap(stage);
        t_ = now;
    }

private:
    Plan& plan_;
    detail::ProfileLaps profile_{"plan"};
    std::chrono::steady_clock::time_point t_;
};

// Metres per degree of latitude on haversine_m's sphere (a meridian arc: at most the distance).
constexpr double kMetresPerDegreeLatitude = kEarthRadiusM * M_PI / 180 * (1 - 1e-12);

bool uncovered(const Organization& o) { return o.operating() && !o.branch_id && !o.instructor_id; }

// Uncovered rates smoothed by empirical Bayes (Marshall 1991, binomial form): an area's rate
// moves toward the overall rate m by how little its own count can say. With the variance of
// the true rates s² = Σ n(r − m)² / Σ n − m(1 − m) / n̄ (0 if negative), an area of n operating
// organizations keeps the weight s² / (s² + m(1 − m) / n) of its own rate. A cell with one
// organization then scores near m instead of 0 or 1. Areas without operating organizations
// have no rate (NaN).
std::vector<double> smoothed_rates(const std::vector<long long>& unc, const std::vector<long long>& op, double& m,
                                   double& spread_sd) {
    double sum_u = 0, sum_n = 0, areas = 0;
    for (std::size_t i = 0; i < op.size(); ++i)
        if (op[i] > 0) sum_u += static_cast<double>(unc[i]), sum_n += static_cast<double>(op[i]), ++areas;
    std::vector<double> out(op.size(), std::nan(""));
    if (sum_n == 0) return out;
    m = sum_u / sum_n;
    double spread = 0;
    for (std::size_t i = 0; i < op.size(); ++i)
        if (op[i] > 0) {
            double r = static_cast<double>(unc[i]) / static_cast<double>(op[i]);
            spread += static_cast<double>(op[i]) * (r - m) * (r - m);
        }
    double s2 = std::max(0.0, spread / sum_n - m * (1 - m) / (sum_n / areas));
    spread_sd = std::sqrt(s2);
    for (std::size_t i = 0; i < op.size(); ++i) {
        if (op[i] == 0) continue;
        double r = static_cast<double>(unc[i]) / static_cast<double>(op[i]);
        double noise = m * (1 - m) / static_cast<double>(op[i]);
        double weight = s2 + noise > 0 ? s2 / (s2 + noise) : 0;
        out[i] = m + weight * (r - m);
    }
    return out;
}

// Getis-Ord Gi* with binary weights including the area itself, over the areas with a rate
// (empty areas left out, with their links); p two-sided from the normal, cut by Benjamini–
// Hochberg at alpha.
void hotspots(const std::vector<double>& rate, const AdjacencyGraph& g, double alpha,
              const std::vector<const Area*>& areas, const std::vector<long long>& unc,
              const std::vector<long long>& op, Plan& plan) {
    std::vector<int> at(rate.size(), -1);
    std::vector<std::size_t> area;
    for (std::size_t i = 0; i < rate.size(); ++i)
        if (!std::isnan(rate[i])) {
            at[i] = static_cast<int>(area.size());
            area.push_back(i);
        }
    std::size_t n = area.size();
    plan.hotspot_tests = n;
    plan.hotspot_alpha = alpha;
    if (n < 3) return;
    std::vector<double> x(n);
    for (std::size_t k = 0; k < n; ++k) x[k] = rate[area[k]];
    double mean = std::accumulate(x.begin(), x.end(), 0.0) / n;
    double sq = 0;
    for (double v : x) sq += v * v;
    double s = std::sqrt(std::max(0.0, sq / n - mean * mean));
    if (s == 0) return;
    std::vector<double> sum(x), w(n, 1.0);
    for (auto [a0, b0] : g.links) {
        int a = at[a0], b = at[b0];
        if (a < 0 || b < 0) continue;
        sum[a] += x[b];
        sum[b] += x[a];
        w[a] += 1;
        w[b] += 1;
    }
    std::vector<std::pair<double, std::size_t>> ps;
    std::vector<double> z(n);
    for (std::size_t i = 0; i < n; ++i) {
        double denom = s * std::sqrt((n * w[i] - w[i] * w[i]) / (n - 1.0));
        z[i] = denom > 0 ? (sum[i] - mean * w[i]) / denom : 0;
        ps.emplace_back(std::erfc(std::fabs(z[i]) / std::sqrt(2.0)), i);
    }
    // Benjamini–Hochberg: the largest k with p(k) ≤ k/n·α sets the cut.
    std::sort(ps.begin(), ps.end());
    double cut = 0;
    for (std::size_t k = 0; k < n; ++k)
        if (ps[k].first <= (k + 1.0) / n * alpha) cut = ps[k].first;
    plan.hotspot_p_cut = cut;
    for (auto [p, i] : ps) {
        if (cut == 0 || p > cut) break;
        std::size_t a = area[i];
        if (z[i] > 0)
            plan.hotspots.push_back(
                {areas[a]->code, areas[a]->name, z[i], p, static_cast<double>(unc[a]) / op[a], rate[a], unc[a], op[a]});
    }
    std::sort(plan.hotspots.begin(), plan.hotspots.end(), [](auto& a, auto& b) { return a.z > b.z; });
}

// Rule 2 in one street: joint-branch groups (organization indexes, the seed first) and the
// organizations no group could take. Region growing in the spirit of max-p regionalization:
// seeds are taken hardest first (fewest candidates near them); a region grows by its cheapest
// neighbour (distance to the seed plus an industry penalty) until it has the floor of members,
// never past the cap of organizations; a region that cannot reach the floor is dissolved.
// Growing only to the floor maximizes the number of regions; cheapest-first keeps them
// compact. Leftovers then join a region with room nearby (local improvement: more
// organizations covered, no region lost).
struct JointGroups {
    std::vector<std::vector<std::size_t>> regions;
    std::vector<std::size_t> leftovers;
};

// A street's organizations in local planar coordinates, as nanoflann's k-d tree reads them.
struct PlanarCloud {
    std::vector<BPoint> pts;
    std::size_t kdtree_get_point_count() const { return pts.size(); }
    double kdtree_get_pt(std::size_t i, std::size_t dim) const { return dim == 0 ? pts[i].get<0>() : pts[i].get<1>(); }
    template <class Box>
    bool kdtree_get_bbox(Box&) const {
        return false;  // nanoflann computes it
    }
};
using PlanarKdTree =
    nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, PlanarCloud>, PlanarCloud, 2, std::uint32_t>;

JointGroups joint_groups(const Dataset& d, const std::vector<std::size_t>& members, const PlanParams& p) {
    const std::size_t n = members.size();
    // The street's locations and industries side by side: the growing below reads them a few
    // hundred times per organization, and a record of the data set is 248 bytes away from the next.
    std::vector<Point> pts;
    std::vector<double> cos_of;  // cos_lat of each
    std::vector<int> industry;
    pts.reserve(n);
    cos_of.reserve(n);
    industry.reserve(n);
    {
        absl::flat_hash_map<std::string_view, int> ids;
        for (auto i : members) {
            pts.push_back(d.orgs[i].location);
            cos_of.push_back(cos_lat(pts.back()));
            industry.push_back(ids.emplace(d.orgs[i].industry, static_cast<int>(ids.size())).first->second);
        }
    }
    auto dist = [&](std::size_t a, std::size_t b) { return haversine_m(pts[a], pts[b], cos_of[a], cos_of[b]); };
    auto penalty = [&](std::size_t a, std::size_t b) {
        return industry[a] == industry[b] ? 0 : p.joint_industry_penalty_m;
    };
    // Candidate neighbours: the 48 nearest within reach (a region holds at most 5), by a k-d
    // tree on local planar coordinates (nanoflann's: the grouping at scale 500 took 0.47 s on it
    // against 0.7 s on a Boost R-tree), each list sorted by step cost (computed once). All lists in one
    // array: a's are nbr[first[a]] .. nbr[first[a + 1]] (a vector each was an allocation per
    // organization).
    std::vector<std::uint32_t> nbr;
    std::vector<std::size_t> first(n + 1, 0);
    auto nbrs = [&](std::size_t a) {
        return std::make_pair(nbr.begin() + static_cast<std::ptrdiff_t>(first[a]),
                              nbr.begin() + static_cast<std::ptrdiff_t>(first[a + 1]));
    };
    {
        PlanarCloud cloud;
        double coslat = mean_coslat(pts);
        cloud.pts.reserve(n);
        for (auto pt : pts) cloud.pts.push_back(planar(pt, coslat));
        PlanarKdTree tree(2, cloud, nanoflann::KDTreeSingleIndexAdaptorParams(16));
        constexpr std::size_t kWant = 49;  // itself and 48 others
        std::uint32_t found[kWant];
        double found_sq[kWant];
        std::vector<std::pair<double, std::size_t>> costed;
        nbr.reserve(n * 24);
        for (std::size_t a = 0; a < n; ++a) {
            costed.clear();
            const double q[2] = {cloud.pts[a].get<0>(), cloud.pts[a].get<1>()};
            auto got = tree.knnSearch(q, kWant, found, found_sq);
            for (std::size_t k = 0; k < got; ++k) {
                std::size_t b = found[k];
                if (b == a) continue;
                double m = dist(a, b);
                if (m <= p.joint_max_m) costed.emplace_back(m + penalty(a, b), b);
            }
            std::sort(costed.begin(), costed.end());
            for (auto [c, b] : costed) nbr.push_back(static_cast<std::uint32_t>(b));
            first[a + 1] = nbr.size();
        }
    }
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](auto a, auto b) { return first[a + 1] - first[a] < first[b + 1] - first[b]; });
    std::vector<char> used(n, 0);
    std::vector<std::vector<std::size_t>> regions;
    std::vector<int> region_of(n, -1);
    for (auto seed : order) {
        if (used[seed]) continue;
        std::vector<std::size_t> region{seed};
        int members_sum = d.orgs[members[seed]].party_members;
        used[seed] = 1;
        for (auto [k, end] = nbrs(seed);
             k != end && members_sum < p.min_members && static_cast<int>(region.size()) < p.joint_max_orgs; ++k) {
            std::size_t b = *k;  // cheapest unused first
            if (used[b]) continue;
            used[b] = 1;
            region.push_back(b);
            members_sum += d.orgs[members[b]].party_members;
        }
        if (members_sum >= p.min_members) {
            for (auto r : region) region_of[r] = static_cast<int>(regions.size());
            regions.push_back(std::move(region));
        } else {
            for (auto r : region) used[r] = 0;
            used[seed] = 2;  // tried as a seed; may still join another region
        }
    }
    JointGroups out;
    // Local improvement: a leftover joins the cheapest region with room among its neighbours'.
    for (std::size_t b = 0; b < n; ++b) {
        if (used[b] == 1) continue;
        std::optional<std::size_t> target;
        double best = 1e300;
        for (auto [k, end] = nbrs(b); k != end; ++k) {
            std::size_t nb = *k;
            int r = region_of[nb];
            if (r < 0 || static_cast<int>(regions[static_cast<std::size_t>(r)].size()) >= p.joint_max_orgs) continue;
            auto seed = regions[static_cast<std::size_t>(r)][0];
            double m = dist(seed, b);
            if (m <= p.joint_max_m && m + penalty(seed, b) < best) {
                best = m + penalty(seed, b);
                target = static_cast<std::size_t>(r);
            }
        }
        if (target) {
            regions[*target].push_back(b);
            region_of[b] = static_cast<int>(*target);
            used[b] = 1;
        } else {
            out.leftovers.push_back(members[b]);
        }
    }
    for (auto& region : regions) {
        for (auto& r : region) r = members[r];
        out.regions.push_back(std::move(region));
    }
    return out;
}

// Each organization's instructor (an index, or -1) and how many organizations each instructor
// covers now: one pass with one hash lookup per assigned organization.
struct InstructorIndex {
    std::vector<int> of_org;
    std::vector<int> load;
};

// The ids in an open-addressing table (Abseil's): at scale 500, 760,000 instructors and a
// million lookups took 0.3 s in std::unordered_map, a cache miss or three per node.
InstructorIndex index_instructors(const Dataset& d) {
    detail::ProfileLaps prof("instructors index");
    absl::flat_hash_map<std::string_view, int> index;
    index.reserve(d.instructors.size());
    for (std::size_t j = 0; j < d.instructors.size(); ++j) index.emplace(d.instructors[j].id, static_cast<int>(j));
    prof.lap("map");
    InstructorIndex out{std::vector<int>(d.orgs.size(), -1), std::vector<int>(d.instructors.size(), 0)};
    detail::on_threads(detail::default_threads(), d.orgs.size(), [&](std::size_t i) {
        if (const auto& id = d.orgs[i].instructor_id)
            if (auto it = index.find(*id); it != index.end()) out.of_org[i] = it->second;
    });
    prof.lap("lookups");
    for (int j : out.of_org)
        if (j >= 0) ++out.load[static_cast<std::size_t>(j)];
    return out;
}

std::vector<Flag> flags_of(const Dataset& d, const InstructorIndex& instructors, int min_members, int joint_max_orgs) {
    detail::ProfileLaps prof("flags");
    std::vector<Flag> flags;
    const auto& load = instructors.load;
    // The organizations named by standalone branches, to find those no longer operating
    // without a map of every organization.
    absl::flat_hash_map<std::string_view, const Organization*> in_standalone;
    for (const auto& b : d.branches)
        if (b.type == BranchType::standalone)
            for (const auto& id : b.org_ids) in_standalone.emplace(id, nullptr);
    for (const auto& o : d.orgs)
        if (auto it = in_standalone.find(o.id); it != in_standalone.end()) it->second = &o;
    prof.lap("standalone map");
    for (const auto& b : d.branches) {
        if (b.type == BranchType::standalone) {
            bool shell = b.members < min_members;
            std::string why = shell ? "党员只有 " + std::to_string(b.members) + " 名" : "";
            for (const auto& id : b.org_ids)
                if (auto it = in_standalone.find(id); it->second && !it->second->operating()) {
                    shell = true;
                    why += std::string(why.empty() ? "" : "，") + it->second->name + "已" +
                           std::string(chinese_name(it->second->status));
                }
            if (shell) flags.push_back({"shell_branch", {std::to_string(b.id)}, "空壳党组织" + b.name + "：" + why});
        }
        if (b.type == BranchType::joint && static_cast<int>(b.org_ids.size()) > joint_max_orgs)
            flags.push_back({"joint_over_cap",
                             {std::to_string(b.id)},
                             "联合党支部" + b.name + "覆盖 " + std::to_string(b.org_ids.size()) + " 家组织（最多 " +
                                 std::to_string(joint_max_orgs) + " 家）"});
    }
    for (std::size_t i = 0; i < d.orgs.size(); ++i) {
        const auto& o = d.orgs[i];
        if (o.operating() && o.employees >= 50 && o.party_members == 0)
            flags.push_back(
                {"no_members", {o.id}, o.name + "：从业人员 " + std::to_string(o.employees) + " 人，没有党员"});
    }
    for (std::size_t j = 0; j < d.instructors.size(); ++j)
        if (load[j] > d.instructors[j].capacity)
            flags.push_back({"instructor_over_capacity",
                             {d.instructors[j].id},
                             d.instructors[j].name + "联系 " + std::to_string(load[j]) + " 家组织，超过上限 " +
                                 std::to_string(d.instructors[j].capacity) + " 家"});
    prof.lap("branches, members, capacity");
    // Credit codes that are not valid GB 32100-2015 codes (the registry row went in, flagged).
    for (const auto& o : d.orgs)
        if (!o.credit_code.empty())
            if (auto why = credit_code_problem(o.credit_code))
                flags.push_back(
                    {"invalid_credit_code", {o.id}, o.name + "：统一社会信用代码 " + o.credit_code + " " + *why});
    // Duplicate credit codes: organizations sorted by the hash of their code (cheap to compare;
    // a million strings sorted by memcmp took a third of a second), equal codes then checked.
    prof.lap("invalid codes");
    struct Coded {
        std::size_t hash;
        std::uint32_t org;
    };
    std::vector<Coded> codes;
    codes.reserve(d.orgs.size());
    for (std::size_t i = 0; i < d.orgs.size(); ++i)
        if (!d.orgs[i].credit_code.empty())
            codes.push_back({std::hash<std::string_view>{}(d.orgs[i].credit_code), static_cast<std::uint32_t>(i)});
    const auto& orgs = d.orgs;
    std::sort(codes.begin(), codes.end(), [&](const Coded& x, const Coded& y) {
        if (x.hash != y.hash) return x.hash < y.hash;
        if (int c = orgs[x.org].credit_code.compare(orgs[y.org].credit_code)) return c < 0;
        return orgs[x.org].id < orgs[y.org].id;
    });
    std::vector<std::pair<std::string_view, std::vector<std::string>>> duplicates;
    for (std::size_t a = 0; a < codes.size();) {
        std::size_t b = a + 1;
        while (b < codes.size() && codes[b].hash == codes[a].hash &&
               orgs[codes[b].org].credit_code == orgs[codes[a].org].credit_code)
            ++b;
        if (b - a > 1) {
            auto& [code, ids] = duplicates.emplace_back(orgs[codes[a].org].credit_code, std::vector<std::string>{});
            for (std::size_t k = a; k < b; ++k) ids.push_back(orgs[codes[k].org].id);
        }
        a = b;
    }
    std::sort(duplicates.begin(), duplicates.end());  // in code order, as before
    for (auto& [code, ids] : duplicates)
        flags.push_back({"duplicate_credit_code", ids,
                         "统一社会信用代码 " + std::string(code) + " 被 " + std::to_string(ids.size()) + " 家组织重复使用"});
    prof.lap("found (beside the assignment)");
    return flags;
}

}  // namespace

std::vector<Flag> rule4_flags(const Dataset& d, int min_members, int joint_max_orgs) {
    return flags_of(d, index_instructors(d), min_members, joint_max_orgs);
}

namespace {

// One run of the planner: the data, the parameters and what the steps hand on to each other.
// make_plan calls the steps in order: where organizations are, the clusters, then rules 1–4.
class PlanRun {
public:
    PlanRun(const Dataset& d, const PlanParams& p, Plan& plan) : d(d), p(p), plan(plan), timer(plan) {
        taken.assign(d.orgs.size(), 0);
    }

    /// Where each organization is: the plan's level, its street, its grid cell (its community
    /// is looked up later, for the few that rule 2 leaves to their community).
    void locate() {
        report("locate", 0);
        std::vector<int> level_pos(d.areas.size(), -1);  // index in d.areas -> index in level_areas
        for (std::size_t k = 0; k < d.areas.size(); ++k)
            if (d.areas[k].level == p.level) {
                level_pos[k] = static_cast<int>(level_areas.size());
                level_areas.push_back(&d.areas[k]);
            }
        detail::ProfileLaps prof("locate");
        at_level = locate_orgs(d, p.level);
        prof.lap(std::string(to_string(p.level)));
        // Streets from the plan's level: a cell strictly inside one street hands it to its organizations.
        street = p.level == Level::street ? at_level : locate_orgs(d, Level::street, at_level);
        prof.lap("street");
        grid = p.level == Level::grid ? at_level : locate_orgs(d, Level::grid);
        area_of.assign(d.orgs.size(), -1);
        for (std::size_t i = 0; i < d.orgs.size(); ++i)
            if (at_level[i] >= 0) area_of[i] = level_pos[static_cast<std::size_t>(at_level[i])];
        // A plan for one area: the organizations outside it are left as they are (taken).
        if (!p.area.empty()) {
            auto a = std::find_if(d.areas.begin(), d.areas.end(), [&](const Area& x) { return x.code == p.area; });
            if (a == d.areas.end()) throw invalid_argument("no area " + p.area);
            const auto& in = a->level == p.level    ? at_level
                             : a->level == Level::street ? street
                             : a->level == Level::grid   ? grid
                                                         : (scope_where = locate_orgs(d, a->level));
            int index = static_cast<int>(a - d.areas.begin());
            in_scope.assign(d.orgs.size(), 0);
            for (std::size_t i = 0; i < d.orgs.size(); ++i) {
                in_scope[i] = in[i] == index;
                if (!in_scope[i]) taken[i] = 1;
            }
        }
        timer.lap("locate");
    }

    /// The area graph (fuzzy contiguity), the uncovered clusters and the Gi* hot spots.
    void find_clusters() {
        report("adjacency", 0);
        std::vector<MultiPolygon> shapes;
        for (auto* a : level_areas) shapes.push_back(a->shape);
        AdjacencyParams ap;
        ap.mode = Contiguity::queen;
        ap.tolerance_m = p.tolerance_m;
        graph = build_adjacency(std::move(shapes), ap);
        timer.lap("adjacency");

        na = level_areas.size();
        std::vector<long long> unc(na, 0), op(na, 0);
        std::vector<std::vector<Id>> unc_orgs(na);
        for (std::size_t i = 0; i < d.orgs.size(); ++i) {
            if (area_of[i] < 0) continue;
            int k = area_of[i];
            if (d.orgs[i].operating()) ++op[k];
            if (uncovered(d.orgs[i])) {
                ++unc[k];
                unc_orgs[k].push_back(d.orgs[i].id);
            }
        }
        // Clusters a planner can act on: contiguous areas whose smoothed uncovered rate is at least
        // one standard deviation (of the areas' true rates) above the level's overall rate, ranked
        // by uncovered organizations. (Every area holding an uncovered organization made one
        // cluster of everything at scale; "above the overall rate" still joined a sixth of the
        // grid into one.)
        double overall = 0, spread_sd = 0;
        auto smoothed = smoothed_rates(unc, op, overall, spread_sd);
        plan.cluster_rate = overall + spread_sd;
        {
            // Strictly above the overall rate too: with no variation beyond chance (s² = 0) every
            // smoothed rate is the overall one and no area stands out.
            auto hot = [&](std::size_t i) {
                return unc[i] > 0 && smoothed[i] > overall && smoothed[i] >= plan.cluster_rate;
            };
            AdjacencyGraph sub;
            sub.areas = na;
            for (auto [a, b] : graph.links)
                if (hot(static_cast<std::size_t>(a)) && hot(static_cast<std::size_t>(b))) sub.links.emplace_back(a, b);
            summarize(sub);
            std::map<int, Cluster> by_component;
            for (std::size_t i = 0; i < na; ++i) {
                if (!hot(i)) continue;
                auto& c = by_component[sub.component[i]];
                c.areas.push_back(level_areas[i]->code);
                c.uncovered += unc[i];
                c.operating += op[i];
                c.orgs.insert(c.orgs.end(), unc_orgs[i].begin(), unc_orgs[i].end());
            }
            for (auto& [id, c] : by_component) plan.clusters.push_back(std::move(c));
            std::stable_sort(plan.clusters.begin(), plan.clusters.end(),
                             [](const Cluster& a, const Cluster& b) { return a.uncovered > b.uncovered; });
            for (std::size_t i = 0; i < plan.clusters.size(); ++i) plan.clusters[i].id = static_cast<int>(i + 1);
        }
        hotspots(smoothed, graph, p.alpha, level_areas, unc, op, plan);
        timer.lap("clusters+hotspots");
    }

    /// Rule 1: a standalone branch for every organization with enough members and none yet.
    void propose_standalone() {
        for (std::size_t i = 0; i < d.orgs.size(); ++i) {
            const auto& o = d.orgs[i];
            if (!o.operating() || o.branch_id || taken[i] || o.party_members < p.min_members) continue;
            Proposal pr;
            pr.id = new_id("S");
            pr.type = "standalone";
            pr.orgs = {o.id};
            pr.members = o.party_members;
            pr.area = area_code(street, i);
            add(std::move(pr), {i});
            taken[i] = 1;
        }
        timer.lap("standalone");
    }

    /// Rule 2: joint branches of near organizations of similar industry, street by street;
    /// what cannot be grouped is left for affiliation.
    void propose_joint() {
        report("joint", 0);
        detail::ProfileLaps prof("joint");
        std::map<std::string, std::vector<std::size_t>> by_street;
        for (std::size_t i = 0; i < d.orgs.size(); ++i) {
            const auto& o = d.orgs[i];
            if (!o.operating() || o.branch_id || taken[i] || o.party_members < 1 || o.party_members >= p.min_members)
                continue;
            by_street[area_code(street, i)].push_back(i);
        }
        prof.lap("by street");
        // Streets are independent: grouped on both cores, proposals then written in street order.
        std::vector<std::pair<const std::string*, const std::vector<std::size_t>*>> streets;
        for (const auto& [code, members] : by_street) streets.emplace_back(&code, &members);
        std::vector<JointGroups> groups(streets.size());
        // Largest first, one street at a time: a hundred streets of very unequal size (batches
        // of 64 streets left one core idle for a third of the stage at scale 500).
        std::vector<std::size_t> order(streets.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return streets[a].second->size() > streets[b].second->size();
        });
        detail::on_threads(
            detail::default_threads(), order.size(),
            [&](std::size_t k) { groups[order[k]] = joint_groups(d, *streets[order[k]].second, p); }, 1);
        prof.lap("grouped");
        // Room for these proposals and the affiliations of what is left at once: growing a
        // vector of 200,000 proposals step by step moved them and touched fresh memory each time.
        std::size_t regions = 0, grouped = 0, left = 0;
        for (const auto& g : groups) {
            regions += g.regions.size();
            for (const auto& r : g.regions) grouped += r.size();
            left += g.leftovers.size();
        }
        plan.proposals.reserve(plan.proposals.size() + regions + left);
        proposal_instructor.reserve(plan.proposals.size() + regions + left);
        proposal_orgs.reserve(proposal_orgs.size() + grouped + left);
        proposal_start.reserve(plan.proposals.size() + regions + left + 1);
        for (std::size_t s = 0; s < streets.size(); ++s) {
            for (const auto& region : groups[s].regions) {
                Proposal pr;
                pr.id = new_id("J");
                pr.type = "joint";
                pr.area = *streets[s].first;
                for (auto i : region) {
                    pr.orgs.push_back(d.orgs[i].id);
                    pr.members += d.orgs[i].party_members;
                    pr.cost_m += i == region[0] ? 0 : haversine_m(d.orgs[region[0]].location, d.orgs[i].location);
                    taken[i] = 1;
                }
                add(std::move(pr), region);
            }
            leftovers.insert(leftovers.end(), groups[s].leftovers.begin(), groups[s].leftovers.end());
        }
        timer.lap("joint");
    }

    /// Rule 3, first part: what rule 2 could not group is affiliated to its community.
    void propose_affiliation() {
        std::vector<int> community(d.orgs.size(), -1);
        if (p.level == Level::community) {
            community = at_level;
        } else if (!leftovers.empty()) {
            std::vector<const MultiPolygon*> shapes;
            std::vector<int> index;
            for (std::size_t k = 0; k < d.areas.size(); ++k)
                if (d.areas[k].level == Level::community) {
                    shapes.push_back(&d.areas[k].shape);
                    index.push_back(static_cast<int>(k));
                }
            std::vector<Point> points;
            for (auto i : leftovers) points.push_back(d.orgs[i].location);
            auto hits = locate_points(shapes, points);
            for (std::size_t k = 0; k < leftovers.size(); ++k)
                if (hits[k] >= 0) community[leftovers[k]] = index[static_cast<std::size_t>(hits[k])];
        }
        for (auto i : leftovers) {
            Proposal pr;
            pr.id = new_id("A");
            pr.type = "affiliate";
            pr.orgs = {d.orgs[i].id};
            pr.members = d.orgs[i].party_members;
            pr.area = area_code(community, i);
            add(std::move(pr), {i});
            taken[i] = 1;
        }
    }

    /// Rule 4's flags need nothing the assignment decides: they are found on a thread of their
    /// own while it runs (mostly on one core: its setup, the flow, the contiguity pass).
    std::future<std::vector<Flag>> start_flags() {
        report("instructors", 0);
        instructors = index_instructors(d);
        timer.lap("instructors: index");
        return std::async(std::launch::async,
                          [this] { return flags_of(d, instructors, p.min_members, p.joint_max_orgs); });
    }

    /// Rule 3, second part: the rest (no branch, no instructor, no proposal) to instructors,
    /// optimally under the spare capacity that existing assignments leave.
    void propose_instructors() {
        build_assignment_problem();
        timer.lap("instructors: setup");
        assignment = solve_assignment(ap2);
        plan.instructor_k = assignment.k;
        timer.lap("instructors: assignment");
        if (p.cost == CostMode::planning && !todo.empty()) keep_territories_contiguous();
        timer.lap("instructors: contiguity");
        instructor_proposals();
        timer.lap("instructors");
    }

    /// What a planner reads beside each proposal: its street (where most of its organizations
    /// lie), its box, and one sentence on why it was made.
    void describe() {
        auto km = [](double m) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.1f", m / 1000);
            return std::string(buf);
        };
        proposal_start.push_back(proposal_orgs.size());
        // Proposals are described independently: on both cores, each from its organizations'
        // indices kept when it was made (a map of a million ids took a second at scale 500).
        detail::on_threads(detail::default_threads(), plan.proposals.size(), [&](std::size_t k) {
            auto& pr = plan.proposals[k];
            const Span members{proposal_orgs.data() + proposal_start[k], proposal_orgs.data() + proposal_start[k + 1]};
            if (members.empty()) return;
            // The street most of them lie in; of equal counts, the first in the areas' order.
            std::vector<std::pair<int, int>> streets;  // street, count
            BBox box;
            const auto& first = d.orgs[members.front()];
            bool one_industry = !first.industry.empty();
            for (auto i : members) {
                auto s = std::find_if(streets.begin(), streets.end(), [&](const auto& e) { return e.first == street[i]; });
                if (s == streets.end())
                    streets.emplace_back(street[i], 1);
                else
                    ++s->second;
                box.expand(d.orgs[i].location);
                one_industry = one_industry && d.orgs[i].industry == first.industry;
            }
            int best = streets.front().first, most = 0;
            for (auto [code, n] : streets)
                if (n > most || (n == most && code < best)) best = code, most = n;
            if (best >= 0) {
                pr.street = d.areas[static_cast<std::size_t>(best)].code;
                pr.street_name = d.areas[static_cast<std::size_t>(best)].name;
            }
            pr.bbox = {box.minx, box.miny, box.maxx, box.maxy};
            std::string same = one_industry ? "，同属" + industry_name(first.industry) : std::string();
            double spread = 0;
            for (auto i : members) spread = std::max(spread, haversine_m(first.location, d.orgs[i].location));
            if (pr.type == "standalone") {
                pr.reason = first.name + "有正式党员" + std::to_string(first.party_members) + "名，达到" +
                            std::to_string(p.min_members) + "名，可单独组建党支部";
            } else if (pr.type == "joint") {
                pr.reason = std::to_string(members.size()) + "家组织各有党员不足" + std::to_string(p.min_members) +
                            "名、合计" + std::to_string(pr.members) + "名，彼此相距不超过" + km(spread) + "公里" +
                            same + "，可联合组建党支部";
            } else if (pr.type == "affiliate") {
                pr.reason = first.name + "有党员" + std::to_string(first.party_members) + "名，不足" +
                            std::to_string(p.min_members) + "名，" + km(p.joint_max_m) +
                            "公里内没有可联合的组织，挂靠所在社区党组织";
            } else if (pr.type == "instructor" && pr.instructor_id) {
                const Instructor* in =
                    proposal_instructor[k] >= 0 ? &d.instructors[static_cast<std::size_t>(proposal_instructor[k])] : nullptr;
                std::string name = in ? in->name : *pr.instructor_id;
                double total = 0;
                if (in)
                    for (auto i : members) total += haversine_m(in->home, d.orgs[i].location);
                pr.reason = std::to_string(members.size()) + "家组织没有党员或党员不足，不能建支部，由" + name +
                            "联系（平均距离" + km(total / static_cast<double>(members.size())) + "公里" +
                            (p.cost == CostMode::planning ? "，优先同街道、同行业" : "") + "）";
            }
        }, 256);
        timer.lap("describe");
    }

    /// Rule 4: the flags found beside the assignment, and organizations outside every grid cell.
    void flag(std::vector<Flag> flags) {
        if (in_scope.empty()) {
            plan.flags = std::move(flags);
        } else {  // a plan for one area: the flags of its organizations (and of none in particular)
            std::unordered_map<std::string_view, std::size_t> index;
            for (std::size_t i = 0; i < d.orgs.size(); ++i) index.emplace(d.orgs[i].id, i);
            for (auto& f : flags) {
                bool mine = f.ids.empty() || std::any_of(f.ids.begin(), f.ids.end(), [&](const std::string& id) {
                    auto it = index.find(id);
                    return it != index.end() && in_scope[it->second];
                });
                if (mine) plan.flags.push_back(std::move(f));
            }
        }
        for (std::size_t i = 0; i < d.orgs.size(); ++i)
            if (grid[i] < 0 && (in_scope.empty() || in_scope[i]))
                plan.flags.push_back(
                    {"outside_grid", {d.orgs[i].id}, d.orgs[i].name + "不在任何网格内"});
        timer.lap("flags");
        report("plan", 1);
    }

private:
    // The assignment's organizations (todo), instructors with their spare capacity, and, in
    // planning mode, the cost with its street and industry penalties and the candidate tiers.
    void build_assignment_problem() {
        const auto& load = instructors.load;
        for (std::size_t i = 0; i < d.orgs.size(); ++i)
            if (uncovered(d.orgs[i]) && !taken[i]) {
                todo.push_back(i);
                ap2.orgs.push_back(d.orgs[i].location);
            }
        for (std::size_t j = 0; j < d.instructors.size(); ++j) {
            ap2.instructors.push_back(d.instructors[j].home);
            ap2.spare.push_back(std::max(0, d.instructors[j].capacity - load[j]));
        }
        // Planning costs: streets and industries as small integers (the cost is evaluated millions
        // of times); per instructor the street of the unit and the industries, sorted (none = every
        // one). Kept here, outside the branch, so the cost can refer to them.
        if (p.cost == CostMode::planning) {
            ap2.max_penalty_m = p.street_penalty_m + p.industry_penalty_m;
            absl::flat_hash_map<std::string_view, int> street_ids, industry_ids;
            auto id_of = [](absl::flat_hash_map<std::string_view, int>& ids, std::string_view k) {
                return k.empty() ? -1 : ids.emplace(k, static_cast<int>(ids.size())).first->second;
            };
            org_street.resize(todo.size());
            org_industry.resize(todo.size());
            for (std::size_t t = 0; t < todo.size(); ++t) {
                org_street[t] = street[todo[t]] < 0
                                    ? -1
                                    : id_of(street_ids, d.areas[static_cast<std::size_t>(street[todo[t]])].code);
                org_industry[t] = id_of(industry_ids, d.orgs[todo[t]].industry);
            }
            timer.lap("instructors: org keys");
            unit.resize(d.instructors.size());
            skill_first.reserve(d.instructors.size() + 1);
            for (std::size_t j = 0; j < d.instructors.size(); ++j) {
                std::string_view industries = d.instructors[j].industries;
                unit[j] = id_of(street_ids, d.instructors[j].unit);
                std::size_t start = 0;
                while (start < industries.size()) {
                    auto comma = std::min(industries.find(',', start), industries.size());
                    if (comma > start)
                        skill_ids.push_back(id_of(industry_ids, industries.substr(start, comma - start)));
                    start = comma + 1;
                }
                std::sort(skill_ids.begin() + skill_first.back(), skill_ids.end());
                skill_first.push_back(static_cast<std::uint32_t>(skill_ids.size()));
            }
            // Tiers for the exact candidate search, each a lower bound of the penalty for the
            // instructors first met in it: the street's specialists in the org's industry (none),
            // the street's instructors without a speciality (none: they take every industry), the
            // street's others (the industry penalty), then everyone else (the street penalty).
            timer.lap("instructors: skills");
            const int stride = static_cast<int>(industry_ids.size()) + 1;
            AssignmentProblem::Tier specialists, generalists, by_street;
            for (std::size_t t = 0; t < todo.size(); ++t) {
                bool both = org_street[t] >= 0 && org_industry[t] >= 0;
                specialists.org_key.push_back(both ? org_street[t] * stride + org_industry[t] : -1);
                specialists.floor_m.push_back(0);
                generalists.org_key.push_back(org_street[t]);
                generalists.floor_m.push_back(0);
                by_street.org_key.push_back(org_street[t]);
                by_street.floor_m.push_back(org_industry[t] < 0 ? 0 : p.industry_penalty_m);
            }
            std::vector<int> keys;
            for (std::size_t j = 0; j < d.instructors.size(); ++j) {
                keys.clear();
                for (auto [k, end] = skills_of(j); k != end; ++k)
                    if (unit[j] >= 0) keys.push_back(unit[j] * stride + *k);
                specialists.add_instructor(keys.begin(), keys.end());
                bool street = unit[j] >= 0;
                if (street && skills_of(j).first == skills_of(j).second)
                    generalists.add_instructor({unit[j]});
                else
                    generalists.add_instructor({});
                if (street)
                    by_street.add_instructor({unit[j]});
                else
                    by_street.add_instructor({});
            }
            ap2.tiers.push_back(std::move(specialists));  // moved: a braced list would copy each tier
            ap2.tiers.push_back(std::move(generalists));
            ap2.tiers.push_back(std::move(by_street));
            ap2.global_floor_m = p.street_penalty_m;
            // The cosines of every latitude once (the cost is asked some ten million times).
            org_cos.resize(ap2.orgs.size());
            instructor_cos.resize(ap2.instructors.size());
            detail::on_threads(detail::default_threads(), org_cos.size(),
                               [&](std::size_t i) { org_cos[i] = cos_lat(ap2.orgs[i]); }, 4096);
            detail::on_threads(detail::default_threads(), instructor_cos.size(),
                               [&](std::size_t j) { instructor_cos[j] = cos_lat(ap2.instructors[j]); }, 4096);
            ap2.cost = [this](std::size_t i, std::size_t j) {
                // The problem's own copies of the points: two flat arrays, not two records.
                double c = haversine_m(ap2.orgs[i], ap2.instructors[j], org_cos[i], instructor_cos[j]);
                if (other_street(i, j)) c += p.street_penalty_m;
                if (!skilled(j, org_industry[i])) c += p.industry_penalty_m;
                return c;
            };
        }
    }

    // The planning cost's two rules: instructor j is from another street than organization t
    // (ap2's order; an instructor without a unit is from no street), or lacks its industry.
    bool other_street(std::size_t t, std::size_t j) const { return unit[j] < 0 || unit[j] != org_street[t]; }
    bool skilled(std::size_t j, int industry) const {
        auto [begin, end] = skills_of(j);
        return begin == end || industry < 0 || std::binary_search(begin, end, industry);
    }
    std::pair<const int*, const int*> skills_of(std::size_t j) const {
        return {skill_ids.data() + skill_first[j], skill_ids.data() + skill_first[j + 1]};
    }

    // Repair pass: an organization whose area touches none of its instructor's other areas
    // (existing and new) moves to an instructor with room whose territory holds or touches
    // that area, when it costs at most contiguity_max_m more. The optimum of the flow is given
    // up only there, and the extra cost is reported.
    void keep_territories_contiguous() {
        detail::ProfileLaps prof("contiguity");
        std::vector<std::vector<int>> neighbours(na);
        for (auto [a, b] : graph.links) {
            neighbours[a].push_back(b);
            neighbours[b].push_back(a);
        }
        // Territories: per instructor, (area, organizations there) in a short vector, two kept
        // inline (an instructor covers one or two areas as a rule: 760,000 vectors were as many
        // allocations at scale 500); per area, the instructors present, south to north once
        // the assignment's are in (sorted), so that a search walks out from an organization's
        // latitude and stops where the difference of latitude alone costs more than the best.
        std::vector<absl::InlinedVector<std::pair<int, int>, 2>> territory(d.instructors.size());
        std::vector<std::vector<std::uint32_t>> present(na);
        bool sorted = false;
        auto south_of = [&](std::uint32_t a, std::uint32_t b) {
            double ya = ap2.instructors[a].y, yb = ap2.instructors[b].y;
            return ya < yb || (ya == yb && a < b);
        };
        auto count_in = [&](std::size_t j, int area) -> int* {
            for (auto& [a, c] : territory[j])
                if (a == area) return &c;
            return nullptr;
        };
        auto add = [&](std::size_t j, int area) {
            if (int* c = count_in(j, area)) {
                ++*c;
                return;
            }
            territory[j].emplace_back(area, 1);
            auto& here = present[static_cast<std::size_t>(area)];
            auto k = static_cast<std::uint32_t>(j);
            here.insert(sorted ? std::lower_bound(here.begin(), here.end(), k, south_of) : here.end(), k);
        };
        auto remove = [&](std::size_t j, int area) {
            if (--*count_in(j, area) > 0) return;
            auto& t = territory[j];
            t.erase(std::find_if(t.begin(), t.end(), [&](auto& e) { return e.first == area; }));
            auto& here = present[static_cast<std::size_t>(area)];
            here.erase(std::find(here.begin(), here.end(), static_cast<std::uint32_t>(j)));
        };
        for (std::size_t i = 0; i < d.orgs.size(); ++i)
            if (instructors.of_org[i] >= 0 && area_of[i] >= 0)
                add(static_cast<std::size_t>(instructors.of_org[i]), area_of[i]);
        prof.lap("territories now");
        std::vector<int> left(ap2.spare);
        for (std::size_t t = 0; t < todo.size(); ++t) {
            int j = assignment.instructor_of[t];
            if (j < 0) continue;
            --left[static_cast<std::size_t>(j)];
            if (area_of[todo[t]] >= 0) add(static_cast<std::size_t>(j), area_of[todo[t]]);
        }
        auto touches = [&](std::size_t j, int area) {
            if (int* c = count_in(j, area); c && *c > 1) return true;  // another of its organizations is there
            for (int nb : neighbours[static_cast<std::size_t>(area)])
                if (count_in(j, nb)) return true;
            return false;
        };
        for (auto& here : present) std::sort(here.begin(), here.end(), south_of);
        sorted = true;
        prof.lap("territories assigned");
        std::vector<std::uint32_t> seen(d.instructors.size(), 0);  // t + 1 once visited for todo[t]
        std::size_t n_offered = 0, n_considered = 0, n_costed = 0, n_orgs = 0;
        for (std::size_t t = 0; t < todo.size(); ++t) {
            int j = assignment.instructor_of[t];
            int area = area_of[todo[t]];
            if (j < 0 || area < 0) continue;
            auto ju = static_cast<std::size_t>(j);
            if (territory[ju].size() <= 1 || touches(ju, area)) continue;
            double base = ap2.cost(t, ju);
            ++n_orgs;
            std::optional<std::size_t> best;
            double best_cost = base + p.contiguity_max_m;
            const double lat = d.orgs[todo[t]].location.y;
            // Each instructor present in the area or a neighbour, once (a stamp per instructor
            // instead of gathering, sorting and deduplicating thousands per organization). The
            // cheapest wins, ties to the highest index, so the order of the visit does not matter.
            auto consider = [&](std::uint32_t k) {
                ++n_offered;
                if (seen[k] == t + 1 || k == ju || left[k] <= 0) return;
                ++n_considered;
                seen[k] = static_cast<std::uint32_t>(t + 1);
                // The great-circle distance is at least the difference of latitude, and the
                // penalties are two comparisons: a cheap bound that skips most of the instructors
                // of a busy area before the exact cost (the penalties as the cost adds them).
                double penalties = (other_street(t, k) ? p.street_penalty_m : 0.0) +
                                   (skilled(k, org_industry[t]) ? 0.0 : p.industry_penalty_m);
                if (std::fabs(ap2.instructors[k].y - lat) * kMetresPerDegreeLatitude + penalties > best_cost) return;
                ++n_costed;
                double c = ap2.cost(t, k);
                if (c < best_cost || (c == best_cost && (!best || k > *best))) {
                    best_cost = c;
                    best = k;
                }
            };
            // Out from the organization's latitude both ways, while the difference of latitude
            // alone costs no more than the best so far (it only falls).
            auto near = [&](const std::vector<std::uint32_t>& here) {
                auto at = std::lower_bound(here.begin(), here.end(), lat,
                                           [&](std::uint32_t k, double y) { return ap2.instructors[k].y < y; });
                for (auto k = at; k != here.end(); ++k) {
                    if ((ap2.instructors[*k].y - lat) * kMetresPerDegreeLatitude > best_cost) break;
                    consider(*k);
                }
                for (auto k = at; k != here.begin();) {
                    --k;
                    if ((lat - ap2.instructors[*k].y) * kMetresPerDegreeLatitude > best_cost) break;
                    consider(*k);
                }
            };
            near(present[static_cast<std::size_t>(area)]);
            for (int nb : neighbours[static_cast<std::size_t>(area)]) near(present[static_cast<std::size_t>(nb)]);
            if (!best) continue;
            remove(ju, area);
            add(*best, area);
            ++left[ju];
            --left[*best];
            assignment.instructor_of[t] = static_cast<int>(*best);
            ++plan.contiguity_moves;
            plan.contiguity_cost_m += best_cost - base;
        }
        if (prof.on())  // what the bounds save, for tuning
            prof.lap("moves: " + std::to_string(n_orgs) + " organizations searched, " + std::to_string(n_offered) +
                     " instructors offered, " + std::to_string(n_considered) + " considered, " +
                     std::to_string(n_costed) + " costed");
    }

    // One proposal per instructor, with the organizations the assignment gave them.
    void instructor_proposals() {
        detail::ProfileLaps prof("instructor proposals");
        // A proposal per instructor, made in the order of the instructors (slot: where an
        // instructor's is, by index; a map of them cost a fifth of a second at scale 500).
        std::vector<int> slot(d.instructors.size(), -1);
        std::vector<std::size_t> who;  // the instructors with a proposal, in the order met
        std::vector<Proposal> made;
        std::vector<std::vector<std::size_t>> orgs_of;
        for (std::size_t t = 0; t < todo.size(); ++t) {
            int j = assignment.instructor_of[t];
            if (j < 0) {
                ++plan.unassigned;
                continue;
            }
            auto ju = static_cast<std::size_t>(j);
            if (slot[ju] < 0) {
                slot[ju] = static_cast<int>(made.size());
                who.push_back(ju);
                auto& pr = made.emplace_back();
                pr.type = "instructor";
                pr.instructor_id = d.instructors[ju].id;
                orgs_of.emplace_back();
            }
            auto k = static_cast<std::size_t>(slot[ju]);
            orgs_of[k].push_back(todo[t]);
            auto& pr = made[k];
            pr.orgs.push_back(d.orgs[todo[t]].id);
            pr.cost_m += ap2.cost ? ap2.cost(t, ju) : haversine_m(ap2.orgs[t], ap2.instructors[ju]);
            pr.members += d.orgs[todo[t]].party_members;
        }
        std::sort(who.begin(), who.end());
        prof.lap("grouped");
        plan.proposals.reserve(plan.proposals.size() + who.size());
        proposal_instructor.reserve(plan.proposals.size() + who.size());
        proposal_start.reserve(plan.proposals.size() + who.size() + 1);
        proposal_orgs.reserve(proposal_orgs.size() + todo.size());
        for (auto j : who) {
            auto k = static_cast<std::size_t>(slot[j]);
            auto& pr = made[k];
            pr.id = new_id("I");
            pr.cost_m = std::round(pr.cost_m * 100) / 100;
            add(std::move(pr), orgs_of[k], static_cast<int>(j));
        }
    }

    void report(const char* stage, double fraction) const {
        if (p.progress) p.progress(stage, fraction);
    }
    std::string area_code(const std::vector<int>& where, std::size_t i) const {
        return where[i] >= 0 ? d.areas[static_cast<std::size_t>(where[i])].code : std::string();
    }
    std::string new_id(const char* prefix) { return std::string(prefix) + "-" + std::to_string(next_id++); }
    /// A proposal, with the indices of its organizations and of its instructor (or -1) kept
    /// beside it for describe(): a map of a million ids took a second at scale 500.
    void add(Proposal pr, const std::vector<std::size_t>& orgs, int instructor = -1) {
        plan.proposals.push_back(std::move(pr));
        proposal_start.push_back(proposal_orgs.size());
        proposal_orgs.insert(proposal_orgs.end(), orgs.begin(), orgs.end());
        proposal_instructor.push_back(instructor);
    }

    const Dataset& d;
    const PlanParams& p;
    Plan& plan;
    Timer timer;
    // locate
    std::vector<const Area*> level_areas;
    std::vector<int> at_level, street, grid;
    std::vector<int> scope_where;  // where at the scope area's level, when it is none of the above
    std::vector<char> in_scope;    // per organization, for a plan of one area (empty: all)
    std::vector<int> area_of;  // per organization: its area of the plan's level (index in level_areas)
    // find_clusters
    AdjacencyGraph graph;
    std::size_t na = 0;
    // the proposals so far
    std::vector<int> proposal_instructor;  // proposal k's instructor (an index), or -1
    std::vector<std::size_t> proposal_orgs, proposal_start;  // proposal k's organizations: from proposal_orgs[proposal_start[k]]
    std::vector<char> taken;             // per organization: a proposal names it
    std::vector<std::size_t> leftovers;  // rule 2's ungrouped, for affiliation
    int next_id = 1;
    // the instructors' assignment
    InstructorIndex instructors;
    AssignmentProblem ap2;
    std::vector<std::size_t> todo;  // the organizations assigned, in ap2's order
    std::vector<int> org_street, org_industry, unit;
    std::vector<double> org_cos, instructor_cos;  // cos_lat of ap2's points, for the planning cost
    // Each instructor's industries (ids, sorted) in one array: instructor j's are
    // skill_ids[skill_first[j]] .. skill_ids[skill_first[j + 1]] (a vector each was 760,000
    // allocations at scale 500).
    std::vector<int> skill_ids;
    std::vector<std::uint32_t> skill_first{0};
    Assignment assignment;
};

}  // namespace

Plan make_plan(const Dataset& d, const PlanParams& p) {
    Plan plan;
    plan.level = p.level;
    plan.cost = p.cost;
    PlanRun run(d, p, plan);
    run.locate();
    run.find_clusters();
    run.propose_standalone();
    run.propose_joint();
    run.propose_affiliation();
    auto flags = run.start_flags();
    run.propose_instructors();
    run.flag(flags.get());
    run.describe();
    return plan;
}

namespace {

// A proposal's street as the plan shows it (proposal_json and put_proposal alike): a standalone
// or joint branch with no street described shows the area it was proposed in.
const std::string& street_shown(const Proposal& p) {
    return p.street.empty() && (p.type == "standalone" || p.type == "joint") ? p.area : p.street;
}

nlohmann::json proposal_json(const Proposal& p) {
    nlohmann::json q = {{"id", p.id}, {"type", p.type}, {"orgs", p.orgs}, {"members", p.members}};
    if (p.type == "affiliate") q["area"] = p.area;
    q["street"] = street_shown(p);
    q["street_name"] = p.street_name;
    q["reason"] = p.reason;
    q["bbox"] = p.bbox;
    if (p.type == "joint") q["spread_m"] = std::round(p.cost_m);
    if (p.instructor_id) {
        q["instructor_id"] = *p.instructor_id;
        q["cost_m"] = p.cost_m;
    }
    return q;
}

nlohmann::json flag_json(const Flag& f) { return {{"type", f.type}, {"ids", f.ids}, {"message", f.message}}; }

// Everything of the plan's JSON but its proposals and flags, which are left empty arrays.
nlohmann::json outline_json(const Plan& plan) {
    using nlohmann::json;
    json j;
    j["level"] = std::string(to_string(plan.level));
    j["cost"] = plan.cost == CostMode::distance ? "distance" : "planning";
    j["clusters"] = json::array();
    for (const auto& c : plan.clusters)
        j["clusters"].push_back({{"id", c.id},
                                 {"areas", c.areas},
                                 {"uncovered", c.uncovered},
                                 {"operating", c.operating},
                                 {"rate", c.operating ? static_cast<double>(c.uncovered) / c.operating : 0.0},
                                 {"orgs", c.orgs}});
    j["cluster_rule"] = {{"text",
                          "contiguous areas whose empirical-Bayes smoothed uncovered rate is at least the overall "
                          "rate plus one standard deviation of the areas' rates"},
                         {"rate_at_least", plan.cluster_rate}};
    json hs = json::array();
    for (const auto& h : plan.hotspots)
        hs.push_back({{"code", h.code},
                      {"name", h.name},
                      {"z", h.z},
                      {"p", h.p},
                      {"rate", h.rate},
                      {"smoothed_rate", h.smoothed_rate},
                      {"uncovered", h.uncovered},
                      {"operating", h.operating}});
    j["hotspots"] = {{"statistic",
                      "Getis-Ord Gi* of the empirical-Bayes smoothed uncovered rate over the areas with operating "
                      "organizations, binary queen weights with self"},
                     {"fdr_alpha", plan.hotspot_alpha},
                     {"tests", plan.hotspot_tests},
                     {"p_cut", plan.hotspot_p_cut},
                     {"areas", hs}};
    j["proposals"] = json::array();
    j["flags"] = json::array();
    std::map<std::string, int> counts;
    for (const auto& p : plan.proposals) ++counts[p.type];
    json timings = json::object();
    for (const auto& [k, v] : plan.timings_ms) timings[k] = std::round(v * 10) / 10;
    j["summary"] = {{"standalone", counts["standalone"]},
                    {"joint", counts["joint"]},
                    {"affiliate", counts["affiliate"]},
                    {"instructor", counts["instructor"]},
                    {"unassigned", plan.unassigned},
                    {"instructor_k", plan.instructor_k},
                    {"contiguity_moves", plan.contiguity_moves},
                    {"contiguity_cost_m", std::round(plan.contiguity_cost_m)},
                    {"timings_ms", timings}};
    return j;
}

// An item of a top-level array as nlohmann's dump(indent) writes it at depth 2 (after its
// indentation): its own dump with every line after its first indented twice more (JSON text
// holds no raw newline but those).
template <class T, class ToJson>
void put_dumped(const T& item, int indent, ToJson to_json_of, std::string& out) {
    auto text = to_json_of(item).dump(indent);
    const std::string pad(static_cast<std::size_t>(2 * indent), ' ');
    std::size_t from = 0;
    for (std::size_t nl; (nl = text.find('\n', from)) != std::string::npos; from = nl + 1) {
        out.append(text, from, nl + 1 - from);
        out += pad;
    }
    out.append(text, from, std::string::npos);
}

// A string as nlohmann's dump writes it: printable ASCII without a quote or backslash as it is,
// anything else through nlohmann itself (its escapes, its strict UTF-8 check).
void put_string(std::string_view s, std::string& out) {
    if (std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; })) {
        out += '"';
        out.append(s);
        out += '"';
    } else {
        out += nlohmann::json(std::string(s)).dump();
    }
}

// A number as nlohmann's dump writes it: its own Grisu2 formatting (to_chars, which its
// serializer calls; in its detail namespace, pinned by Debian's package), null for NaN and the
// infinities. Without a JSON value, a serializer and a string per number (five per proposal).
void put_number(double v, std::string& out) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    char buf[64];  // the serializer's own number buffer
    out.append(buf, nlohmann::detail::to_chars(buf, buf + sizeof buf, v));
}

// proposal_json(p) as put_dumped would write it, without making the JSON object: the keys in
// nlohmann's (sorted) order, each value as nlohmann writes it. Two thirds of a million
// organizations' plan is proposals; PlanJson.WrittenTextIsTheDumpOfTheTree holds the two equal.
void put_proposal(const Proposal& p, int indent, std::string& out) {
    const auto at = [&](int depth) { return std::string(static_cast<std::size_t>(depth * indent), ' '); };
    const std::string key_pad = at(3), item_pad = at(4), close_pad = at(2);
    bool first = true;
    auto key = [&](const char* name) {
        out += first ? "{\n" : ",\n";
        first = false;
        out += key_pad;
        out += '"';
        out += name;
        out += "\": ";
    };
    auto array = [&](const auto& items, auto put) {
        if (items.empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        for (std::size_t k = 0; k < items.size(); ++k) {
            if (k) out += ",\n";
            out += item_pad;
            put(items[k]);
        }
        out += '\n';
        out += key_pad;
        out += ']';
    };
    auto text = [&](const std::string& s) { put_string(s, out); };
    if (p.type == "affiliate") key("area"), text(p.area);
    key("bbox"), array(p.bbox, [&](double v) { put_number(v, out); });
    if (p.instructor_id) key("cost_m"), put_number(p.cost_m, out);
    key("id"), text(p.id);
    if (p.instructor_id) key("instructor_id"), text(*p.instructor_id);
    key("members"), out += std::to_string(p.members);
    key("orgs"), array(p.orgs, text);
    key("reason"), text(p.reason);
    if (p.type == "joint") key("spread_m"), put_number(std::round(p.cost_m), out);
    key("street"), text(street_shown(p));
    key("street_name"), text(p.street_name);
    key("type"), text(p.type);
    out += '\n';
    out += close_pad;
    out += '}';
}

// Items [begin, end) of a top-level array at depth 2, each written by put(item, out) after its
// indentation, ",\n" between them; `first` leaves out the separator before the first.
template <class T, class Put>
void put_items(const std::vector<T>& items, std::size_t begin, std::size_t end, int indent, bool first, Put put,
               std::string& out) {
    const std::string pad(static_cast<std::size_t>(2 * indent), ' ');
    for (std::size_t k = begin; k < end; ++k) {
        if (k > begin || !first) out += ",\n";
        out += pad;
        put(items[k], out);
    }
}

}  // namespace

nlohmann::json to_json(const Plan& plan) {
    auto j = outline_json(plan);
    auto& proposals = j["proposals"];
    for (const auto& p : plan.proposals) proposals.push_back(proposal_json(p));
    auto& flags = j["flags"];
    for (const auto& f : plan.flags) flags.push_back(flag_json(f));
    return j;
}

// A million organizations make 200,000 proposals, 90 MB of JSON: made as one tree and written
// by one thread that took a second at scale 500. Here each item's JSON is made, written to
// text and dropped on both cores, a batch at a time, and the text spliced into the outline's.
void write_json(const Plan& plan, std::ostream& out, int indent) {
    if (indent < 0) throw invalid_argument("write_json writes indented JSON");
    detail::ProfileLaps prof("write");
    const auto outline = outline_json(plan).dump(indent);
    prof.lap("outline");
    const std::string pad(static_cast<std::size_t>(indent), ' ');
    std::size_t at = 0;
    auto splice = [&](const std::string& key, const auto& items, auto put) {
        // The top-level key's empty array: "\n", one indentation, "\"key\": []".
        const std::string slot = "\n" + pad + "\"" + key + "\": [";
        auto where = outline.find(slot, at);
        if (where == std::string::npos) throw error("write_json: no " + key + " in the outline");
        where += slot.size();
        out.write(outline.data() + at, static_cast<std::streamsize>(where - at));
        at = where;
        if (items.empty()) return;
        out << '\n';
        constexpr std::size_t kBatch = 2048;
        const unsigned threads = detail::default_threads();
        std::vector<std::string> text(threads * 4);
        for (std::size_t wave = 0; wave < items.size(); wave += kBatch * text.size()) {
            std::size_t batches = std::min(text.size(), (items.size() - wave + kBatch - 1) / kBatch);
            detail::on_threads(
                threads, batches,
                [&](std::size_t b) {
                    std::size_t begin = wave + b * kBatch, end = std::min(items.size(), begin + kBatch);
                    text[b].clear();
                    put_items(items, begin, end, indent, begin == 0, put, text[b]);
                },
                1);
            for (std::size_t b = 0; b < batches; ++b) out.write(text[b].data(), static_cast<std::streamsize>(text[b].size()));
        }
        out << '\n' << pad;
    };
    // nlohmann's objects keep their keys sorted: flags comes before proposals.
    splice("flags", plan.flags, [&](const Flag& f, std::string& text) { put_dumped(f, indent, flag_json, text); });
    prof.lap("flags");
    splice("proposals", plan.proposals, [&](const Proposal& p, std::string& text) { put_proposal(p, indent, text); });
    out.write(outline.data() + at, static_cast<std::streamsize>(outline.size() - at));
    prof.lap("proposals");
}

}  // namespace covermap::geo
