#pragma once
// The change log over HTTP: the changes, newest first (of one area, when asked), and undo: a
// change reverted as a new change by the editing service, or 409 with each organization that
// no longer is as the change left it.

#include "router.hpp"

namespace covermap::api {

class CoverageCache;

class ChangeRoutes {
public:
    ChangeRoutes(Context& context, CoverageCache& coverage) : context_(context), coverage_(coverage) {}
    void add_routes(Router& router);

private:
    Response list(const Request&, const Caller&, const Args&);
    Response revert(const Request&, const Caller&, const Args&);

    Context& context_;
    CoverageCache& coverage_;
};

}  // namespace covermap::api
