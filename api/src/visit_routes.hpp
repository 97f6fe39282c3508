#pragma once
// Visits to organizations (走访, 电话, 实地查看, 蹲点): an instructor or a planner records one,
// with the ledger confirmed or corrected, through the editing service; the visits of an
// organization, of an instructor or of an area are listed (the current quarter by default).

#include "router.hpp"

namespace covermap::api {

class VisitRoutes {
public:
    explicit VisitRoutes(Context& context) : context_(context) {}
    void add_routes(Router& router);

private:
    Response record(const Request&, const Caller&, const Args&);
    Response of_org(const Request&, const Caller&, const Args&);
    Response list(const Request&, const Caller&, const Args&);

    Context& context_;
};

/// A 五有 checklist as JSON: {"organization", "rules", "activities", "place", "role"}: true|false.
nlohmann::json wuyou_json(int bits);

}  // namespace covermap::api
