#pragma once
// The web page's sign-in: a session cookie made from a token (and ended), and who is signed in.

#include "router.hpp"

namespace covermap::api {

class Auth;

class SessionRoutes {
public:
    SessionRoutes(Context& context, Auth& auth) : context_(context), auth_(auth) {}
    void add_routes(Router& router);

private:
    Response open(const Request&, const Caller&, const Args&);
    Response close(const Request&, const Caller&, const Args&);
    Response me(const Request&, const Caller&, const Args&);
    nlohmann::json who_json(const Caller& who) const;

    Context& context_;
    Auth& auth_;
};

}  // namespace covermap::api
