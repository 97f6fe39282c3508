#pragma once
// The planner's power tools on instructors: draw and assign (a selection's organizations to
// instructors with room, at the least total distance, as a dry run or one undoable change) and
// each instructor's workload in an area.

#include <optional>
#include <string>
#include <vector>

#include "covermap/geo/editor.hpp"
#include "router.hpp"

namespace covermap::api {

/// Which organizations lie in the area with this code (the city's code or empty: all of them),
/// by index of v.data().orgs; nullopt when there is no such area.
std::optional<std::vector<char>> orgs_in_area(const geo::Editor::View& v, const std::string& area);

/// The instructors an area concerns: those whose home lies in it or who serve an organization
/// in it (every instructor for the whole city), as indices of v.data().instructors.
std::vector<std::size_t> instructors_of_area(const geo::Editor::View& v, const std::string& area,
                                             const std::vector<char>& in_area);

class WorkloadRoutes {
public:
    explicit WorkloadRoutes(Context& context) : context_(context) {}
    void add_routes(Router& router);

private:
    Response assign(const Request&, const Caller&, const Args&);
    Response instructors(const Request&, const Caller&, const Args&);

    Context& context_;
};

}  // namespace covermap::api
