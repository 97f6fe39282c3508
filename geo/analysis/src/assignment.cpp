#include "covermap/geo/assignment.hpp"

#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <mutex>
#include <nanoflann.hpp>

#include "covermap/geo/geometry.hpp"
#include "detail/profile.hpp"
#include "detail/threads.hpp"

// Why the result is optimal for the whole problem, not only for the arcs the flow saw.
//
// The full problem is a min-cost flow: every organization supplies 1 and reaches the sink
// either through any open instructor j (arc cost c(i,j), capacity 1; then j → sink, capacity
// spare[j], cost 0) or through its own bypass (cost BIG, more than any reshuffle could save,
// so the most organizations are assigned first). A flow is optimal when node potentials π
// exist with reduced cost c(u,v) + π(u) − π(v) ≥ 0 on every arc below its capacity and ≤ 0 on
// every arc above zero (LP complementary slackness; the constraint matrix is totally
// unimodular, so the LP optimum is an integral assignment).
//
// Here only part of that network is solved: the organizations with a candidate that is at or
// over capacity when every organization asks for its cheapest, with their k cheapest
// instructors (plus any pair added below), against the room the others leave. The others keep
// their cheapest instructor. (Which organizations start in the flow decides only how many
// flows it takes, never the result: the check below is what proves it.) Potentials for the whole network are then put
// together: the sink's and the instructors' from the flow, lowered to the sink's where higher (an instructor with no
// flow from the solved part has no arc into it at its upper bound, so lowering it keeps every condition the flow met
// and makes its arc to the sink right whether it is full, partly used or unused), and π(i) = π(j) − c(i,j) for an
// organization kept at j (reduced cost 0 on its arc). Every other arc is then checked: the kept organizations' other
// candidates and bypass, and for every organization the instructors outside its arcs. These cost at least its k-th
// cheapest, and a negative reduced cost needs c(i,j) < π(j) − π(i) ≤ π(sink) − π(i), so only
// organizations whose k-th cheapest costs less than that bound are searched, nearest first,
// up to that distance. When no arc fails, the potentials prove the combined assignment
// optimal. An arc that fails joins the solved part with its organization, and the flow is
// solved again; the solved part only grows, so this ends, in practice after one or two flows.

// LEMON's SmartDigraph stores nodes whose unused fields stay uninitialized; GCC 12 warns inside
// std::vector when that is inlined here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace covermap::geo {

namespace {

using Cm = long long;  // costs in whole centimetres: the flow needs integers
using P3 = std::array<double, 3>;

struct Arc {
    std::uint32_t j;
    Cm cost;
};

constexpr Cm kNoBound = std::numeric_limits<Cm>::max();

Cm to_cm(double m) { return std::llround(m * 100); }

// A point on the sphere of haversine_m's radius. The chord between two such points is never
// longer than the great-circle distance and grows with it: chord distances bound every cost
// from below, so nearest-first walks in these coordinates can stop exactly.
P3 on_sphere(Point p) {
    double lon = p.x * M_PI / 180, lat = p.y * M_PI / 180;
    return {kEarthRadiusM * std::cos(lat) * std::cos(lon), kEarthRadiusM * std::cos(lat) * std::sin(lon),
            kEarthRadiusM * std::sin(lat)};
}

// Some instructors' points on the sphere, as nanoflann's k-d tree reads them.
struct SphereCloud {
    std::vector<P3> at;
    std::size_t kdtree_get_point_count() const { return at.size(); }
    double kdtree_get_pt(std::size_t i, std::size_t dim) const { return at[i][dim]; }
    template <class Box>
    bool kdtree_get_bbox(Box&) const {
        return false;  // nanoflann computes it
    }
};
using KdTree =
    nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, SphereCloud>, SphereCloud, 3, std::uint32_t>;

// An upper bound of every distance between the points: R × (Δlat + Δlon) in radians.
double spread_bound_m(const AssignmentProblem& pr) {
    double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
    for (const auto* pts : {&pr.orgs, &pr.instructors})
        for (auto p : *pts) {
            x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
        }
    return std::min(M_PI * kEarthRadiusM, kEarthRadiusM * ((x1 - x0) + (y1 - y0)) * M_PI / 180);
}

// A k-d tree of some open instructors on the sphere (nanoflann's: everyone's 764,000 at scale 500
// built in 0.2 s, where a packed Boost R-tree took 0.44 s), built the first time a search walks
// it. In planning mode nearly every organization finds its cheapest among its street's
// specialists in its industry: the street's and everyone's trees (two thirds of the points at
// scale 500) are walked only where those are few or far.
class LazyTree {
public:
    void add(std::uint32_t j) { members_.push_back(j); }  // before the first search
    void reserve(std::size_t n) { members_.reserve(n); }
    bool empty() const { return members_.empty(); }
    std::size_t size() const { return members_.size(); }

