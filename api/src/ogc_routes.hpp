#pragma once
// OGC API - Features: landing page, conformance, OpenAPI, collections and their items (with
// bbox queries answered from packed R-trees of the points, built again when places change).

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "covermap/geo/figures.hpp"
#include "router.hpp"

namespace covermap::geo {
struct BBox;
}

namespace covermap::api {

class CoverageCache;

class Ogc {
public:
    Ogc(Context& context, CoverageCache& coverage);
    ~Ogc();
    void add_routes(Router& router);

private:
    Response landing(const Request&, const Caller&, const Args&);
    Response conformance(const Request&, const Caller&, const Args&);
    Response openapi(const Request&, const Caller&, const Args&);
    Response collections(const Request&, const Caller&, const Args&);
    Response collection(const Request&, const Caller&, const Args&);
    Response items(const Request&, const Caller&, const Args&);
    Response item(const Request&, const Caller&, const Args&);

    struct PointIndex;
    std::shared_ptr<const PointIndex> point_index();

    Context& context_;
    CoverageCache& coverage_;
    std::mutex point_index_mutex_;  // one build at a time
    std::shared_ptr<const PointIndex> point_index_;
};

}  // namespace covermap::api
