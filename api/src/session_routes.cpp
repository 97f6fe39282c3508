// The web page's sign-in: its session cookie and who is signed in.
#include "session_routes.hpp"

#include "basemap.hpp"

#include <chrono>

#include "auth.hpp"
#include "covermap/geo/editor.hpp"

namespace covermap::api {

using nlohmann::json;

void SessionRoutes::add_routes(Router& router) {
    router.add("POST", "/api/session", Role::viewer, this, &SessionRoutes::open);
    router.add("DELETE", "/api/session", Role::viewer, this, &SessionRoutes::close);
    router.add("GET", "/api/me", Role::viewer, this, &SessionRoutes::me);
}

Response SessionRoutes::open(const Request& req, const Caller& who, const Args&) {
    if (req.authorization.empty())
        return error_response(401, "Unauthorized", "a session is made from an 'Authorization: Bearer' header");
    std::string value = auth_.open_session(who);
    auto r = json_response(who_json(who), 201);
    // Behind HTTPS (the public URL says so, or a trusted proxy) the cookie is Secure: a browser
    // never sends it over plain HTTP.
    bool https = context_.options.public_url.rfind("https://", 0) == 0 ||
                 (context_.options.public_url.empty() && context_.options.trust_proxy && req.forwarded_proto == "https");
    r.headers.emplace_back("Set-Cookie",
                           std::string(Auth::kCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                               std::to_string(std::chrono::seconds(auth_.session_life()).count()) + (https ? "; Secure" : ""));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

Response SessionRoutes::close(const Request& req, const Caller&, const Args&) {
    auth_.close_session(req);
    Response r;
    r.status = 204;
    r.headers.emplace_back("Set-Cookie", std::string(Auth::kCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return r;
}

Response SessionRoutes::me(const Request&, const Caller& who, const Args&) { return json_response(who_json(who)); }

namespace {

// The base map's URL template for the page: local tiles are covermap's own.
json basemap_url(const std::string& source) {
    if (source.empty()) return nullptr;
    return Basemap::is_local(source) ? "/basemap/{z}/{x}/{y}" : source;
}

}  // namespace

// Who is signed in: the token's name and role, what it is limited to (codes, and the names
// people read), and the base map the page draws.
json SessionRoutes::who_json(const Caller& who) const {
    json j = {{"name", who.name},
              {"role", to_string(who.role)},
              {"area", who.area.empty() ? json() : json(who.area)},
              {"instructor_id", who.instructor_id.empty() ? json() : json(who.instructor_id)},
              {"basemap", basemap_url(context_.options.basemap)},
              {"basemap_attribution",
               context_.options.basemap_attribution.empty() ? json() : json(context_.options.basemap_attribution)}};
    auto v = context_.editor.view();
    if (auto at = who.area.empty() ? std::nullopt : v.area(who.area)) j["area_name"] = v.data().areas[*at].name;
    if (auto* in = who.instructor_id.empty() ? nullptr : v.instructor(who.instructor_id)) j["instructor_name"] = in->name;
    return j;
}

}  // namespace covermap::api