    // The `want` nearest of `here`, nearest first: instructors into j, squared chord distances
    // into d2; returns how many (fewer when the tree has fewer).
    std::size_t nearest(const std::vector<P3>& at, const P3& here, std::size_t want, std::uint32_t* j,
                        double* d2) const {
        const KdTree& tree = built(at);
        auto got = tree.knnSearch(here.data(), want, j, d2);
        for (std::size_t k = 0; k < got; ++k) j[k] = members_[j[k]];
        return got;
    }

    // Calls f(j) for every instructor closer to `here` than r, in no particular order.
    template <class F>
    void within(const std::vector<P3>& at, const P3& here, double r, F f) const {
        const KdTree& tree = built(at);
        thread_local std::vector<std::pair<std::uint32_t, double>> found;
        tree.radiusSearch(here.data(), r * r, found, nanoflann::SearchParams(32, 0, false));
        for (auto [k, d2] : found) f(members_[k]);
    }

    // Builds the tree now, where the first search would.
    void build(const std::vector<P3>& at) const { built(at); }

private:
    const KdTree& built(const std::vector<P3>& at) const {
        std::call_once(once_, [&] {
            cloud_.at.reserve(members_.size());
            for (auto j : members_) cloud_.at.push_back(at[j]);
            tree_ = std::make_unique<KdTree>(3, cloud_, nanoflann::KDTreeSingleIndexAdaptorParams(16));
        });
        return *tree_;
    }

    std::vector<std::uint32_t> members_;
    mutable std::once_flag once_;
    mutable SphereCloud cloud_;  // the tree reads it in place
    mutable std::unique_ptr<KdTree> tree_;
};

// The open instructors (spare > 0) in trees on the sphere: all of them, and per group of each
// tier.
class Search {
public:
    explicit Search(const AssignmentProblem& pr) : pr_(pr), at_(pr.instructors.size()) {
        std::vector<std::uint32_t> open;
        for (std::size_t j = 0; j < pr.instructors.size(); ++j)
            if (pr.spare[j] > 0) {
                at_[j] = on_sphere(pr.instructors[j]);
                open.push_back(static_cast<std::uint32_t>(j));
                all_.add(open.back());
            }
        // Each tier's instructors by group: keys are small integers, counted, then placed.
        groups_ = std::vector<std::vector<LazyTree>>(pr.tiers.size());
        detail::on_threads(
            detail::default_threads(), pr.tiers.size(),
            [&](std::size_t t) {
                const auto& tier = pr.tiers[t];
                std::vector<std::uint32_t> count;
                for (auto j : open)
                    for (auto [k, end] = tier.keys_of(j); k != end; ++k) {
                        if (*k < 0) continue;
                        auto key = static_cast<std::size_t>(*k);
                        if (key >= count.size()) count.resize(key + 1, 0);
                        ++count[key];
                    }
                auto& groups = groups_[t];
                groups = std::vector<LazyTree>(count.size());
                for (std::size_t key = 0; key < count.size(); ++key) groups[key].reserve(count[key]);
                for (auto j : open)
                    for (auto [k, end] = tier.keys_of(j); k != end; ++k)
                        if (*k >= 0) groups[static_cast<std::size_t>(*k)].add(j);
            },
            1);
        // Without tiers every search walks everyone's tree at once: packed here, not by the first
        // search while the other core waits on it.
        if (pr.tiers.empty()) all_.build(at_);
    }

