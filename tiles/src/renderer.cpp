#include "covermap/tiles/renderer.hpp"

#include <unicode/unistr.h>

#include <cmath>
#include <map>
#include <mapnik/agg_renderer.hpp>
#include <mapnik/cairo/cairo_context.hpp>
#include <mapnik/cairo/cairo_renderer.hpp>
#include <mapnik/feature.hpp>
#include <mapnik/feature_factory.hpp>
#include <mapnik/geometry.hpp>
#include <mapnik/image.hpp>
#include <mapnik/image_util.hpp>
#include <mapnik/image_view.hpp>
#include <mapnik/layer.hpp>
#include <mapnik/load_map.hpp>
#include <mapnik/map.hpp>
#include <mapnik/memory_datasource.hpp>
#include <mapnik/raster.hpp>
#include <mapnik/unicode.hpp>
#include <mapnik/value.hpp>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "covermap/tiles/heatmap.hpp"
#include "covermap/tiles/mapnik_setup.hpp"
#include "covermap/tiles/print.hpp"
#include "covermap/tiles/tile_id.hpp"
#include "covermap/tiles/png_exact.hpp"

namespace covermap::tiles {

namespace {

constexpr double kWorld = 2 * 20037508.342789244;

double resolution(int z) { return kWorld / (256.0 * std::pow(2.0, z)); }

// Scale denominator of zoom z for 256 px tiles (OGC 0.28 mm pixels), a hair above so the
// rule holds at exactly that zoom.
std::string min_zoom(int z) {
    std::ostringstream s;
    s.precision(12);
    s << "<MaxScaleDenominator>" << 559082264.028 / std::pow(2.0, z) * 1.01 << "</MaxScaleDenominator>";
    return s.str();
}

// The CJK fallback chain, from the faces found at start (WenQuanYi Micro Hei, Noto CJK, DejaVu).
std::string font_set() {
    std::string x = R"X(<FontSet name="cjk">)X";
    for (const auto& face : init_mapnik()) x += "<Font face-name=\"" + face + "\"/>";
    return x + "</FontSet>";
}

// ---- The cartographic design (README, "Cartography") ---------------------------------------
// Coverage is a sequential blue ramp (pale = gap, dark = covered) and everything that means
// "uncovered" is red: the heatmap and uncovered organizations. Blue and red stay apart under
// red-green colour-vision deficiency (a test simulates it). Borders get heavier up the
// hierarchy (grid < community < street < district); parks get a dark outline on a white
// casing over any fill; labels carry the rate; points carry a white halo.

double border_width(geo::Level level) {
    switch (level) {
        case geo::Level::district:
            return 2.4;
        case geo::Level::street:
            return 1.3;
        case geo::Level::community:
            return 0.8;
        case geo::Level::grid:
            return 0.4;
        case geo::Level::park:
            return 2.2;
    }
    return 1;
}

// print: labels at any scale (a printed map is one scale; collisions still thin them out).
// The first zoom that draws a level's labels.
int label_zoom(geo::Level level) {
    return level == geo::Level::district    ? 7
           : level == geo::Level::park      ? 9
           : level == geo::Level::street    ? 10
           : level == geo::Level::community ? 13
                                            : 15;
}

std::string coverage_xml(geo::Level level, bool print = false) {
    bool park = level == geo::Level::park;
    std::ostringstream x;
    x << R"X(<Map srs="epsg:3857" background-color="transparent">)X" << font_set();
    x << R"X(<Style name="fill">)X";
    for (const auto& [filter, color] : kCoveragePalette)
        x << "<Rule><Filter>" << filter << R"X(</Filter><PolygonSymbolizer fill=")X" << color
          << R"X(" fill-opacity="0.75"/></Rule>)X";
    x << "</Style>";
    x << R"X(<Style name="borders"><Rule>)X";
    if (park)  // a white casing under a dark outline: parks stand out over any fill
        x << R"X(<LineSymbolizer stroke="#ffffff" stroke-width="4.6" stroke-opacity="0.95"/>)X"
          << R"X(<LineSymbolizer stroke="#1b1b3a" stroke-width="2.2" stroke-dasharray="7,3"/>)X";
    else
        x << R"X(<LineSymbolizer stroke="#3b4754" stroke-opacity="0.85" stroke-width=")X" << border_width(level)
          << R"X("/>)X";
    x << "</Rule></Style>";
    x << R"X(<Style name="districts"><Rule><LineSymbolizer stroke="#222222" stroke-width=")X"
      << border_width(geo::Level::district) << R"X(" stroke-opacity="0.9"/></Rule></Style>)X";
    x << R"X(<Style name="labels"><Rule>)X" << (print ? std::string() : min_zoom(label_zoom(level)))
      << R"X(<TextSymbolizer fontset-name="cjk" size=")X" << (park || level == geo::Level::district ? 13 : 12)
      << R"X(" fill=")X" << (park ? "#1b1b3a" : "#1a1a1a") << R"X(" halo-fill="rgba(255,255,255,0.92)" halo-radius=")X"
      << (park ? 2.2 : 1.6)
      << R"X(" placement="point" allow-overlap="false" avoid-edges="true" minimum-padding="4" wrap-width="90">[label]</TextSymbolizer></Rule></Style>)X";
    x << R"X(<Layer name="fill" srs="epsg:3857"><StyleName>fill</StyleName></Layer>)X";
    x << R"X(<Layer name="borders" srs="epsg:3857"><StyleName>borders</StyleName></Layer>)X";
    x << R"X(<Layer name="districts" srs="epsg:3857"><StyleName>districts</StyleName></Layer>)X";
    x << R"X(<Layer name="labels" srs="epsg:3857"><StyleName>labels</StyleName></Layer>)X";
    x << "</Map>";
    return x.str();
}

