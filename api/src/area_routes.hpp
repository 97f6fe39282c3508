#pragma once
// Areas and their coverage: the coverage table of a level (with the targets beside the rates),
// the list of areas, and an area's card (its figures, shape and uncovered organizations).

#include "router.hpp"

namespace covermap::api {

class CoverageCache;
class Reports;

class AreaRoutes {
public:
    AreaRoutes(Context& context, CoverageCache& coverage, Reports& reports)
        : context_(context), coverage_(coverage), reports_(reports) {}
    void add_routes(Router& router);

private:
    Response coverage(const Request&, const Caller&, const Args&);
    Response list(const Request&, const Caller&, const Args&);
    Response card(const Request&, const Caller&, const Args&);

    Context& context_;
    CoverageCache& coverage_;
    Reports& reports_;
};

}  // namespace covermap::api
