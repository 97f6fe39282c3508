#pragma once
/// \file The instructor assignment: organizations to instructors under
/// capacities, as many as possible, then the least total cost; solved exactly by min-cost flow.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <utility>
#include <vector>

#include "covermap/geo/model.hpp"

namespace covermap::geo {

/// A capacitated assignment: each organization to at most one instructor, an instructor j
/// taking at most spare[j]; as many organizations as possible, then the least total cost.
/// Costs are compared in whole centimetres.
struct AssignmentProblem {
    std::vector<Point> orgs;
    std::vector<Point> instructors;
    std::vector<int> spare;
    /// Cost in metres of org i with instructor j (default: haversine distance). Must be at least
    /// the great-circle distance (penalties are added, never subtracted) and thread-safe: the
    /// solver calls it from both cores.
    std::function<double(std::size_t, std::size_t)> cost;
    std::size_t k = 8;  ///< candidate instructors per organization (its k cheapest)
    /// Upper bound of cost − distance (the largest penalty). With the points' spread it bounds
    /// every cost, which sets the price of leaving an organization out: more than any
    /// reshuffle could save, so the most organizations are assigned first.
    double max_penalty_m = 0;
    /// Optional tiers of groups for a faster candidate search, most specific first (e.g. street
    /// and industry, then street). Organization i belongs to group org_key[i] of a tier (−1:
    /// none), instructor j to the groups add_instructor gave it (its j-th call). The search
    /// walks the org's group of each tier, then everyone; floor_m[i] (per tier) and
    /// global_floor_m must be lower bounds of cost − distance for the instructors first met in
    /// that walk.
    struct Tier {
        std::vector<int> org_key;
        std::vector<double> floor_m;

        /// Appends the next instructor's groups (none: it is in no group of this tier).
        template <class It>
        void add_instructor(It begin, It end) {
            keys_.insert(keys_.end(), begin, end);
            first_.push_back(static_cast<std::uint32_t>(keys_.size()));
        }
        void add_instructor(std::initializer_list<int> keys) { add_instructor(keys.begin(), keys.end()); }
        /// Instructor j's groups, as [begin, end).
        std::pair<const int*, const int*> keys_of(std::size_t j) const {
            return {keys_.data() + first_[j], keys_.data() + first_[j + 1]};
        }

    private:
        // Every instructor's keys in one array (a vector per instructor was 64 MB of small
        // allocations at scale 500): instructor j's are keys_[first_[j]] .. keys_[first_[j + 1]].
        std::vector<int> keys_;
        std::vector<std::uint32_t> first_{0};
    };
    std::vector<Tier> tiers;
    double global_floor_m = 0;
};

struct Assignment {
    std::vector<int> instructor_of;  ///< per org: instructor index or -1
    std::size_t assigned = 0;
    double cost_m = 0;
    std::size_t k = 0;           ///< candidates per organization
    std::size_t rounds = 0;      ///< flows solved until the dual check passed
    std::size_t flow_orgs = 0;   ///< organizations in the last flow (the others kept their cheapest)
    std::size_t added_arcs = 0;  ///< arcs the dual check added beyond the k cheapest
};

/// Solves the assignment exactly. Each organization's k cheapest instructors are found exactly
/// (nearest-first walks bounded by chord distance, a lower bound of the great-circle one).
/// An organization keeps its cheapest instructor when each of its candidates has room for everyone
/// whose cheapest it is; the others go into a min-cost flow (LEMON NetworkSimplex). The combined
/// solution is then proved optimal for the full problem, every organization against every
/// instructor, by LP duality: from the flow's node potentials, every pair not in the flow must
/// have a non-negative reduced cost. A pair that has not joins the flow with its organization,
/// and the flow is solved again, until none is left. See assignment.cpp for the argument.
Assignment solve_assignment(const AssignmentProblem& problem);

/// The plain reference: one min-cost flow over every organization–instructor pair. Exact and
/// slow (n × m arcs); the tests check solve_assignment against it.
Assignment solve_assignment_plain(const AssignmentProblem& problem);

}  // namespace covermap::geo