    std::size_t open() const { return all_.size(); }

    double cost(std::size_t i, std::size_t j) const {
        return pr_.cost ? pr_.cost(i, j) : haversine_m(pr_.orgs[i], pr_.instructors[j]);
    }

    // The k cheapest open instructors of org i, cheapest first, and a bound every other open
    // instructor costs at least (kNoBound when there is no other).
    void cheapest(std::size_t i, std::size_t k, std::vector<Arc>& out, Cm& others_at_least) const {
        std::vector<std::pair<double, std::uint32_t>> best;  // max-heap on cost
        auto worst = [&] { return best.size() < k ? std::numeric_limits<double>::infinity() : best.front().first; };
        auto offer = [&](std::uint32_t j) {
            double c = cost(i, j);
            if (best.size() < k) {
                best.emplace_back(c, j);
                std::push_heap(best.begin(), best.end());
            } else if (c < best.front().first) {
                std::pop_heap(best.begin(), best.end());
                best.back() = {c, j};
                std::push_heap(best.begin(), best.end());
            }
        };
        tiered_walk(
            i, [&](double bound) { return bound >= worst(); }, offer);
        others_at_least = best.size() < k ? kNoBound : to_cm(best.front().first);
        std::sort(best.begin(), best.end());
        out.clear();
        for (auto [c, j] : best) out.push_back({j, to_cm(c)});
    }

    // Calls visit(j) for the open instructors that may cost org i less than `limit` centimetres
    // (chord distance plus the penalty floor of the first tier whose group holds j), in no
    // particular order: a box query per tree, the ball of each radius inside its box.
    template <class F>
    void within(std::size_t i, Cm limit, F visit) const {
        P3 here = on_sphere(pr_.orgs[i]);
        auto ball = [&](const LazyTree& lazy, double floor, std::size_t seen_tiers) {
            double r = static_cast<double>(limit) / 100 - floor + 0.01;
            if (r <= 0 || lazy.empty()) return;
            lazy.within(at_, here, r, [&](std::uint32_t j) {
                bool seen = false;
                for (std::size_t t = 0; t < seen_tiers && !seen; ++t) seen = in_tier(t, i, j);
                if (!seen) visit(j);
            });
        };
        for (std::size_t t = 0; t < pr_.tiers.size(); ++t)
            if (const LazyTree* g = group(t, i)) ball(*g, pr_.tiers[t].floor_m[i], t);
        ball(all_, pr_.tiers.empty() ? 0.0 : pr_.global_floor_m, pr_.tiers.size());
    }

private:
    // Org i's group of tier t, if any instructor is in it.
    const LazyTree* group(std::size_t t, std::size_t i) const {
        int key = pr_.tiers[t].org_key[i];
        if (key < 0 || static_cast<std::size_t>(key) >= groups_[t].size()) return nullptr;
        const LazyTree& g = groups_[t][static_cast<std::size_t>(key)];
        return g.empty() ? nullptr : &g;
    }

    bool in_tier(std::size_t t, std::size_t i, std::uint32_t j) const {
        int key = pr_.tiers[t].org_key[i];
        auto [begin, end] = pr_.tiers[t].keys_of(j);
        return key >= 0 && std::find(begin, end, key) != end;
    }

