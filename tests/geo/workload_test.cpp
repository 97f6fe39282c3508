// Draw and assign and rebalancing on synthetic data: the selection's assignment against the
// exact min-cost flow over every pair, ties settled the same way every time; a rebalance's
// limits (max_moves, overloads first, one move per organization, distance never up otherwise).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "covermap/geo/assignment.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/workload.hpp"

using namespace covermap;

namespace {

// n organizations and m instructors scattered over a county-sized box; every third
// organization served by one of the instructors.
geo::Dataset scattered(std::size_t n, std::size_t m, unsigned seed, int capacity) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> lon(123.6, 124.0), lat(42.2, 42.5);
    geo::Dataset d;
    for (std::size_t j = 0; j < m; ++j) {
        geo::Instructor in;
        in.id = "I" + std::to_string(100 + j);
        in.name = "指导员" + std::to_string(j);
        in.capacity = capacity;
        in.home = {lon(rng), lat(rng)};
        d.instructors.push_back(in);
    }
    for (std::size_t i = 0; i < n; ++i) {
        geo::Organization o;
        o.id = "O" + std::to_string(1000 + i);
        o.name = "组织" + std::to_string(i);
        o.location = {lon(rng), lat(rng)};
        if (i % 3 == 0) o.instructor_id = d.instructors[i % m].id;
        d.orgs.push_back(o);
    }
    return d;
}

std::vector<int> loads(const geo::Dataset& d) {
    std::vector<int> load(d.instructors.size());
    for (const auto& o : d.orgs)
        for (std::size_t j = 0; j < d.instructors.size(); ++j)
            if (o.instructor_id == d.instructors[j].id) ++load[j];
    return load;
}

}  // namespace

TEST(Workload, ASelectionsAssignmentIsTheExactOptimumEveryTime) {
    for (unsigned seed = 1; seed <= 6; ++seed) {
        auto d = scattered(60, 9, seed, 4);
        auto load = loads(d);
        std::vector<std::size_t> orgs, instructors;
        for (std::size_t i = 0; i < d.orgs.size(); ++i)
            if (geo::needs_instructor(d.orgs[i])) orgs.push_back(i);
        for (std::size_t j = 0; j < d.instructors.size(); ++j) instructors.push_back(j);
        auto got = geo::assign_selection(d, orgs, instructors, load);
        geo::AssignmentProblem p;
        for (auto i : orgs) p.orgs.push_back(d.orgs[i].location);
        for (std::size_t j = 0; j < d.instructors.size(); ++j) {
            p.instructors.push_back(d.instructors[j].home);
            p.spare.push_back(std::max(0, d.instructors[j].capacity - load[j]));
        }
        auto exact = geo::solve_assignment_plain(p);
        EXPECT_EQ(got.assigned.size(), exact.assigned) << "seed " << seed;
        EXPECT_EQ(got.assigned.size() + got.unassigned.size(), orgs.size());
        EXPECT_NEAR(got.total_m, exact.cost_m, 0.01 * static_cast<double>(orgs.size()) + 0.5) << "seed " << seed;
        std::map<std::size_t, int> taken;
        for (const auto& a : got.assigned) ++taken[a.instructor];
        for (const auto& [j, n] : taken) EXPECT_LE(n, d.instructors[j].capacity - load[j]);
        // The same selection in another order: the same answer.
        std::vector<std::size_t> shuffled = orgs;
        std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(seed));
        auto again = geo::assign_selection(d, shuffled, instructors, load);
        ASSERT_EQ(again.assigned.size(), got.assigned.size());
        for (std::size_t k = 0; k < got.assigned.size(); ++k) {
            EXPECT_EQ(again.assigned[k].org, got.assigned[k].org);
            EXPECT_EQ(again.assigned[k].instructor, got.assigned[k].instructor);
        }
    }
    // Nobody with room: every candidate is listed with its reason.
    auto d = scattered(12, 2, 3, 0);
    std::vector<std::size_t> orgs{1, 2, 4};
    auto none = geo::assign_selection(d, orgs, {0, 1}, loads(d));
    EXPECT_TRUE(none.assigned.empty());
    ASSERT_EQ(none.unassigned.size(), 3u);
    EXPECT_EQ(none.unassigned[0].reason, "所选指导员都已满额");
}

