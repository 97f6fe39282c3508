#pragma once
/// \file The instructors' work as planners steer it: a selection assigned at the least total
/// distance (draw and assign), each instructor's load, moves that rebalance an area, and the
/// figures a plan would leave (to compare two plans).

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "covermap/geo/model.hpp"
#include "covermap/geo/planner.hpp"

namespace covermap::geo {

/// A selection's organizations that still need an instructor (indices into d.orgs) given to
/// instructors (indices into d.instructors) within their spare capacity: as many as capacity
/// allows, then the least total great-circle distance, solved exactly by min-cost flow
/// (solve_assignment). Candidates and instructors are taken in the order of their ids, so the
/// same data gives the same answer (a dry run and the commit after it agree).
struct SelectionAssignment {
    struct Pair {
        std::size_t org = 0, instructor = 0;
        double distance_m = 0;
    };
    struct Left {
        std::size_t org = 0;
        std::string reason;  ///< Chinese
    };
    std::vector<Pair> assigned;   ///< by organization id
    std::vector<Left> unassigned;  ///< by organization id
    double total_m = 0;
};

/// Whether an organization needs an instructor: operating, without a branch or instructor.
bool needs_instructor(const Organization& o);

/// `orgs`: the selection's candidates (each needs_instructor); `instructors`: those that may take
/// them; `load`: organizations each instructor of d serves now (per index of d.instructors).
SelectionAssignment assign_selection(const Dataset& d, std::vector<std::size_t> orgs,
                                     std::vector<std::size_t> instructors, const std::vector<int>& load);

/// What each instructor carries: organizations served and the distance to them.
struct InstructorLoad {
    std::size_t instructor = 0;  ///< index in d.instructors
    std::vector<std::size_t> orgs;  ///< indices in d.orgs, by id
    double distance_m = 0;
    int load() const { return static_cast<int>(orgs.size()); }
};

/// Every instructor's load, in d.instructors' order.
std::vector<InstructorLoad> instructor_loads(const Dataset& d);

/// Rebalancing an area with the fewest changes: moves of its organizations from one instructor
/// to another.
struct Move {
    std::size_t org = 0;  ///< index in d.orgs
    std::size_t from = 0, to = 0;  ///< indices in d.instructors
    double saved_m = 0;  ///< distance saved (negative: a move that clears an overload costs distance)
};
struct Rebalance {
    std::vector<Move> moves;
    int overloaded_before = 0, overloaded_after = 0;  ///< instructors over capacity
    double max_load_before = 0, max_load_after = 0;   ///< the highest load ÷ capacity
    double distance_before_m = 0, distance_after_m = 0;  ///< the area's organizations to their instructors
};

/// Moves the area's organizations (in_area[i] for d.orgs[i]) between the instructors concerned
/// (`instructors`, indices in d.instructors: those in the area or serving it) in two passes,
/// at most max_moves in all: first every overload is cleared (the organization and new
/// instructor that cost the least extra distance first), then moves that cut distance, the
/// largest saving first, each to an instructor with room. An organization moves at most once.
/// With no overload to clear, the distance never grows.
Rebalance rebalance(const Dataset& d, const std::vector<char>& in_area, const std::vector<std::size_t>& instructors,
                    std::size_t max_moves);

/// The figures a set of proposals would leave (or today's, for none), and what each proposal
/// does to each organization it touches (Chinese: "指导员 张三", "联合党支部").
struct PlanFigures {
    double org_coverage = 0, work_coverage = 0;  ///< of operating organizations, 0–1
    std::size_t orgs_touched = 0;
    std::size_t instructors_used = 0;  ///< instructors serving at least one organization after it
    double total_m = 0;  ///< every instructor's distance to its organizations after it
    std::map<Id, std::string> outcome;  ///< organization → what the proposals make of it
};
PlanFigures plan_figures(const Dataset& d, const std::vector<Proposal>& proposals);

}  // namespace covermap::geo
