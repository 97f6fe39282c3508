#pragma once
// The route table and what every service of the API is given: the request's context (options,
// metrics, the editing service, the tiles, the stop flag). Each service registers its own routes
// (add_routes); App matches a request, checks the caller's role and calls the handler.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "covermap/api/app.hpp"
#include "covermap/api/http.hpp"

namespace covermap::api {

using Args = std::vector<std::string>;
using Handler = std::function<Response(const Request&, const Caller&, const Args&)>;

/// What the services share, all owned by App and living as long as it.
struct Context {
    const AppOptions& options;
    Metrics& metrics;
    geo::Editor& editor;
    tiles::TileService& tiles;
    const std::atomic<bool>& stopping;  ///< slow work in progress stops soon
};

class Router {
public:
    struct Route {
        std::string method;
        std::vector<std::string> pattern;  // segments; "{}" matches one
        Role role;
        Handler handler;
        std::string name;
    };

    void add(std::string method, const std::string& pattern, Role role, Handler handler);
    /// A member function of a service as the handler.
    template <class S>
    void add(std::string method, const std::string& pattern, Role role, S* service,
             Response (S::*handler)(const Request&, const Caller&, const Args&)) {
        add(std::move(method), pattern, role, [service, handler](const Request& q, const Caller& w, const Args& a) {
            return (service->*handler)(q, w, a);
        });
    }

    /// The route of a request, its {} segments into args; path_known tells 405 from 404.
    const Route* match(const Request& req, Args& args, bool& path_known) const;

private:
    std::vector<Route> routes_;
};

}  // namespace covermap::api