TEST(Workload, ARebalanceClearsOverloadsWithinMaxMovesAndOtherwiseOnlySaves) {
    for (unsigned seed = 1; seed <= 5; ++seed) {
        auto d = scattered(90, 8, seed, 6);
        // Instructor 0 takes ten more organizations than it may.
        int extra = 0;
        for (auto& o : d.orgs)
            if (!o.instructor_id && extra < 10) o.instructor_id = d.instructors[0].id, ++extra;
        auto before = loads(d);
        d.instructors[0].capacity = before[0] - 3;
        std::vector<char> in_area(d.orgs.size(), 1);
        std::vector<std::size_t> all;
        for (std::size_t j = 0; j < d.instructors.size(); ++j) all.push_back(j);

        auto two = geo::rebalance(d, in_area, all, 2);
        EXPECT_EQ(two.moves.size(), 2u);
        EXPECT_EQ(two.overloaded_before, 1);
        EXPECT_EQ(two.overloaded_after, 1);
        for (const auto& m : two.moves) EXPECT_EQ(m.from, 0u);

        auto r = geo::rebalance(d, in_area, all, 40);
        EXPECT_LE(r.moves.size(), 40u);
        EXPECT_EQ(r.overloaded_after, 0);
        EXPECT_LE(r.max_load_after, 1.0);
        std::set<std::size_t> moved;
        double saved = 0;
        auto load = before;
        for (std::size_t k = 0; k < r.moves.size(); ++k) {
            const auto& m = r.moves[k];
            EXPECT_TRUE(moved.insert(m.org).second);
            if (k < 3) {
                EXPECT_EQ(m.from, 0u) << "the overload first";
            } else {
                EXPECT_GT(m.saved_m, 0);
            }
            --load[m.from];
            ++load[m.to];
            EXPECT_LE(load[m.to], d.instructors[m.to].capacity);
            saved += m.saved_m;
        }
        EXPECT_NEAR(r.distance_before_m - saved, r.distance_after_m, 1e-6);

        // No overload: the distance never grows, and 0 moves changes nothing.
        d.instructors[0].capacity = 100;
        auto calm = geo::rebalance(d, in_area, all, 15);
        EXPECT_EQ(calm.overloaded_before, 0);
        EXPECT_LE(calm.distance_after_m, calm.distance_before_m);
        for (const auto& m : calm.moves) EXPECT_GT(m.saved_m, 0);
        EXPECT_TRUE(geo::rebalance(d, in_area, all, 0).moves.empty());
    }
}

TEST(Workload, PlanFiguresAreTheDataAfterTheProposals) {
    auto d = scattered(30, 4, 9, 10);
    auto now = geo::plan_figures(d, {});
    long work = 0;
    for (const auto& o : d.orgs) work += o.instructor_id ? 1 : 0;
    EXPECT_NEAR(now.work_coverage, double(work) / d.orgs.size(), 1e-12);
    EXPECT_EQ(now.org_coverage, 0);
    EXPECT_EQ(now.orgs_touched, 0u);
    geo::Proposal joint{"p1", "joint", {"O1001", "O1002"}, 3, "", std::nullopt, std::nullopt, 0, "", "", "", {}};
    geo::Proposal assign{"p2", "instructor", {"O1004"}, 0, "", d.instructors[2].id, std::nullopt, 0, "", "", "", {}};
    auto after = geo::plan_figures(d, {joint, assign});
    EXPECT_EQ(after.orgs_touched, 3u);
    EXPECT_NEAR(after.org_coverage, 2.0 / d.orgs.size(), 1e-12);
    EXPECT_EQ(after.outcome.at("O1001"), "联合组建党组织");
    EXPECT_EQ(after.outcome.at("O1004"), "指导员" + d.instructors[2].name);
    EXPECT_GT(after.total_m, now.total_m);
}