    // Walks the open instructors by a lower bound of their cost to org i: the org's group of
    // each tier, then everyone, each nearest first, with the tier's floor added to the chord
    // distance. An instructor met in an earlier tier's group is skipped later (it was visited
    // there, or that walk stopped before it at a lower bound). Each walk ends when
    // stop(bound) says so, and is not begun when its floor alone does.
    template <class Stop, class Visit>
    void tiered_walk(std::size_t i, Stop stop, Visit visit) const {
        P3 here = on_sphere(pr_.orgs[i]);
        auto walk = [&](const LazyTree& lazy, double floor, std::size_t seen_tiers) {
            if (lazy.empty() || stop(floor)) return;
            nearest_first(lazy, here, [&](std::uint32_t j, double d) {
                if (stop(d + floor)) return false;
                for (std::size_t t = 0; t < seen_tiers; ++t)
                    if (in_tier(t, i, j)) return true;
                visit(j);
                return true;
            });
        };
        for (std::size_t t = 0; t < pr_.tiers.size(); ++t)
            if (const LazyTree* g = group(t, i)) walk(*g, pr_.tiers[t].floor_m[i], t);
        walk(all_, pr_.tiers.empty() ? 0.0 : pr_.global_floor_m, pr_.tiers.size());
    }

    // Calls f(j, chord distance) for the tree's instructors nearest first, each once, until f
    // returns false: the 16 nearest, then 4 × more as long as f asks for more. Instructors at the
    // same place tie, so a longer query may order them differently: each is marked when seen, and
    // every query starts from the nearest.
    template <class F>
    void nearest_first(const LazyTree& tree, const P3& here, F f) const {
        thread_local std::vector<std::uint32_t> mark, found;
        thread_local std::vector<double> found_d2;
        thread_local std::uint32_t walk = 0;
        if (mark.size() != pr_.instructors.size() || ++walk == 0) {
            mark.assign(pr_.instructors.size(), 0);
            walk = 1;
        }
        for (std::size_t want = 16;; want *= 4) {
            want = std::min(want, tree.size());
            found.resize(want);
            found_d2.resize(want);
            auto got = tree.nearest(at_, here, want, found.data(), found_d2.data());
            for (std::size_t k = 0; k < got; ++k) {
                std::uint32_t j = found[k];
                if (mark[j] == walk) continue;
                mark[j] = walk;
                if (!f(j, std::sqrt(found_d2[k]))) return;
            }
            if (want == tree.size()) return;
        }
    }

    const AssignmentProblem& pr_;
    std::vector<P3> at_;  // per instructor: its point on the sphere (open ones only)
    LazyTree all_;
    std::vector<std::vector<LazyTree>> groups_;  // per tier, by key
};

// The price of an organization left out: more than n × any cost (an augmenting path changes
// at most n assignments).
Cm bypass_cost(const AssignmentProblem& pr) {
    Cm most = to_cm(spread_bound_m(pr) + pr.max_penalty_m) + 1;
    return (static_cast<Cm>(pr.orgs.size()) + 1) * most + 1;
}

bool has_arc(const std::vector<Arc>& arcs, std::uint32_t j) {
    return std::any_of(arcs.begin(), arcs.end(), [&](const Arc& a) { return a.j == j; });
}

}  // namespace