std::string rgba(const std::string& hex, double alpha) {
    auto v = [&](int i) { return std::stoi(hex.substr(static_cast<std::size_t>(1 + 2 * i), 2), nullptr, 16); };
    std::ostringstream s;
    s << "rgba(" << v(0) << "," << v(1) << "," << v(2) << "," << alpha << ")";
    return s.str();
}

// Classes scaled to the data (heat_classes): the lightest red from the median density at an
// uncovered organization, the darkest from its 97th percentile.
std::string heatmap_xml(const std::vector<double>& classes) {
    std::ostringstream x;
    x << R"X(<Map srs="epsg:3857" background-color="transparent">
<Style name="heat"><Rule><RasterSymbolizer scaling="bilinear" opacity="1">
<RasterColorizer default-mode="linear" default-color="transparent" epsilon="0.000001">)X";
    x << R"X(<stop value="0" color="rgba(251,106,74,0)"/>)X";
    x << "<stop value=\"" << classes.front() * 0.5 << R"X(" color="rgba(251,106,74,0)"/>)X";
    for (std::size_t i = 0; i < classes.size() && i < kHeatColours.size(); ++i)
        x << "<stop value=\"" << classes[i] << "\" color=\"" << rgba(kHeatColours[i].first, kHeatColours[i].second)
          << "\"/>";
    x << "<stop value=\"" << classes.back() * 100 + 1e6 << "\" color=\""
      << rgba(kHeatColours.back().first, kHeatColours.back().second) << "\"/>";
    x << R"X(</RasterColorizer></RasterSymbolizer></Rule></Style>
<Layer name="heat" srs="epsg:3857"><StyleName>heat</StyleName></Layer></Map>)X";
    return x.str();
}

std::string orgs_xml() {
    std::ostringstream x;
    x << R"X(<Map srs="epsg:3857" background-color="transparent">)X" << font_set();
    // A white halo under every point, so it shows on a fill of its own colour. All halos are
    // drawn before any point (a style of their own), so no halo covers a neighbour's point.
    x << R"X(<Style name="halos"><Rule><MarkersSymbolizer fill="#ffffff" stroke="#ffffff" stroke-width="0" width="[size] + 4" height="[size] + 4" allow-overlap="true" ignore-placement="true"/></Rule></Style>)X";
    x << R"X(<Style name="points">)X";
    for (int s = 0; s < 5; ++s)
        x << "<Rule><Filter>[state] = " << s << R"X(</Filter><MarkersSymbolizer fill=")X"
          << kStateColours[static_cast<std::size_t>(s)]
          << R"X(" stroke="#08306b" stroke-width="0.6" width="[size]" height="[size]" allow-overlap="true" ignore-placement="true"/></Rule>)X";
    x << "</Style>";
    // Clusters are neutral (a count, not a rate); a red badge says some in it are uncovered.
    x << R"X(<Style name="clusters">)X";
    x << R"X(<Rule><MarkersSymbolizer fill="#37474f" fill-opacity="0.72" stroke="#ffffff" stroke-width="1.2" width="[size]" height="[size]" allow-overlap="true" ignore-placement="true"/></Rule>)X";
    x << R"X(<Rule><Filter>[uncovered] &gt; 0</Filter><MarkersSymbolizer fill=")X" << kStateColours[3]
      << R"X(" stroke="#ffffff" stroke-width="1.2" width="9" height="9" transform="translate([size] * 0.36, 0 - [size] * 0.36)" allow-overlap="true" ignore-placement="true"/></Rule>)X";
    x << R"X(<Rule><TextSymbolizer fontset-name="cjk" size="11" fill="#ffffff" halo-fill="rgba(0,0,0,0.35)" halo-radius="0.8" allow-overlap="true" placement="point">[count]</TextSymbolizer></Rule>)X";
    x << "</Style>";
    x << R"X(<Layer name="clusters" srs="epsg:3857"><StyleName>clusters</StyleName></Layer>)X";
    x << R"X(<Layer name="points" srs="epsg:3857"><StyleName>halos</StyleName><StyleName>points</StyleName></Layer>)X";
    x << "</Map>";
    return x.str();
}

