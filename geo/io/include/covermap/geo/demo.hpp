#pragma once
/// \file A realistic, reproducible demo data set on the real Tieling county borders.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "covermap/geo/credit_code.hpp"  // credit_code_check, used by the demo and its tests
#include "covermap/geo/model.hpp"
#include "covermap/geo/progress.hpp"

namespace covermap::geo {

struct DemoParams {
    double scale = 1.0;         ///< K: K × (1,822 enterprises + 430 social organizations)
    std::uint64_t seed = 2010;  ///< same seed, same data
    std::string borders;        ///< path to tieling_counties.geojson
    Progress progress;          ///< optional
};

/// The seed figures (Tieling, 2010) the demo reproduces at every scale.
struct SeedFigures {
    static constexpr int enterprises = 1822;
    static constexpr int social = 430;
    static constexpr double enterprise_org_coverage = 514.0 / 1822.0;  // 472 branches
    static constexpr double enterprise_instructor_coverage = 1618.0 / 1822.0;
    static constexpr double social_org_coverage = 0.321;  // 97 branches
    static constexpr double social_instructor_coverage = 0.90;
};

/// Builds the data set: 7 counties split into streets, communities and grid cells that
/// tile their parent, a handful of parks, organizations, branches and instructors.
/// Throws format_error when the borders cannot be read.
Dataset make_demo(const DemoParams& params);

/// A year of visits before `today` (YYYY-MM-DD) to the demo's organizations: most served ones
/// confirmed in each past quarter, fewer so far in this one (in step with how much of it has
/// passed), some calls that confirmed nothing. Same seed, same visits relative to that day.
std::vector<Visit> make_demo_visits(const Dataset& d, std::uint64_t seed, const std::string& today);

/// The demonstration sites' quotas of the policy for `year` (county level: 铁岭县, 开原市, 昌图县,
/// 调兵山市 30 each, 西丰县, 银州区, 清河区 20, the development zone's park 15, the high-tech
/// zone's 5; 30 city-level for the city), some sites designated (organizations with a
/// standalone branch), and leaders' contact points, some of them already sites.
struct DemoFieldLoop {
    std::vector<SiteQuota> quotas;
    std::vector<Site> sites;
    std::vector<ContactPoint> contact_points;
};
DemoFieldLoop make_demo_sites(const Dataset& d, std::uint64_t seed, const std::string& today);

}  // namespace covermap::geo
