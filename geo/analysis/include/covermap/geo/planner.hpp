#pragma once
/// \file The planner: uncovered clusters, Gi* hot spots, proposals under
/// rules 1–3 (standalone, joint, affiliate, instructor) and flags (rule 4).

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "covermap/geo/assignment.hpp"
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
    /// A district, street or park code: proposals touch only organizations inside it (the
    /// instructors' loads still count everything they serve). Empty: the whole data set.
    std::string area;
    Progress progress;
};

/// Contiguous areas whose smoothed uncovered rate is at least Plan::cluster_rate.
struct Cluster {
    int id = 0;
    std::vector<std::string> areas;
    long long uncovered = 0;
    long long operating = 0;
    std::vector<Id> orgs;
};

/// An area whose neighbourhood's smoothed uncovered rate is significantly high (Gi*, FDR cut).
struct Hotspot {
    std::string code;
    std::string name;
    double z = 0;
    double p = 1;
    double rate = 0;           ///< uncovered / operating
    double smoothed_rate = 0;  ///< empirical Bayes
    long long uncovered = 0;
    long long operating = 0;
};

struct Proposal {
    std::string id;
    std::string type;  ///< standalone | joint | affiliate | instructor | move (a rebalance's)
    std::vector<Id> orgs;
    int members = 0;
    std::string area;  ///< affiliate: the community; joint/standalone: the street
    std::optional<Id> instructor_id;  ///< instructor, move: who takes the organizations
    std::optional<Id> from;           ///< move: the instructor it leaves
    double cost_m = 0;  ///< instructor: total cost; joint: sum of distances to the seed
    std::string street;       ///< the street where most of its organizations lie (code)
    std::string street_name;  ///< and its name
    std::string reason;       ///< one Chinese sentence: why this grouping or assignment
    std::array<double, 4> bbox{};  ///< [minlon, minlat, maxlon, maxlat] of its organizations
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
    double cluster_rate = 0;  ///< overall uncovered rate + one standard deviation of the areas' rates
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
/// Writes to_json(plan) as dump(indent) writes it (indent >= 0), byte for byte, with far less
/// memory and on both cores: what `covermap plan` writes a million organizations' plan with.
void write_json(const Plan& plan, std::ostream& out, int indent = 1);

}  // namespace covermap::geo
