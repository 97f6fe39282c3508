// OGC API - Features: landing page, conformance, OpenAPI, collections and items.

#include "ogc_routes.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "coverage_cache.hpp"
#include "covermap/api/geojson.hpp"
#include "covermap/geo/rtree.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/editor.hpp"
#include "covermap/geo/geometry.hpp"
#include "org_routes.hpp"
#include "route_support.hpp"

namespace covermap::api {

using nlohmann::json;
using namespace detail;
using geo::iso8601_utc_now;
using View = geo::Editor::View;

// ---- OGC API - Features -------------------------------------------------------------------

namespace {
json link(const std::string& href, const std::string& rel, const std::string& type, const std::string& title = "") {
    json l = {{"href", href}, {"rel", rel}, {"type", type}};
    if (!title.empty()) l["title"] = title;
    return l;
}
}  // namespace

Response Ogc::landing(const Request& req, const Caller&, const Args&) {
    auto b = base_of(req, context_.options);
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
Response Ogc::openapi(const Request& req, const Caller&, const Args&) {
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
                {"servers", {{{"url", base_of(req, context_.options)}}}},
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

Response Ogc::conformance(const Request&, const Caller&, const Args&) {
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

Response Ogc::collections(const Request& req, const Caller&, const Args&) {
    json list = json::array();
    for (const auto& c : kCollections) {
        Request r = req;
        auto one = collection(r, Caller{"-", Role::viewer, "", "", "", ""}, {c.id});
        list.push_back(json::parse(one.body));
    }
    auto b = base_of(req, context_.options);
    return json_response({{"links", {link(b + "/collections", "self", "application/json")}}, {"collections", list}});
}

Response Ogc::collection(const Request& req, const Caller&, const Args& args) {
    auto it = std::find_if(kCollections.begin(), kCollections.end(), [&](auto& c) { return c.id == args[0]; });
    if (it == kCollections.end()) return error_response(404, "NotFound", "no collection " + args[0]);
    geo::BBox box;
    {
        auto view = context_.editor.view();
        const auto& data = view.data();
        if (args[0] == "orgs" || args[0] == "branches")
            for (const auto& o : data.orgs) box.expand(o.location);
        else if (args[0] == "instructors")
            for (const auto& in : data.instructors) box.expand(in.home);
        else
            for (std::size_t i = 0; i < data.areas.size(); ++i)
                if (data.areas[i].level == kAreaCollections.at(args[0])) box.expand(view.area_bounds()[i]);
    }
    if (box.empty()) box = geo::BBox{-180, -90, 180, 90};
    auto b = base_of(req, context_.options) + "/collections/" + args[0];
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

// GeoJSON features of the collections (from a view of the data), shared by items and item.
namespace {

json org_feature(const geo::Organization& o, const Caller& who) {
    auto properties = geo::to_json(o);
    if (!reads_ledger(who, o)) properties.erase("ledger");
    return {{"type", "Feature"}, {"id", o.id}, {"geometry", point_json(o.location)}, {"properties", properties}};
}

json instructor_feature(const View& view, const geo::Instructor& in) {
    return {{"type", "Feature"},
            {"id", in.id},
            {"geometry", point_json(in.home)},
            {"properties",
             {{"id", in.id},
              {"name", in.name},
              {"capacity", in.capacity},
              {"load", view.load(in.id)},
              {"industries", in.industries},
              {"unit", in.unit}}}};
}

json branch_feature(const View& view, const geo::Branch& b) {
    json pts = json::array();
    for (const auto& id : b.org_ids)
        if (const auto* o = view.org(id)) pts.push_back({o->location.x, o->location.y});
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

json area_feature(const View& view, std::size_t i,
                  const std::unordered_map<std::string, geo::CoverageRow>* coverage) {
    const auto& a = view.data().areas[i];
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

}  // namespace

// Packed R-trees (Boost.Geometry) of the points, by index into the organizations / instructors.
struct Ogc::PointIndex {
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

Ogc::Ogc(Context& context, CoverageCache& coverage) : context_(context), coverage_(coverage) {}
Ogc::~Ogc() = default;

void Ogc::add_routes(Router& router) {
    router.add("GET", "/ogc", Role::viewer, this, &Ogc::landing);
    router.add("GET", "/ogc/conformance", Role::viewer, this, &Ogc::conformance);
    router.add("GET", "/ogc/api", Role::viewer, this, &Ogc::openapi);
    router.add("GET", "/ogc/collections", Role::viewer, this, &Ogc::collections);
    router.add("GET", "/ogc/collections/{}", Role::viewer, this, &Ogc::collection);
    router.add("GET", "/ogc/collections/{}/items", Role::viewer, this, &Ogc::items);
    router.add("GET", "/ogc/collections/{}/items/{}", Role::viewer, this, &Ogc::item);
}

std::shared_ptr<const Ogc::PointIndex> Ogc::point_index() {
    std::lock_guard build(point_index_mutex_);  // one build at a time; others wait for it
    std::uint64_t generation = context_.editor.places_version();
    if (point_index_ && point_index_->generation == generation) return point_index_;
    auto index = std::make_shared<PointIndex>();
    index->generation = generation;
    {
        auto view = context_.editor.view();
        const auto& data = view.data();
        std::vector<PointIndex::Item> items;
        for (std::size_t i = 0; i < data.orgs.size(); ++i)
            items.push_back({{data.orgs[i].location.x, data.orgs[i].location.y}, i});
        index->org_tree = PointIndex::Tree(items.begin(), items.end());
        items.clear();
        for (std::size_t j = 0; j < data.instructors.size(); ++j)
            items.push_back({{data.instructors[j].home.x, data.instructors[j].home.y}, j});
        index->instructor_tree = PointIndex::Tree(items.begin(), items.end());
        index->orgs = data.orgs.size();
        index->instructors = data.instructors.size();
    }
    point_index_ = index;
    return index;
}

Response Ogc::items(const Request& req, const Caller& who, const Args& args) {
    auto it = std::find_if(kCollections.begin(), kCollections.end(), [&](auto& c) { return c.id == args[0]; });
    if (it == kCollections.end()) return error_response(404, "NotFound", "no collection " + args[0]);
    // A parameter this API does not know is an error, not silently ignored (OGC API – Features, 7.15.1).
    if (auto key = unknown_parameter(req, {"bbox", "limit", "offset", "f"}))
        return error_response(400, "InvalidQuery", "unknown parameter '" + *key + "' (bbox, limit, offset)");
    std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> coverage;
    if (kAreaCollections.count(args[0])) coverage = coverage_.by_code(kAreaCollections.at(args[0]));
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
        auto view = context_.editor.view();
        const auto& data = view.data();
        // The index answers a bbox when it was built from the locations as they are now (a move
        // since then sends this one request through a pass over the points).
        if (points && (points->generation != context_.editor.places_version() || points->orgs != data.orgs.size() ||
                       points->instructors != data.instructors.size()))
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
            each(data.orgs.size(), points ? &points->org_tree : nullptr, [&](std::size_t i) {
                geo::BBox fb;
                fb.expand(data.orgs[i].location);
                take(fb, [&] { return org_feature(data.orgs[i], who); });
            });
        } else if (c == "instructors") {
            each(data.instructors.size(), points ? &points->instructor_tree : nullptr, [&](std::size_t j) {
                geo::BBox fb;
                fb.expand(data.instructors[j].home);
                take(fb, [&] { return instructor_feature(view, data.instructors[j]); });
            });
        } else if (c == "branches") {
            for (const auto& b : data.branches) {
                geo::BBox fb;  // the box from its organizations; the feature only when it is on the page
                for (const auto& id : b.org_ids)
                    if (const auto* o = view.org(id)) fb.expand(o->location);
                take(fb, [&] { return branch_feature(view, b); });
            }
        } else {
            auto level = kAreaCollections.at(c);
            for (std::size_t i = 0; i < data.areas.size(); ++i) {
                const auto& a = data.areas[i];
                if (a.level != level) continue;
                take(view.area_bounds()[i], [&] { return area_feature(view, i, coverage.get()); });
            }
        }
    }
    auto b = base_of(req, context_.options) + "/collections/" + args[0] + "/items";
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

Response Ogc::item(const Request& req, const Caller& who, const Args& args) {
    // Organizations and instructors by their text id; branches and areas by number.
    auto fid = parse_id(args[1]);
    std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> coverage;
    if (kAreaCollections.count(args[0])) coverage = coverage_.by_code(kAreaCollections.at(args[0]));
    auto view = context_.editor.view();
    const auto& data = view.data();
    json feature;
    const std::string& c = args[0];
    if (c == "orgs" && view.org(args[1])) {
        feature = org_feature(*view.org(args[1]), who);
    } else if (c == "instructors" && view.instructor(args[1])) {
        feature = instructor_feature(view, *view.instructor(args[1]));
    } else if (c == "branches" && fid) {
        for (const auto& b : data.branches)
            if (b.id == *fid) feature = branch_feature(view, b);
    } else if (kAreaCollections.count(c) && fid && *fid >= 1 && static_cast<std::size_t>(*fid) <= data.areas.size()) {
        if (data.areas[static_cast<std::size_t>(*fid - 1)].level == kAreaCollections.at(c))
            feature = area_feature(view, static_cast<std::size_t>(*fid - 1), coverage.get());
    } else if (std::none_of(kCollections.begin(), kCollections.end(), [&](auto& k) { return k.id == c; })) {
        return error_response(404, "NotFound", "no collection " + c);
    }
    if (feature.is_null()) return error_response(404, "NotFound", "no feature " + args[1] + " in " + c);
    feature["links"] = {link(base_of(req, context_.options) + "/collections/" + c + "/items/" + url_encode(args[1]), "self",
                             "application/geo+json"),
                        link(base_of(req, context_.options) + "/collections/" + c, "collection", "application/json")};
    auto r = json_response(feature);
    r.content_type = "application/geo+json";
    return r;
}

}  // namespace covermap::api