std::string assignments_xml() {
    std::ostringstream x;
    x << R"X(<Map srs="epsg:3857" background-color="transparent">)X";
    x << R"X(<Style name="territory"><Rule><PolygonSymbolizer fill="[color]" fill-opacity="0.14"/><LineSymbolizer stroke="[color]" stroke-width="1" stroke-opacity="0.7"/></Rule></Style>)X";
    x << R"X(<Style name="links"><Rule>)X" << min_zoom(12)
      << R"X(<LineSymbolizer stroke="[color]" stroke-width="1.2" stroke-opacity="0.85"/></Rule></Style>)X";
    x << R"X(<Style name="homes"><Rule>)X" << min_zoom(12)
      << R"X(<MarkersSymbolizer fill="[color]" stroke="#ffffff" stroke-width="1" width="7" height="7" allow-overlap="true" ignore-placement="true"/></Rule></Style>)X";
    x << R"X(<Layer name="territory" srs="epsg:3857"><StyleName>territory</StyleName></Layer>)X";
    x << R"X(<Layer name="links" srs="epsg:3857"><StyleName>links</StyleName></Layer>)X";
    x << R"X(<Layer name="homes" srs="epsg:3857"><StyleName>homes</StyleName></Layer>)X";
    x << "</Map>";
    return x.str();
}

std::string instructor_color(const geo::Id& id) {
    static const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                    "#e377c2", "#17becf", "#bcbd22", "#393b79", "#637939", "#843c39"};
    std::uint32_t h = 2166136261u;  // FNV-1a: the same colour for an id on every run
    for (unsigned char c : id) h = (h ^ c) * 16777619u;
    return palette[h % 12];
}

mapnik::geometry::multi_polygon<double> to_mapnik(const geo::MultiPolygon& mp) {
    mapnik::geometry::multi_polygon<double> out;
    for (const auto& poly : mp) {
        mapnik::geometry::polygon<double> p;
        for (const auto& pt : poly.exterior) p.exterior_ring.emplace_back(pt.x, pt.y);
        for (const auto& h : poly.holes) {
            mapnik::geometry::linear_ring<double> ring;
            for (const auto& pt : h) ring.emplace_back(pt.x, pt.y);
            p.interior_rings.push_back(std::move(ring));
        }
        out.push_back(std::move(p));
    }
    return out;
}

mapnik::value_unicode_string unicode(const std::string& s) { return icu::UnicodeString::fromUTF8(s); }

std::shared_ptr<mapnik::memory_datasource> make_ds(const mapnik::box2d<double>& ext) {
    mapnik::parameters p;
    p["type"] = "memory";
    auto ds = std::make_shared<mapnik::memory_datasource>(p);
    // The extent is set, not computed: memory_datasource would otherwise scan features and
    // mutate a cached extent; raster-only layers are skipped without it.
    ds->set_envelope(ext);
    return ds;
}

mapnik::box2d<double> to_box(const geo::BBox& b) { return {b.minx, b.miny, b.maxx, b.maxy}; }