Assignment solve_assignment(const AssignmentProblem& pr) {
    using Graph = lemon::SmartDigraph;
    Assignment result;
    const std::size_t n = pr.orgs.size(), m = pr.instructors.size();
    result.instructor_of.assign(n, -1);
    if (n == 0) return result;
    detail::ProfileLaps profile("assignment");
    Search search(pr);
    profile.lap("search trees");
    if (search.open() == 0) return result;
    const unsigned threads = detail::default_threads();

    const std::size_t k = std::max<std::size_t>(1, std::min(pr.k, search.open()));
    result.k = k;
    std::vector<std::vector<Arc>> cand(n), extra(n);
    std::vector<Cm> others_at_least(n);
    detail::on_threads(threads, n, [&](std::size_t i) { search.cheapest(i, k, cand[i], others_at_least[i]); });
    profile.lap("k cheapest");

    // An organization keeps its cheapest instructor when each of its candidates has room for
    // everyone whose cheapest it is; the others start in the flow.
    std::vector<int> want(m, 0);
    for (const auto& c : cand) ++want[c.front().j];
    std::vector<char> in_flow(n);
    for (std::size_t i = 0; i < n; ++i)
        for (const auto& a : cand[i]) in_flow[i] = in_flow[i] || want[a.j] >= pr.spare[a.j];
    const Cm big = bypass_cost(pr);

    for (;;) {
        ++result.rounds;
        std::vector<int> kept(m, 0);
        std::vector<std::uint32_t> flow_orgs;
        for (std::size_t i = 0; i < n; ++i) {
            if (in_flow[i])
                flow_orgs.push_back(static_cast<std::uint32_t>(i));
            else
                ++kept[cand[i].front().j];
        }
        result.flow_orgs = flow_orgs.size();

        // LEMON's maps grow with the graph, so each arc gets its cost and capacity as it is added.
        Graph g;
        g.reserveNode(static_cast<int>(flow_orgs.size() + m + 1));
        Graph::NodeMap<Cm> supply(g, 0);
        Graph::ArcMap<Cm> arc_cost(g), cap(g);
        auto add_arc = [&](Graph::Node from, Graph::Node to, Cm cost, Cm capacity) {
            auto arc = g.addArc(from, to);
            arc_cost.set(arc, cost);
            cap.set(arc, capacity);
            return arc;
        };
        auto sink = g.addNode();
        supply.set(sink, -static_cast<Cm>(flow_orgs.size()));
        std::vector<Graph::Node> instr_node(m, lemon::INVALID);
        std::vector<Graph::Node> org_node(flow_orgs.size(), lemon::INVALID);
        std::vector<std::vector<std::pair<Graph::Arc, Arc>>> arcs(flow_orgs.size());
        for (std::size_t f = 0; f < flow_orgs.size(); ++f) {
            auto i = flow_orgs[f];
            org_node[f] = g.addNode();
            supply.set(org_node[f], 1);
            for (const auto* list : {&cand[i], &extra[i]})
                for (const auto& a : *list) {
                    if (instr_node[a.j] == lemon::INVALID) {
                        instr_node[a.j] = g.addNode();
                        add_arc(instr_node[a.j], sink, 0, pr.spare[a.j] - kept[a.j]);
                    }
                    arcs[f].emplace_back(add_arc(org_node[f], instr_node[a.j], a.cost, 1), a);
                }
            add_arc(org_node[f], sink, big, 1);  // the bypass
        }
        lemon::NetworkSimplex<Graph, Cm, Cm> ns(g);
        ns.upperMap(cap).costMap(arc_cost).supplyMap(supply);
        profile.lap("flow: graph");
        ns.run();
        profile.lap("flow");

        // The combined assignment and the potentials of the whole network.
        const Cm pi_sink = ns.potential(sink);
        std::vector<Cm> pi_instr(m, pi_sink), pi_org(n);
        for (std::size_t j = 0; j < m; ++j)
            if (instr_node[j] != lemon::INVALID) pi_instr[j] = std::min(ns.potential(instr_node[j]), pi_sink);
        for (std::size_t i = 0; i < n; ++i) {
            if (in_flow[i]) continue;
            result.instructor_of[i] = static_cast<int>(cand[i].front().j);
            pi_org[i] = pi_instr[cand[i].front().j] - cand[i].front().cost;
        }
        for (std::size_t f = 0; f < flow_orgs.size(); ++f) {
            auto i = flow_orgs[f];
            pi_org[i] = ns.potential(org_node[f]);
            result.instructor_of[i] = -1;
            for (auto [arc, a] : arcs[f])
                if (ns.flow(arc) > 0) result.instructor_of[i] = static_cast<int>(a.j);
        }

        // The dual check over every organization–instructor pair.
        std::vector<std::vector<Arc>> failed(n);
        std::vector<char> bypass_failed(n, 0);
        std::atomic<std::size_t> searched{0}, visited{0};  // for COVERMAP_PROFILE
        detail::on_threads(threads, n, [&](std::size_t i) {
            auto reduced = [&](Cm c, std::size_t j) { return c + pi_org[i] - pi_instr[j]; };
            if (!in_flow[i]) {
                bypass_failed[i] = big + pi_org[i] - pi_sink < 0;
                for (std::size_t c = 1; c < cand[i].size(); ++c)
                    if (reduced(cand[i][c].cost, cand[i][c].j) < 0) failed[i].push_back(cand[i][c]);
            }
            const Cm limit = pi_sink - pi_org[i];  // a failing pair costs less than this
            if (limit <= others_at_least[i]) return;
            std::size_t seen = 0;
            search.within(i, limit, [&](std::uint32_t j) {
                ++seen;
                if (has_arc(cand[i], j) || has_arc(extra[i], j)) return;
                Cm c = to_cm(search.cost(i, j));
                if (reduced(c, j) < 0) failed[i].push_back({j, c});
            });
            ++searched;
            visited += seen;
        });
        profile.lap("dual check");
        std::size_t failing = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (failed[i].empty() && !bypass_failed[i]) continue;
            ++failing;
            in_flow[i] = 1;
            for (const auto& a : failed[i])
                if (!has_arc(cand[i], a.j)) {
                    extra[i].push_back(a);
                    ++result.added_arcs;
                }
        }
        if (profile.on())
            std::fprintf(stderr,
                         "assignment: round %zu, %zu organizations in the flow, %zu searched (%zu instructors), %zu "
                         "failing the check\n",
                         result.rounds, flow_orgs.size(), searched.load(), visited.load(), failing);
        if (failing == 0) break;
    }

    for (std::size_t i = 0; i < n; ++i) {
        int j = result.instructor_of[i];
        if (j < 0) continue;
        ++result.assigned;
        Cm c = cand[i].front().j == static_cast<std::uint32_t>(j) ? cand[i].front().cost : to_cm(search.cost(i, j));
        result.cost_m += static_cast<double>(c) / 100;
    }
    return result;
}

