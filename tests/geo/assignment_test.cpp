#include "covermap/geo/assignment.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>

#include "covermap/geo/geometry.hpp"

using namespace covermap::geo;

// Brute force: every assignment of n orgs to m instructors or none, within capacity;
// the best has the most assigned, then the least cost.
static std::pair<std::size_t, double> brute(const AssignmentProblem& p) {
    std::size_t n = p.orgs.size(), m = p.instructors.size();
    std::vector<int> choice(n, -1);
    std::pair<std::size_t, double> best{0, 0};
    bool first = true;
    std::function<void(std::size_t, std::vector<int>&)> rec = [&](std::size_t i, std::vector<int>& left) {
        if (i == n) {
            std::size_t count = 0;
            double cost = 0;
            for (std::size_t k = 0; k < n; ++k)
                if (choice[k] >= 0) {
                    ++count;
                    cost += std::llround(haversine_m(p.orgs[k], p.instructors[choice[k]]) * 100) / 100.0;
                }
            if (first || count > best.first || (count == best.first && cost < best.second - 1e-9)) best = {count, cost};
            first = false;
            return;
        }
        choice[i] = -1;
        rec(i + 1, left);
        for (std::size_t j = 0; j < m; ++j) {
            if (left[j] == 0) continue;
            --left[j];
            choice[i] = static_cast<int>(j);
            rec(i + 1, left);
            ++left[j];
        }
        choice[i] = -1;
    };
    auto left = p.spare;
    rec(0, left);
    return best;
}

TEST(Assignment, OptimalAgainstBruteForce) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> u(0, 0.05);
    for (int round = 0; round < 30; ++round) {
        AssignmentProblem p;
        std::size_t n = 3 + rng() % 4, m = 2 + rng() % 3;
        for (std::size_t i = 0; i < n; ++i) p.orgs.push_back({123.8 + u(rng), 42.2 + u(rng)});
        for (std::size_t j = 0; j < m; ++j) {
            p.instructors.push_back({123.8 + u(rng), 42.2 + u(rng)});
            p.spare.push_back(static_cast<int>(rng() % 3));  // capacity often runs out
        }
        p.k = 1;  // start small: the k growth must still reach the optimum
        auto a = solve_assignment(p);
        auto b = brute(p);
        EXPECT_EQ(a.assigned, b.first) << "round " << round;
        EXPECT_NEAR(a.cost_m, b.second, 0.011) << "round " << round;
        std::vector<int> used(m, 0);
        for (int j : a.instructor_of)
            if (j >= 0) ++used[static_cast<std::size_t>(j)];
        for (std::size_t j = 0; j < m; ++j) EXPECT_LE(used[j], p.spare[j]);
    }
}

TEST(Assignment, CapacityRunsOut) {
    AssignmentProblem p;
    p.orgs = {{123.80, 42.20}, {123.81, 42.20}, {123.82, 42.20}};
    p.instructors = {{123.80, 42.21}};
    p.spare = {2};
    auto a = solve_assignment(p);
    EXPECT_EQ(a.assigned, 2u);
    EXPECT_EQ(a.instructor_of[2], -1) << "the farthest is left out";
}

