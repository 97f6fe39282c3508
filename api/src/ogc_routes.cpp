// OGC API - Features: landing page, conformance, OpenAPI, collections and items.

#include <algorithm>
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "covermap/api/app.hpp"
#include "covermap/api/geojson.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/export.hpp"
#include "covermap/geo/import.hpp"
#include "covermap/geo/planner.hpp"
#include "covermap/geo/text.hpp"
#include "route_support.hpp"

namespace covermap::api {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace detail;
using geo::iso8601_utc_now;

// ---- OGC API - Features -------------------------------------------------------------------

namespace {
json link(const std::string& href, const std::string& rel, const std::string& type, const std::string& title = "") {
    json l = {{"href", href}, {"rel", rel}, {"type", type}};
    if (!title.empty()) l["title"] = title;
    return l;
}
}  // namespace

Response App::ogc_landing(const Request& req, const Token&, const std::vector<std::string>&) {
    auto b = base_of(req, options_);
    return json_response(
        {{"title", "covermap"},
         {"description", "Two-coverages data of covermap: organizations, instructors, branches, areas"},
         {"links",
          {link(b, "self", "application/json", "this document"),
           link(b + "/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API (OpenAPI 3.0)"),
           link(b + "/conformance", "conformance", "application/json", "conformance classes"),
           link(b + "/collections", "data", "application/json", "collections")}}});
}

// The OpenAPI 3.0 description of the OGC API: GDAL's OAPIF driver and QGIS look for it
// through the landing page's service-desc link.
Response App::ogc_openapi(const Request& req, const Token&, const std::vector<std::string>&) {
    auto param = [](const char* name, const char* in, const char* type, bool required, const char* what) {
        json p = {{"name", name}, {"in", in}, {"required", required}, {"description", what}};
        p["schema"] = std::string(type) == "bbox"
                          ? json{{"type", "array"}, {"minItems", 4}, {"maxItems", 4}, {"items", {{"type", "number"}}}}
                          : json{{"type", type}};
        if (std::string(type) == "bbox") p["style"] = "form", p["explode"] = false;
        return p;
    };
    auto op = [](const char* summary, json params, const char* type) {
        return json{{"get",
                     {{"summary", summary},
                      {"parameters", std::move(params)},
                      {"responses", {{"200", {{"description", summary}, {"content", {{type, json::object()}}}}}}}}}};
    };
    json collection = param("collectionId", "path", "string", true, "orgs, instructors, branches, areas-park…");
    json doc = {{"openapi", "3.0.3"},
                {"info", {{"title", "covermap OGC API – Features"}, {"version", "1.0.0"}}},
                {"servers", {{{"url", base_of(req, options_)}}}},
                {"components", {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
                {"security", {{{"bearer", json::array()}}}},
                {"paths",
                 {{"/", op("landing page", json::array(), "application/json")},
                  {"/conformance", op("conformance classes", json::array(), "application/json")},
                  {"/collections", op("collections", json::array(), "application/json")},
                  {"/collections/{collectionId}", op("a collection", {collection}, "application/json")},
                  {"/collections/{collectionId}/items",
                   op("features of a collection",
                      {collection, param("bbox", "query", "bbox", false, "minx,miny,maxx,maxy (CRS84)"),
                       param("limit", "query", "integer", false, "1–10000, default 10"),
                       param("offset", "query", "integer", false, "features to skip")},
                      "application/geo+json")},
                  {"/collections/{collectionId}/items/{featureId}",
                   op("one feature",
                      {collection, param("featureId", "path", "string", true, "the feature's id (text, URL-encoded)")},
                      "application/geo+json")}}}};
    auto r = json_response(doc);
    r.content_type = "application/vnd.oai.openapi+json;version=3.0";
    return r;
}

Response App::ogc_conformance(const Request&, const Token&, const std::vector<std::string>&) {
    return json_response({{"conformsTo",
                           {"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"}}});
}

namespace {
struct CollectionInfo {
    std::string id, title;
};
const std::vector<CollectionInfo> kCollections = {
    {"orgs", "两新组织 organizations"},   {"instructors", "党建指导员 instructors"},
    {"branches", "党组织 branches"},      {"areas-park", "园区 parks"},
    {"areas-street", "街道乡镇 streets"}, {"areas-community", "社区 communities"},
    {"areas-grid", "网格 grid cells"}};
}  // namespace

Response App::ogc_collections(const Request& req, const Token&, const std::vector<std::string>&) {
    json list = json::array();
    for (const auto& c : kCollections) {
        Request r = req;
        auto one = ogc_collection(r, Token{"-", Role::viewer, "", ""}, {c.id});
        list.push_back(json::parse(one.body));
    }
    auto b = base_of(req, options_);
    return json_response({{"links", {link(b + "/collections", "self", "application/json")}}, {"collections", list}});
}

Response App::ogc_collection(const Request& req, const Token&, const std::vector<std::string>& args) {
    auto it = std::find_if(kCollections.begin(), kCollections.end(), [&](auto& c) { return c.id == args[0]; });
    if (it == kCollections.end()) return error_response(404, "NotFound", "no collection " + args[0]);
    geo::BBox box;
    {
        std::shared_lock lock(data_mutex_);
        if (args[0] == "orgs" || args[0] == "branches")
            for (const auto& o : data_.orgs) box.expand(o.location);
        else if (args[0] == "instructors")
            for (const auto& in : data_.instructors) box.expand(in.home);
        else
            for (const auto& a : data_.areas)
                if (a.level == kAreaCollections.at(args[0])) box.expand(geo::bounds(a.shape));
    }
    if (box.empty()) box = geo::BBox{-180, -90, 180, 90};
    auto b = base_of(req, options_) + "/collections/" + args[0];
    return json_response(
        {{"id", args[0]},
         {"title", it->title},
         {"itemType", "feature"},
         {"crs", {"http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
         {"extent",
          {{"spatial",
            {{"bbox", {{box.minx, box.miny, box.maxx, box.maxy}}},
             {"crs", "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}}}},
         {"links",
          {link(b, "self", "application/json"), link(b + "/items", "items", "application/geo+json", "items")}}});
}

// GeoJSON features of the collections (callers hold the data lock), shared by items and item.
json App::org_feature(const geo::Organization& o) const {
    return {{"type", "Feature"}, {"id", o.id}, {"geometry", point_json(o.location)}, {"properties", org_json(o)}};
}

json App::instructor_feature(const geo::Instructor& in) const {
    return {{"type", "Feature"},
            {"id", in.id},
            {"geometry", point_json(in.home)},
            {"properties",
             {{"id", in.id},
              {"name", in.name},
              {"capacity", in.capacity},
              {"load", load_.count(in.id) ? load_.at(in.id) : 0},
              {"industries", in.industries},
              {"unit", in.unit}}}};
}

json App::branch_feature(const geo::Branch& b, geo::BBox& box) const {
    json pts = json::array();
    for (auto id : b.org_ids)
        if (auto o = org_index_.find(id); o != org_index_.end()) {
            box.expand(data_.orgs[o->second].location);
            pts.push_back({data_.orgs[o->second].location.x, data_.orgs[o->second].location.y});
        }
    return {{"type", "Feature"},
            {"id", b.id},
            {"geometry", {{"type", "MultiPoint"}, {"coordinates", pts}}},
            {"properties",
             {{"id", b.id},
              {"name", b.name},
              {"type", std::string(geo::to_string(b.type))},
              {"members", b.members},
              {"level", std::string(geo::branch_level(b.members))},
              {"org_ids", b.org_ids}}}};
}

json App::area_feature(std::size_t i, const std::unordered_map<std::string, geo::CoverageRow>* coverage) const {
    const auto& a = data_.areas[i];
    json props = {{"code", a.code},
                  {"name", a.name},
                  {"level", std::string(geo::to_string(a.level))},
                  {"parent_code", a.parent_code}};
    // The coverage figures as attributes, so that a desktop GIS can colour areas by them.
    if (coverage) {
        geo::CoverageRow c;
        if (auto it = coverage->find(a.code); it != coverage->end()) c = it->second;
        auto figures = geo::to_json(c);
        figures.erase("code");
        figures.erase("name");
        // Rates to four decimals: a desktop GIS shows the attribute as it is.
        for (const char* rate : {"org_coverage", "standalone_rate", "work_coverage", "instructor_coverage"})
            figures[rate] = std::round(figures[rate].get<double>() * 1e4) / 1e4;
        props.update(figures);
    }
    return {{"type", "Feature"},
            {"id", static_cast<std::int64_t>(i + 1)},
            {"geometry", geometry_json(a.shape)},
            {"properties", props}};
}

// Packed R-trees (Boost.Geometry) of the points, by index into data_.orgs / data_.instructors.
struct App::PointIndex {
    using Item = std::pair<boost::geometry::model::point<double, 2, boost::geometry::cs::cartesian>, std::size_t>;
    using Tree = boost::geometry::index::rtree<Item, boost::geometry::index::rstar<16>>;
    std::uint64_t generation = 0;
    std::size_t orgs = 0, instructors = 0;
    Tree org_tree, instructor_tree;

    // Indexes of the points inside b (borders included), in index order (the order of a pass).
    static std::vector<std::size_t> inside(const Tree& tree, const geo::BBox& b) {
        namespace bg = boost::geometry;
        bg::model::box<Item::first_type> box({b.minx, b.miny}, {b.maxx, b.maxy});
        std::vector<std::size_t> hits;
        for (auto it = tree.qbegin(bg::index::covered_by(box)); it != tree.qend(); ++it) hits.push_back(it->second);
        std::sort(hits.begin(), hits.end());
        return hits;
    }
};

std::shared_ptr<const App::PointIndex> App::point_index() {
    std::lock_guard build(point_index_mutex_);  // one build at a time; others wait for it
    std::uint64_t generation = reload_generation_;
    if (point_index_ && point_index_->generation == generation) return point_index_;
    auto index = std::make_shared<PointIndex>();
    index->generation = generation;
    {
        std::shared_lock lock(data_mutex_);
        std::vector<PointIndex::Item> items;
        for (std::size_t i = 0; i < data_.orgs.size(); ++i)
            items.push_back({{data_.orgs[i].location.x, data_.orgs[i].location.y}, i});
        index->org_tree = PointIndex::Tree(items.begin(), items.end());
        items.clear();
        for (std::size_t j = 0; j < data_.instructors.size(); ++j)
            items.push_back({{data_.instructors[j].home.x, data_.instructors[j].home.y}, j});
        index->instructor_tree = PointIndex::Tree(items.begin(), items.end());
        index->orgs = data_.orgs.size();
        index->instructors = data_.instructors.size();
    }
    point_index_ = index;
    return index;
}

Response App::ogc_items(const Request& req, const Token&, const std::vector<std::string>& args) {
    auto it = std::find_if(kCollections.begin(), kCollections.end(), [&](auto& c) { return c.id == args[0]; });
    if (it == kCollections.end()) return error_response(404, "NotFound", "no collection " + args[0]);
    // A parameter this API does not know is an error, not silently ignored (OGC API – Features, 7.15.1).
    if (auto key = unknown_parameter(req, {"bbox", "limit", "offset", "f"}))
        return error_response(400, "InvalidQuery", "unknown parameter '" + *key + "' (bbox, limit, offset)");
    std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> coverage;
    if (kAreaCollections.count(args[0])) coverage = coverage_by_code(kAreaCollections.at(args[0]));
    auto limit_param = number_param(req, "limit", 10, 1, 10000);
    if (!limit_param) return error_response(400, "InvalidQuery", "limit must be 1–10000");
    auto offset_param = number_param(req, "offset", 0, 0, 1LL << 40);
    if (!offset_param) return error_response(400, "InvalidQuery", "offset must be ≥ 0");
    const long limit = static_cast<long>(*limit_param), offset = static_cast<long>(*offset_param);
    std::optional<geo::BBox> filter;
    if (req.query.count("bbox")) {
        std::stringstream in(req.query.at("bbox"));
        std::vector<double> v;
        std::string part;
        while (std::getline(in, part, ',')) {
            // Decimal numbers only: no hex floats, no nan or inf.
            double d = 0;
            auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), d, std::chars_format::general);
            if (ec != std::errc() || ptr != part.data() + part.size() || !std::isfinite(d)) {
                v.clear();
                break;
            }
            v.push_back(d);
        }
        if (v.size() != 4 || v[0] > v[2] || v[1] > v[3])
            return error_response(400, "InvalidQuery", "bbox must be minx,miny,maxx,maxy");
        filter = geo::BBox{v[0], v[1], v[2], v[3]};
    }
    json features = json::array();
    long matched = 0;
    std::shared_ptr<const PointIndex> points;
    if (filter && (args[0] == "orgs" || args[0] == "instructors")) points = point_index();
    {
        std::shared_lock lock(data_mutex_);
        // The index answers a bbox when it was built from the locations as they are now (a move
        // since then sends this one request through a pass over the points).
        if (points && (points->generation != reload_generation_ || points->orgs != data_.orgs.size() ||
                       points->instructors != data_.instructors.size()))
            points.reset();
        auto take = [&](const geo::BBox& fb, auto&& make) {
            if (filter && !filter->intersects(fb)) return;
            if (matched >= offset && matched < offset + limit) features.push_back(make());
            ++matched;
        };
        const std::string& c = args[0];
        auto each = [&](std::size_t count, const PointIndex::Tree* tree, auto&& visit) {
            if (tree) {
                for (auto i : PointIndex::inside(*tree, *filter)) visit(i);
            } else {
                for (std::size_t i = 0; i < count; ++i) visit(i);
            }
        };
        if (c == "orgs") {
            each(data_.orgs.size(), points ? &points->org_tree : nullptr, [&](std::size_t i) {
                geo::BBox fb;
                fb.expand(data_.orgs[i].location);
                take(fb, [&] { return org_feature(data_.orgs[i]); });
            });
        } else if (c == "instructors") {
            each(data_.instructors.size(), points ? &points->instructor_tree : nullptr, [&](std::size_t j) {
                geo::BBox fb;
                fb.expand(data_.instructors[j].home);
                take(fb, [&] { return instructor_feature(data_.instructors[j]); });
            });
        } else if (c == "branches") {
            for (const auto& b : data_.branches) {
                geo::BBox fb;  // the box from its organizations; the feature only when it is on the page
                for (const auto& id : b.org_ids)
                    if (auto o = org_index_.find(id); o != org_index_.end()) fb.expand(data_.orgs[o->second].location);
                take(fb, [&] {
                    geo::BBox unused;
                    return branch_feature(b, unused);
                });
            }
        } else {
            auto level = kAreaCollections.at(c);
            for (std::size_t i = 0; i < data_.areas.size(); ++i) {
                const auto& a = data_.areas[i];
                if (a.level != level) continue;
                take(area_bounds_[i], [&] { return area_feature(i, coverage.get()); });
            }
        }
    }
    auto b = base_of(req, options_) + "/collections/" + args[0] + "/items";
    auto page = [&](long off) {
        std::string h = b + "?limit=" + std::to_string(limit) + "&offset=" + std::to_string(off);
        if (filter) h += "&bbox=" + req.query.at("bbox");
        return h;
    };
    json links = {link(page(offset), "self", "application/geo+json")};
    if (offset + limit < matched)
        links.push_back(link(page(offset + limit), "next", "application/geo+json", "next page"));
    json j = {{"type", "FeatureCollection"},       {"features", features},           {"numberMatched", matched},
              {"numberReturned", features.size()}, {"timeStamp", iso8601_utc_now()}, {"links", links}};
    auto r = json_response(j);
    r.content_type = "application/geo+json";
    return r;
}

Response App::ogc_item(const Request& req, const Token&, const std::vector<std::string>& args) {
    // Organizations and instructors by their text id; branches and areas by number.
    auto fid = parse_id(args[1]);
    std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> coverage;
    if (kAreaCollections.count(args[0])) coverage = coverage_by_code(kAreaCollections.at(args[0]));
    std::shared_lock lock(data_mutex_);
    json feature;
    const std::string& c = args[0];
    if (c == "orgs" && org_index_.count(args[1])) {
        feature = org_feature(data_.orgs[org_index_.at(args[1])]);
    } else if (c == "instructors" && instructor_index_.count(args[1])) {
        feature = instructor_feature(data_.instructors[instructor_index_.at(args[1])]);
    } else if (c == "branches" && fid) {
        for (const auto& b : data_.branches) {
            geo::BBox unused;
            if (b.id == *fid) feature = branch_feature(b, unused);
        }
    } else if (kAreaCollections.count(c) && fid && *fid >= 1 && static_cast<std::size_t>(*fid) <= data_.areas.size()) {
        if (data_.areas[static_cast<std::size_t>(*fid - 1)].level == kAreaCollections.at(c))
            feature = area_feature(static_cast<std::size_t>(*fid - 1), coverage.get());
    } else if (std::none_of(kCollections.begin(), kCollections.end(), [&](auto& k) { return k.id == c; })) {
        return error_response(404, "NotFound", "no collection " + c);
    }
    if (feature.is_null()) return error_response(404, "NotFound", "no feature " + args[1] + " in " + c);
    feature["links"] = {link(base_of(req, options_) + "/collections/" + c + "/items/" + url_encode(args[1]), "self",
                             "application/geo+json"),
                        link(base_of(req, options_) + "/collections/" + c, "collection", "application/json")};
    auto r = json_response(feature);
    r.content_type = "application/geo+json";
    return r;
}

}  // namespace covermap::api
