#pragma once
/// \file The planner (DESIGN.md §3): uncovered clusters, Gi* hot spots, proposals under
/// rules 1–3 (standalone, joint, affiliate, instructor) and flags (rule 4).

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "covermap/geo/model.hpp"
#include "covermap/geo/progress.hpp"

namespace covermap::geo {

enum class CostMode { distance, planning };

struct PlanParams {
    Level level = Level::grid;  ///< areas for clusters and hot spots
    CostMode cost = CostMode::planning;
    double tolerance_m = 1.0;               ///< fuzzy contiguity for the area graph
    double alpha = 0.05;                    ///< false-discovery rate for hot spots
    double street_penalty_m = 2000;         ///< planning: instructor from another street
    double industry_penalty_m = 1000;       ///< planning: org industry not in the instructor's
    double joint_industry_penalty_m = 800;  ///< joint grouping: different industry
    double joint_max_m = 3000;              ///< joint grouping: members at most this far from the seed
    double contiguity_max_m = 1000;         ///< planning: most extra cost to move an org for a contiguous territory
    int min_members = 3;                    ///< rule 1 / rule 2 floor
    int joint_max_orgs = 5;                 ///< rule 2 cap
    Progress progress;
};

struct Cluster {
    int id = 0;
    std::vector<std::string> areas;
    long long uncovered = 0;
    std::vector<Id> orgs;
};

struct Hotspot {
    std::string code;
    std::string name;
    double z = 0;
    double p = 1;
};

struct Proposal {
    std::string id;
    std::string type;  ///< standalone | joint | affiliate | instructor
    std::vector<Id> orgs;
    int members = 0;
    std::string area;  ///< affiliate: the community; joint/standalone: the street
    std::optional<Id> instructor_id;
    double cost_m = 0;  ///< instructor: total cost; joint: sum of distances to the seed
};

struct Flag {
    std::string type;
    std::vector<std::string> ids;
    std::string message;
};

struct Plan {
    Level level = Level::grid;
    CostMode cost = CostMode::planning;
    std::vector<Cluster> clusters;
    std::vector<Hotspot> hotspots;
    std::size_t hotspot_tests = 0;
    double hotspot_p_cut = 0;
    double hotspot_alpha = 0.05;
    std::vector<Proposal> proposals;
    std::vector<Flag> flags;
    std::size_t instructor_k = 0;      ///< candidate instructors per organization at the optimum
    std::size_t unassigned = 0;        ///< organizations left without an instructor (no capacity)
    std::size_t contiguity_moves = 0;  ///< planning: organizations moved to keep territories contiguous
    double contiguity_cost_m = 0;      ///< the extra cost of those moves
    std::vector<std::pair<std::string, double>> timings_ms;
};

Plan make_plan(const Dataset& d, const PlanParams& params);
/// Rule 4's flags of the data as it stands: shell branches (fewer than min_members members, or
/// an organization no longer operating), joint branches over joint_max_orgs, 50+ employees
/// without a party member, instructors over capacity, invalid and duplicate credit codes.
std::vector<Flag> rule4_flags(const Dataset& d, int min_members = 3, int joint_max_orgs = 5);
nlohmann::json to_json(const Plan& plan);

/// A capacitated assignment: each organization to at most one instructor, an instructor j
/// taking at most spare[j]; as many organizations as possible, then the least total cost.
struct AssignmentProblem {
    std::vector<Point> orgs;
    std::vector<Point> instructors;
    std::vector<int> spare;
    /// Cost in metres of org i with instructor j (default: haversine distance).
    std::function<double(std::size_t, std::size_t)> cost;
    std::size_t k = 8;  ///< first candidate count per org (nearest instructors); grown until the optimum holds
    /// Upper bound of cost − distance (penalties): candidates also include every instructor
    /// within (k-th nearest distance + this), so the k cheapest by cost are always candidates.
    double max_penalty_m = 0;
    /// Optional tiers of groups for a faster, still exact, candidate search, most specific
    /// first (e.g. street and industry, then street). Organization i belongs to group
    /// org_key[i] of a tier (−1: none), instructor j to instructor_keys[j]. The search walks
    /// the org's group of each tier, then everyone; floor_m[i] (per tier) and global_floor_m
    /// must be lower bounds of cost − distance for the instructors first met in that walk.
    struct Tier {
        std::vector<int> org_key;
        std::vector<std::vector<int>> instructor_keys;
        std::vector<double> floor_m;
    };
    std::vector<Tier> tiers;
    double global_floor_m = 0;
};

struct Assignment {
    std::vector<int> instructor_of;  ///< per org: instructor index or -1
    std::size_t assigned = 0;
    double cost_m = 0;
    std::size_t k = 0;  ///< candidates per org when the optimum stopped changing
};

/// Solves the assignment exactly by min-cost flow (LEMON NetworkSimplex) over the k nearest
/// instructors per organization, doubling k until the optimum no longer changes.
Assignment solve_assignment(const AssignmentProblem& problem);

}  // namespace covermap::geo