namespace {

long long cm(double m) { return std::llround(m * 100); }

void expect_within_capacity(const AssignmentProblem& p, const Assignment& a, const std::string& what) {
    std::vector<int> used(p.instructors.size(), 0);
    for (int j : a.instructor_of)
        if (j >= 0) ++used[static_cast<std::size_t>(j)];
    for (std::size_t j = 0; j < used.size(); ++j) EXPECT_LE(used[j], p.spare[j]) << what;
}

// Organizations and instructors in a 5 km square, some at the same place (ties), capacities
// from none to plenty; with penalties, three streets and three industries as the planner sets
// them, tiers included.
AssignmentProblem random_problem(std::mt19937& rng, bool penalties) {
    std::uniform_real_distribution<double> u(0, 0.05);
    AssignmentProblem p;
    std::size_t n = 20 + rng() % 60, m = 3 + rng() % 12;
    for (std::size_t i = 0; i < n; ++i)
        p.orgs.push_back(i > 0 && rng() % 5 == 0 ? p.orgs[i - 1] : Point{123.8 + u(rng), 42.2 + u(rng)});
    int tight = static_cast<int>(rng() % 3);  // 0: capacity runs out, 1: about enough, 2: plenty
    for (std::size_t j = 0; j < m; ++j) {
        p.instructors.push_back(j > 0 && rng() % 4 == 0 ? p.instructors[j - 1] : Point{123.8 + u(rng), 42.2 + u(rng)});
        p.spare.push_back(static_cast<int>(rng() % (2 + (tight + 1) * n / m)));
    }
    p.k = 1 + rng() % 4;
    if (!penalties) return p;
    std::vector<int> street(n), industry(n), unit(m);
    std::vector<std::vector<int>> skills(m);
    for (auto& s : street) s = static_cast<int>(rng() % 3);
    for (auto& s : industry) s = static_cast<int>(rng() % 3);
    for (std::size_t j = 0; j < m; ++j) {
        unit[j] = static_cast<int>(rng() % 4) - 1;  // -1: no unit
        for (int s = 0; s < 3; ++s)
            if (rng() % 2) skills[j].push_back(s);
    }
    auto skilled = [=](std::size_t j, int ind) {
        return skills[j].empty() || std::find(skills[j].begin(), skills[j].end(), ind) != skills[j].end();
    };
    p.cost = [=, orgs = p.orgs, homes = p.instructors](std::size_t i, std::size_t j) {
        return haversine_m(orgs[i], homes[j]) + (unit[j] != street[i] ? 2000 : 0) +
               (skilled(j, industry[i]) ? 0 : 1000);
    };
    p.max_penalty_m = 3000;
    AssignmentProblem::Tier both, by_street;
    for (std::size_t i = 0; i < n; ++i) {
        both.org_key.push_back(street[i] * 3 + industry[i]);
        both.floor_m.push_back(0);
        by_street.org_key.push_back(street[i]);
        by_street.floor_m.push_back(1000);
    }
    for (std::size_t j = 0; j < m; ++j) {
        std::vector<int> keys;
        if (unit[j] >= 0)
            for (int s = 0; s < 3; ++s)
                if (skilled(j, s)) keys.push_back(unit[j] * 3 + s);
        both.add_instructor(keys.begin(), keys.end());
        if (unit[j] >= 0)
            by_street.add_instructor({unit[j]});
        else
            by_street.add_instructor({});
    }
    p.tiers = {both, by_street};
    p.global_floor_m = 2000;
    return p;
}

}  // namespace

// The fast path (the k cheapest, organizations kept at an uncontested cheapest, the flow over
// the rest, the dual check) reaches the optimum of one flow over every pair.
TEST(Assignment, FastPathEqualsThePlainFlowOverEveryPair) {
    std::mt19937 rng(2026);
    for (bool penalties : {false, true})
        for (int round = 0; round < 150; ++round) {
            auto p = random_problem(rng, penalties);
            auto fast = solve_assignment(p);
            auto plain = solve_assignment_plain(p);
            std::string what = (penalties ? "penalties, round " : "distance, round ") + std::to_string(round);
            EXPECT_EQ(fast.assigned, plain.assigned) << what;
            EXPECT_EQ(cm(fast.cost_m), cm(plain.cost_m)) << what;
            expect_within_capacity(p, fast, what);
            double total = 0;
            for (std::size_t i = 0; i < p.orgs.size(); ++i)
                if (int j = fast.instructor_of[i]; j >= 0)
                    total += cm(p.cost ? p.cost(i, static_cast<std::size_t>(j))
                                       : haversine_m(p.orgs[i], p.instructors[static_cast<std::size_t>(j)])) /
                             100.0;
            EXPECT_EQ(cm(total), cm(fast.cost_m)) << what << ": the reported cost is the assignment's";
        }
}

// Room far away: the nearest instructor is full, so the optimum sends organizations 50 km.
// Each organization's one candidate (k = 1) is the near instructor: only the dual check can
// find the far one.
TEST(Assignment, TheDualCheckFindsRoomBeyondTheCandidates) {
    AssignmentProblem p;
    for (int i = 0; i < 6; ++i) p.orgs.push_back({123.80 + 0.001 * i, 42.20});
    p.instructors = {{123.80, 42.201}, {124.40, 42.20}};
    p.spare = {3, 3};
    p.k = 1;
    auto a = solve_assignment(p);
    EXPECT_EQ(a.assigned, 6u);
    EXPECT_GT(a.added_arcs, 0u);
    EXPECT_GT(a.rounds, 1u);
    auto plain = solve_assignment_plain(p);
    EXPECT_EQ(cm(a.cost_m), cm(plain.cost_m));
    // The three nearest the far instructor go there.
    EXPECT_EQ(a.instructor_of[5], 1);
    EXPECT_EQ(a.instructor_of[0], 0);
}