// One Map per layer per thread, parsed once from the style definition, never shared; the
// heatmap's Map also per set of classes (they follow the data).
mapnik::Map& thread_map(const std::string& layer, const std::vector<double>& heat_classes) {
    thread_local std::unordered_map<std::string, std::unique_ptr<mapnik::Map>> maps;
    std::string key = layer;
    if (layer == "heatmap")
        for (double c : heat_classes) key += "/" + std::to_string(c);
    auto it = maps.find(key);
    if (it != maps.end()) return *it->second;
    init_mapnik();
    auto map = std::make_unique<mapnik::Map>(256, 256, "epsg:3857");
    std::string xml;
    if (auto level = coverage_level(layer))
        xml = coverage_xml(*level);
    else if (layer == "heatmap")
        xml = heatmap_xml(heat_classes);
    else if (layer == "orgs" || layer == "ledger-due")
        xml = orgs_xml();
    else
        xml = assignments_xml();
    mapnik::load_map_string(*map, xml, true);
    return *maps.emplace(key, std::move(map)).first->second;
}

}  // namespace

// ColorBrewer Blues: pale where coverage is low, dark where it is full; grey without data.
const std::vector<std::pair<std::string, std::string>> kCoveragePalette = {
    {"[rate] &lt; 0", "#d9d9d9"},  // no operating organizations
    {"[rate] &gt;= 0 and [rate] &lt; 0.2", "#eff3ff"},
    {"[rate] &gt;= 0.2 and [rate] &lt; 0.4", "#c6dbef"},
    {"[rate] &gt;= 0.4 and [rate] &lt; 0.6", "#9ecae1"},
    {"[rate] &gt;= 0.6 and [rate] &lt; 0.8", "#6baed6"},
    {"[rate] &gt;= 0.8 and [rate] &lt; 1", "#3182bd"},
    {"[rate] &gt;= 1", "#08519c"},
};

// ColorBrewer Reds, stronger with density; alpha lets the choropleth show through.
const std::vector<std::pair<std::string, double>> kHeatColours = {
    {"#fb6a4a", 0.45}, {"#ef3b2c", 0.55}, {"#cb181d", 0.62}, {"#a50f15", 0.7}, {"#67000d", 0.78}};
const std::vector<double> kDefaultHeatClasses = {0.25, 0.8, 2, 5, 12};

// standalone, joint/affiliated, instructor only (blues: covered), uncovered (red), inactive.
const std::vector<std::string> kStateColours = {"#08306b", "#4292c6", "#c6dbef", "#e31a1c", "#969696"};

std::vector<Cluster> cluster_orgs(const std::vector<OrgFeature>& orgs, double res) {
    double cell = 40 * res;
    std::map<std::pair<long, long>, Cluster> acc;
    for (const auto& o : orgs) {
        std::pair<long, long> key{static_cast<long>(std::floor(o.at.x / cell)),
                                  static_cast<long>(std::floor(o.at.y / cell))};
        auto& c = acc[key];
        c.at = {(key.first + 0.5) * cell, (key.second + 0.5) * cell};
        ++c.count;
        if (o.state == OrgState::uncovered) ++c.uncovered;
    }
    std::vector<Cluster> out;
    for (auto& [key, c] : acc) {
        // 15 px for one (its "1" legible), growing with the log of the count, at most 32 px.
        c.size_px = std::min(32.0, 15 + 3.5 * std::log2(static_cast<double>(c.count)));
        out.push_back(c);
    }
    return out;
}