Assignment solve_assignment_plain(const AssignmentProblem& pr) {
    using Graph = lemon::SmartDigraph;
    Assignment result;
    const std::size_t n = pr.orgs.size(), m = pr.instructors.size();
    result.instructor_of.assign(n, -1);
    result.rounds = 1;
    result.flow_orgs = n;
    auto cost = [&](std::size_t i, std::size_t j) {
        return to_cm(pr.cost ? pr.cost(i, j) : haversine_m(pr.orgs[i], pr.instructors[j]));
    };
    Graph g;
    auto sink = g.addNode();
    std::vector<Graph::Node> org(n, lemon::INVALID), instr(m, lemon::INVALID);
    for (auto& v : org) v = g.addNode();
    for (auto& v : instr) v = g.addNode();
    Graph::ArcMap<Cm> arc_cost(g), cap(g);
    Graph::NodeMap<Cm> supply(g, 0);
    std::vector<std::vector<Graph::Arc>> arcs(n, std::vector<Graph::Arc>(m, lemon::INVALID));
    const Cm big = bypass_cost(pr);
    for (std::size_t i = 0; i < n; ++i) {
        supply.set(org[i], 1);
        for (std::size_t j = 0; j < m; ++j) {
            arcs[i][j] = g.addArc(org[i], instr[j]);
            arc_cost.set(arcs[i][j], cost(i, j));
            cap.set(arcs[i][j], 1);
        }
        auto bypass = g.addArc(org[i], sink);
        arc_cost.set(bypass, big);
        cap.set(bypass, 1);
    }
    for (std::size_t j = 0; j < m; ++j) {
        auto a = g.addArc(instr[j], sink);
        arc_cost.set(a, 0);
        cap.set(a, std::max(0, pr.spare[j]));
    }
    supply.set(sink, -static_cast<Cm>(n));
    lemon::NetworkSimplex<Graph, Cm, Cm> ns(g);
    ns.upperMap(cap).costMap(arc_cost).supplyMap(supply);
    ns.run();
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < m; ++j)
            if (ns.flow(arcs[i][j]) > 0) {
                result.instructor_of[i] = static_cast<int>(j);
                ++result.assigned;
                result.cost_m += static_cast<double>(cost(i, j)) / 100;
            }
    return result;
}

}  // namespace covermap::geo
