#pragma once
// Demonstration sites (党建工作示范点) with their quotas, and leaders' contact points (联系点):
// planners designate and take back through the editing service; everyone lists them per
// district, park or the city, as JSON or as the workbook to report.

#include "router.hpp"

namespace covermap::api {

class SiteRoutes {
public:
    explicit SiteRoutes(Context& context) : context_(context) {}
    void add_routes(Router& router);

private:
    Response add_site(const Request&, const Caller&, const Args&);
    Response remove_site(const Request&, const Caller&, const Args&);
    Response sites(const Request&, const Caller&, const Args&);
    Response add_contact(const Request&, const Caller&, const Args&);
    Response remove_contact(const Request&, const Caller&, const Args&);
    Response contacts(const Request&, const Caller&, const Args&);

    Context& context_;
};

}  // namespace covermap::api