std::vector<std::string> render_metatile(const std::string& layer, const MetaTile& m, int scale,
                                         const TileSource& source, double kernel_radius_m,
                                         const std::vector<double>& heat_classes) {
    const int tile = 256 * scale;
    const int size = m.n * tile;
    const int buffer = 128 * scale;
    geo::BBox box;
    {
        auto a = TileId{m.z, m.x0, m.y0}.mercator_bounds();
        auto b = TileId{m.z, m.x0 + m.n - 1, m.y0 + m.n - 1}.mercator_bounds();
        box.expand(a);
        box.expand(b);
    }
    double res = resolution(m.z);  // metres per 256-px-tile pixel
    geo::BBox query = box;
    query.minx -= 128 * res, query.miny -= 128 * res, query.maxx += 128 * res, query.maxy += 128 * res;

    mapnik::Map& map = thread_map(layer, heat_classes.empty() ? kDefaultHeatClasses : heat_classes);
    map.resize(static_cast<unsigned>(size), static_cast<unsigned>(size));
    map.set_buffer_size(buffer);
    auto ext = to_box(query);
    bool any = false;

    if (auto level = coverage_level(layer)) {
        auto ctx = std::make_shared<mapnik::context_type>();
        ctx->push("rate");
        ctx->push("label");
        auto fill = make_ds(ext), labels = make_ds(ext), districts = make_ds(ext);
        std::int64_t id = 1;
        bool labelled = m.z >= label_zoom(*level);  // below, the style draws none: none are made
        for (auto& a : source.areas(*level, query)) {
            auto f = mapnik::feature_factory::create(ctx, id++);
            f->put("rate", a.rate);
            f->set_geometry(to_mapnik(a.shape));
            fill->push(f);
            any = true;
            if (!labelled) continue;
            auto l = mapnik::feature_factory::create(ctx, id++);
            // "开发区 42 %": the name and the organizational coverage it is coloured by.
            std::string label = a.name;
            if (a.rate >= 0) label += " " + std::to_string(static_cast<int>(std::lround(a.rate * 100))) + " %";
            l->put("label", unicode(label));
            l->set_geometry(mapnik::geometry::point<double>(a.label.x, a.label.y));
            labels->push(l);
        }
        // District borders over every other level: the top of the border hierarchy.
        if (*level != geo::Level::district)
            for (auto& a : source.areas(geo::Level::district, query)) {
                auto f = mapnik::feature_factory::create(ctx, id++);
                f->set_geometry(to_mapnik(a.shape));
                districts->push(f);
            }
        map.layers()[0].set_datasource(fill);
        map.layers()[1].set_datasource(fill);
        map.layers()[2].set_datasource(districts);
        map.layers()[3].set_datasource(labels);
    } else if (layer == "heatmap") {
        // Density on a grid over the metatile (cells of 4–8 px, resampled bilinearly), from
        // the points within the kernel radius of it: neighbouring metatiles see the same points.
        geo::BBox reach = box;
        double lat = std::atan(std::sinh(((box.miny + box.maxy) / 2) / 6378137.0));
        double grow = kernel_radius_m / std::cos(lat) * 1.05 + 16 * res;
        reach.minx -= grow, reach.miny -= grow, reach.maxx += grow, reach.maxy += grow;
        auto points = source.uncovered(reach);
        if (!points.empty()) {
            // Cells of 4 px (2 at @2x), and two extra cells beyond each edge so the bilinear
            // resampling at the metatile's edge has neighbours, as inside it.
            int inner = std::max(16, size / (4 * scale));
            double cw = (box.maxx - box.minx) / inner;
            int cells = inner + 4;
            geo::BBox grid_box{box.minx - 2 * cw, box.miny - 2 * cw, box.maxx + 2 * cw, box.maxy + 2 * cw};
            auto grid = kernel_density(points, grid_box, cells, cells, kernel_radius_m);
            mapnik::image_gray32f img(static_cast<unsigned>(cells), static_cast<unsigned>(cells));
            float peak = 0;
            for (int y = 0; y < cells; ++y)
                for (int x = 0; x < cells; ++x) {
                    float v = grid.values[static_cast<std::size_t>(y * cells + x)];
                    img(static_cast<unsigned>(x), static_cast<unsigned>(y)) = v;
                    peak = std::max(peak, v);
                }
            if (peak > 0.08f) {
                auto rext = to_box(grid_box);
                auto ctx = std::make_shared<mapnik::context_type>();
                auto f = mapnik::feature_factory::create(ctx, 1);
                f->set_raster(std::make_shared<mapnik::raster>(rext, rext, std::move(img), 1.0));
                auto ds = make_ds(rext);
                ds->push(f);
                ds->set_envelope(rext);  // after push: a raster-only feature has no geometry extent
                map.layers()[0].set_datasource(ds);
                any = true;
            }
        }
        if (!any) map.layers()[0].set_datasource(make_ds(ext));
    } else if (layer == "orgs" || layer == "ledger-due") {
        // ledger-due: the organizations whose ledger is due this quarter, drawn as `orgs` draws all.
        auto ctx = std::make_shared<mapnik::context_type>();
        for (const char* k : {"state", "size", "uncovered", "count"}) ctx->push(k);
        auto clusters = make_ds(ext), points = make_ds(ext);
        auto orgs = source.orgs(query);
        if (layer == "ledger-due")
            orgs.erase(std::remove_if(orgs.begin(), orgs.end(), [](const OrgFeature& o) { return !o.due; }), orgs.end());
        std::int64_t id = 1;
        if (m.z < 12) {
            for (const auto& c : cluster_orgs(orgs, res)) {
                auto f = mapnik::feature_factory::create(ctx, id++);
                f->put("count", mapnik::value_integer(c.count));
                f->put("uncovered", mapnik::value_integer(c.uncovered));
                f->put("size", c.size_px);
                f->set_geometry(mapnik::geometry::point<double>(c.at.x, c.at.y));
                clusters->push(f);
                any = true;
            }
        } else {
            for (const auto& o : orgs) {
                auto f = mapnik::feature_factory::create(ctx, id++);
                f->put("state", mapnik::value_integer(static_cast<int>(o.state)));
                double size = m.z >= 15 ? 6 + 3 * std::log10(1.0 + o.employees) : 5;
                f->put("size", size);
                f->set_geometry(mapnik::geometry::point<double>(o.at.x, o.at.y));
                points->push(f);
                any = true;
            }
        }
        map.layers()[0].set_datasource(clusters);
        map.layers()[1].set_datasource(points);
    } else {  // assignments
        auto ctx = std::make_shared<mapnik::context_type>();
        ctx->push("color");
        auto territory = make_ds(ext), links = make_ds(ext), homes = make_ds(ext);
        std::int64_t id = 1;
        for (auto& t : source.territories(query)) {
            auto f = mapnik::feature_factory::create(ctx, id++);
            f->put("color", unicode(instructor_color(t.instructor)));
            f->set_geometry(to_mapnik(t.shape));
            territory->push(f);
            any = true;
        }
        if (m.z >= 12) {
            std::map<geo::Id, geo::Point> seen;
            for (auto& l : source.links(query)) {
                auto f = mapnik::feature_factory::create(ctx, id++);
                f->put("color", unicode(instructor_color(l.instructor)));
                mapnik::geometry::line_string<double> line;
                line.emplace_back(l.from.x, l.from.y);
                line.emplace_back(l.to.x, l.to.y);
                f->set_geometry(std::move(line));
                links->push(f);
                seen[l.instructor] = l.from;
                any = true;
            }
            for (auto& [in, home] : seen) {
                auto f = mapnik::feature_factory::create(ctx, id++);
                f->put("color", unicode(instructor_color(in)));
                f->set_geometry(mapnik::geometry::point<double>(home.x, home.y));
                homes->push(f);
            }
        }
        map.layers()[0].set_datasource(territory);
        map.layers()[1].set_datasource(links);
        map.layers()[2].set_datasource(homes);
    }

    std::vector<std::string> out(static_cast<std::size_t>(m.n * m.n));
    if (!any) return out;  // every tile empty
    // Fixed extents, set after the pushes (a push marks memory_datasource's extent dirty).
    for (auto& l : map.layers())
        if (auto* mem = dynamic_cast<mapnik::memory_datasource*>(l.datasource().get()); mem && layer != "heatmap")
            mem->set_envelope(ext);
    map.zoom_to_box(to_box(box));
    // The 8 × 8 metatile at scale 1 (most renders) into one image kept per thread and cleared
    // rather than allocated: a fresh 16 MB image costs a page fault per page on first touch.
    // Other sizes (@2x: 64 MB) are allocated for the render, not kept.
    thread_local mapnik::image_rgba8 kept;
    std::optional<mapnik::image_rgba8> own;
    mapnik::image_rgba8* target = &kept;
    if (size == 8 * 256) {
        if (kept.width() != static_cast<std::size_t>(size))
            kept = mapnik::image_rgba8(static_cast<unsigned>(size), static_cast<unsigned>(size));
        else
            kept.set(0);
    } else {
        target = &own.emplace(static_cast<unsigned>(size), static_cast<unsigned>(size));
    }
    mapnik::image_rgba8& image = *target;
    mapnik::agg_renderer<mapnik::image_rgba8> renderer(map, image, static_cast<double>(scale));
    renderer.apply();
    for (int ty = 0; ty < m.n; ++ty) {
        for (int tx = 0; tx < m.n; ++tx) {
            mapnik::image_view_rgba8 view(static_cast<unsigned>(tx * tile), static_cast<unsigned>(ty * tile),
                                          static_cast<unsigned>(tile), static_cast<unsigned>(tile), image);
            // Mapnik's "png8" quantizes every tile with a hextree; most tiles have at most 256
            // colours, so their exact palette is lossless and far cheaper, and past that full
            // colour at zlib level 1 still costs less than quantizing (png_exact.hpp).
            out[static_cast<std::size_t>(ty * m.n + tx)] =
                tile_png(view.get_row(0), tile, tile, static_cast<std::size_t>(size));
        }
    }
    return out;
}

