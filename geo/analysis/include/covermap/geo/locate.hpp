#pragma once
/// \file Siting: where to base p instructors among candidate points so that
/// the total (demand-weighted) distance is least, with or without capacities (p-median).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace covermap::geo {

/// A p-median instance: n points, a full n × n cost matrix, demands.
struct LocateProblem {
    std::vector<std::string> ids;
    std::vector<double> demand;  ///< per point (1 when not given)
    std::vector<double> cost;    ///< row-major n × n: cost[i * n + j] from point i to median j
    std::size_t p = 1;
    std::optional<double> capacity;  ///< most demand a median may serve (itself included)
    bool weighted = false;           ///< objective Σ demand × cost instead of Σ cost
    unsigned seed = 1;
    int iterations = 200;  ///< variable-neighbourhood shakes after the first local optimum

    std::size_t size() const { return ids.size(); }
    double c(std::size_t i, std::size_t j) const { return cost[i * ids.size() + j]; }
};

struct LocateResult {
    double cost = 0;                      ///< objective of the solution
    std::vector<std::size_t> medians;     ///< point indexes, sorted
    std::vector<std::size_t> assignment;  ///< per point: its median's index
    double lower_bound = 0;               ///< Lagrangian bound of the uncapacitated relaxation
    bool feasible = true;                 ///< false when capacities cannot hold the demand
};

/// Reads `id,x,y,demand` (planar, Euclidean costs) or `i,j,cost` rows; throws format_error.
LocateProblem read_points_csv(const std::string& path);
LocateProblem read_costs_csv(const std::string& path);

/// Greedy construction, then vertex substitution (swap) local search inside a variable
/// neighbourhood search; capacitated assignments by regret-ordered greedy plus shift and swap
/// repairs. Throws invalid_argument for p out of range.
LocateResult solve_p_median(const LocateProblem& problem);

/// Cost of a given solution (checks that each point's median is a median).
double objective(const LocateProblem& problem, const std::vector<std::size_t>& assignment);

}  // namespace covermap::geo
