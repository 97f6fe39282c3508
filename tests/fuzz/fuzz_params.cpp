// The query parameters that reach GDAL or a parser: bbox, where, srs (and limit, near), from
// three NUL-separated strings, through the routes that take them; and the EPSG parser itself.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "covermap/api/http.hpp"
#include "covermap/geo/text.hpp"
#include "fuzz_app.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& f = covermap::fuzz::fixture();
    std::vector<std::string> part(3);
    std::size_t k = 0;
    for (std::size_t i = 0; i < size && k < 3; ++i) {
        if (data[i] == 0) {
            ++k;
            continue;
        }
        part[k] += static_cast<char>(data[i]);
    }
    (void)covermap::geo::parse_epsg(part[2]);
    auto ask = [&](const std::string& path, std::map<std::string, std::string> query) {
        covermap::api::Request req;
        req.method = "GET";
        std::string target = path + "?";
        for (const auto& [key, value] : query) target += key + "=" + covermap::api::url_encode(value) + "&";
        covermap::api::parse_target(target, req);
        req.authorization = "Bearer " + f.viewer;
        req.local_address = "127.0.0.1:8080";
        covermap::fuzz::check(f.app->handle(req));
    };
    ask("/ogc/collections/orgs/items", {{"bbox", part[0]}, {"limit", part[1]}});
    ask("/ogc/collections/areas-street/items", {{"bbox", part[0]}, {"offset", part[2]}});
    ask("/api/export/orgs", {{"format", "csv"}, {"where", part[1]}, {"srs", part[2]}});
    ask("/api/orgs", {{"near", part[0]}, {"q", part[1]}, {"radius_m", part[2]}});
    ask("/api/coverage", {{"level", part[2]}});
    return 0;
}