double print_coverage_map(cairo_t* cr, double x, double y, double w, double h, const std::vector<PrintArea>& areas,
                          const std::vector<geo::MultiPolygon>& outlines, const geo::BBox& box, geo::Level level,
                          const std::vector<PrintPoint>& points) {
    init_mapnik();
    mapnik::Map map(static_cast<unsigned>(std::lround(w)), static_cast<unsigned>(std::lround(h)), "epsg:3857");
    mapnik::load_map_string(map, coverage_xml(level, true), true);
    auto mercator = [](const geo::MultiPolygon& mp) { return to_mercator(mp); };
    geo::BBox frame;
    frame.expand(to_mercator({box.minx, box.miny}));
    frame.expand(to_mercator({box.maxx, box.maxy}));
    auto ext = to_box(frame);
    ext.pad(std::max(ext.width(), ext.height()));  // features reaching out of the frame stay in the query
    auto ctx = std::make_shared<mapnik::context_type>();
    ctx->push("rate");
    ctx->push("label");
    auto fill = make_ds(ext), labels = make_ds(ext), over = make_ds(ext);
    std::int64_t id = 1;
    for (const auto& a : areas) {
        auto shape = mercator(a.shape);
        auto f = mapnik::feature_factory::create(ctx, id++);
        f->put("rate", a.rate);
        f->set_geometry(to_mapnik(shape));
        fill->push(f);
        auto l = mapnik::feature_factory::create(ctx, id++);
        std::string label = a.name;
        if (a.rate >= 0) label += " " + std::to_string(static_cast<int>(std::lround(a.rate * 100))) + " %";
        l->put("label", unicode(label));
        auto b = geo::bounds(shape);
        l->set_geometry(mapnik::geometry::point<double>((b.minx + b.maxx) / 2, (b.miny + b.maxy) / 2));
        labels->push(l);
    }
    for (const auto& o : outlines) {
        auto f = mapnik::feature_factory::create(ctx, id++);
        f->set_geometry(to_mapnik(mercator(o)));
        over->push(f);
    }
    map.layers()[0].set_datasource(fill);
    map.layers()[1].set_datasource(fill);
    map.layers()[2].set_datasource(over);
    map.layers()[3].set_datasource(labels);
    for (auto& l : map.layers())
        if (auto* mem = dynamic_cast<mapnik::memory_datasource*>(l.datasource().get())) mem->set_envelope(ext);
    map.zoom_to_box(to_box(frame));  // keeps the aspect: the frame grows to fit the rectangle

    cairo_save(cr);
    cairo_rectangle(cr, x, y, w, h);
    cairo_clip(cr);
    cairo_translate(cr, x, y);
    mapnik::cairo_ptr context(cairo_reference(cr), [](cairo_t* c) { cairo_destroy(c); });
    // Scale 0.75: the tiles' 12 px labels and 1.3 px borders become 9 pt and 1 pt on paper.
    mapnik::cairo_renderer<mapnik::cairo_ptr> renderer(map, context, 0.75);
    renderer.apply();
    // The points over the map, placed by the extent Mapnik settled on (dots at this size need
    // no style of their own).
    const auto& shown = map.get_current_extent();
    for (const auto& p : points) {
        auto m = to_mercator(p.at);
        double px = (m.x - shown.minx()) / shown.width() * w, py = (shown.maxy() - m.y) / shown.height() * h;
        auto channel = [&](int i) { return std::stoi(p.colour.substr(static_cast<std::size_t>(1 + 2 * i), 2), nullptr, 16) / 255.0; };
        cairo_arc(cr, px, py, 2.2, 0, 2 * M_PI);
        cairo_set_source_rgb(cr, channel(0), channel(1), channel(2));
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, 0.5);
        cairo_stroke(cr);
    }
    cairo_restore(cr);

    // Ground metres per point: the Mercator scale shrinks by cos(latitude).
    double lat = (box.miny + box.maxy) / 2 * M_PI / 180;
    return map.scale() * std::cos(lat);
}

std::string empty_png(int scale) {
    mapnik::image_rgba8 image(static_cast<unsigned>(256 * scale), static_cast<unsigned>(256 * scale));
    return mapnik::save_to_string(image, "png8:z=9");
}

}  // namespace covermap::tiles
