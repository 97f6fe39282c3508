// Issue #15: maps a planner reads at a glance. Each test looks at rendered pixels or at the
// palettes themselves, and fails when the design stops saying what it should.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "covermap/geo/geometry.hpp"
#include "covermap/tiles/heatmap.hpp"
#include "covermap/tiles/renderer.hpp"
#include "covermap/tiles/service.hpp"
#include "covermap/tiles/source.hpp"
#include "support.hpp"
#include "tiles/pixels.hpp"

using namespace covermap;
using namespace covermap::tiles;
using covermap::test::decode;
using covermap::test::Pixels;

namespace {

const geo::Dataset& demo() { return test::demo_dataset(1, 2010); }

// The tile holding a point at zoom z, rendered alone (from its metatile), decoded.
Pixels tile_png(const std::string& layer, geo::Point p, int z, const TileSource& source,
                const std::vector<double>& classes = kDefaultHeatClasses) {
    auto t = tile_at(p, z);
    auto m = metatile_of(t);
    auto pngs = render_metatile(layer, m, 1, source, 1500, classes);
    const auto& png = pngs[static_cast<std::size_t>((t.y - m.y0) * m.n + (t.x - m.x0))];
    return png.empty() ? Pixels{} : decode(png);
}

std::pair<int, int> pixel_of(geo::Point p, int z) {
    auto t = tile_at(p, z);
    auto b = t.mercator_bounds();
    auto q = to_mercator(p);
    return {static_cast<int>((q.x - b.minx) / (b.maxx - b.minx) * 256),
            static_cast<int>((b.maxy - q.y) / (b.maxy - b.miny) * 256)};
}

std::array<double, 3> rgb_of(const std::string& hex) {
    return {std::stoi(hex.substr(1, 2), nullptr, 16) / 255.0, std::stoi(hex.substr(3, 2), nullptr, 16) / 255.0,
            std::stoi(hex.substr(5, 2), nullptr, 16) / 255.0};
}

double distance(const unsigned char* px, const std::array<double, 3>& c) {
    double d = 0;
    for (int i = 0; i < 3; ++i) d += std::pow(px[i] - c[static_cast<std::size_t>(i)] * 255, 2);
    return std::sqrt(d);
}

// Colour-vision deficiency, simulated as Machado, Oliveira & Fernandes (2009) do, severity 1,
// on linear RGB; distances in CIELAB (ΔE*ab).
double linear(double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); }
double gamma(double c) {
    c = std::clamp(c, 0.0, 1.0);
    return c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1 / 2.4) - 0.055;
}
using Matrix = std::array<std::array<double, 3>, 3>;
const Matrix kNormal = {{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
const Matrix kProtan = {
    {{0.152286, 1.052583, -0.204868}, {0.114503, 0.786281, 0.099216}, {-0.003882, -0.048116, 1.051998}}};
const Matrix kDeutan = {
    {{0.367322, 0.860646, -0.227968}, {0.280085, 0.672501, 0.047413}, {-0.011820, 0.042940, 0.968881}}};

std::array<double, 3> simulate(const std::array<double, 3>& c, const Matrix& m) {
    std::array<double, 3> l{linear(c[0]), linear(c[1]), linear(c[2])}, out{};
    for (int i = 0; i < 3; ++i)
        out[static_cast<std::size_t>(i)] = gamma(m[i][0] * l[0] + m[i][1] * l[1] + m[i][2] * l[2]);
    return out;
}

std::array<double, 3> lab(const std::array<double, 3>& c) {
    double r = linear(c[0]), g = linear(c[1]), b = linear(c[2]);
    double X = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.9505, Y = 0.2126 * r + 0.7152 * g + 0.0722 * b,
           Z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.089;
    auto f = [](double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116; };
    return {116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))};
}

std::array<double, 3> over(const std::array<double, 3>& top, double alpha, const std::array<double, 3>& under) {
    return {alpha * top[0] + (1 - alpha) * under[0], alpha * top[1] + (1 - alpha) * under[1],
            alpha * top[2] + (1 - alpha) * under[2]};
}

}  // namespace

TEST(Cartography, HeatmapAndChoroplethStayApartUnderColourBlindness) {
    // Every heatmap class drawn over every choropleth class, against every choropleth class as
    // drawn on the page's paper: the smallest ΔE, for normal, protanopic and deuteranopic sight.
    auto paper = rgb_of("#f7f4ee");
    std::vector<std::array<double, 3>> classes;
    for (const auto& [filter, hex] : kCoveragePalette) classes.push_back(over(rgb_of(hex), 0.75, paper));
    for (const Matrix* m : {&kNormal, &kProtan, &kDeutan}) {
        double worst = 1e9;
        for (const auto& [hex, alpha] : kHeatColours)
            for (const auto& under : classes) {
                auto heat = lab(simulate(over(rgb_of(hex), alpha, under), *m));
                for (const auto& c : classes) {
                    auto d = lab(simulate(c, *m));
                    worst = std::min(worst, std::hypot(heat[0] - d[0], heat[1] - d[1], heat[2] - d[2]));
                }
            }
        EXPECT_GE(worst, 12.0) << (m == &kNormal ? "normal" : m == &kProtan ? "protan" : "deutan");
    }
    // The states' covered blues and the uncovered red stay apart the same way.
    for (const Matrix* m : {&kNormal, &kProtan, &kDeutan}) {
        auto red = lab(simulate(rgb_of(kStateColours[3]), *m));
        for (int s : {0, 1, 2}) {
            auto blue = lab(simulate(rgb_of(kStateColours[static_cast<std::size_t>(s)]), *m));
            EXPECT_GE(std::hypot(red[0] - blue[0], red[1] - blue[1], red[2] - blue[2]), 20.0) << s;
        }
    }
}

TEST(Cartography, HeatmapPixelsNeverFallInTheChoroplethPalette) {
    TileSource source(demo());
    std::vector<geo::Point> uncovered;
    for (const auto& o : demo().orgs)
        if (o.operating() && !o.branch_id && !o.instructor_id) uncovered.push_back(o.location);
    ASSERT_FALSE(uncovered.empty());
    auto classes = heat_classes(source.uncovered(geo::BBox{-2e7, -2e7, 2e7, 2e7}), 1500);
    // Tieling city, where the uncovered organizations are densest.
    auto px = tile_png("heatmap", {123.842, 42.286}, 12, source, classes);
    ASSERT_EQ(px.width, 256);
    std::size_t seen = 0;
    for (int y = 0; y < 256; ++y)
        for (int x = 0; x < 256; ++x) {
            const auto* p = px.at(x, y);
            if (p[3] < 40) continue;
            ++seen;
            EXPECT_GT(p[0], p[2] + 40) << "a red, not a blue or grey: " << x << "," << y;
            for (const auto& [filter, hex] : kCoveragePalette) ASSERT_GT(distance(p, rgb_of(hex)), 60) << hex;
        }
    EXPECT_GT(seen, 2000u) << "the heatmap shows in the city";
}

TEST(Cartography, TheHeatmapClassesUseTheWholeRamp) {
    std::vector<geo::Point> pts;
    for (const auto& o : demo().orgs)
        if (o.operating() && !o.branch_id && !o.instructor_id) pts.push_back(to_mercator(o.location));
    auto classes = heat_classes(pts, 1500);
    ASSERT_EQ(classes.size(), kHeatColours.size());
    for (std::size_t i = 1; i < classes.size(); ++i) EXPECT_GT(classes[i], classes[i - 1]);
    // Checked against the density the heatmap itself draws (kernel_density, computed apart):
    // half the uncovered organizations sit in the first class or above, a few in the top one.
    long first = 0, top = 0;
    for (const auto& p : pts) {
        auto g = kernel_density(pts, geo::BBox{p.x - 1, p.y - 1, p.x + 1, p.y + 1}, 1, 1, 1500);
        first += g.values[0] >= classes.front() * 0.999;
        top += g.values[0] >= classes.back() * 0.999;
    }
    EXPECT_NEAR(double(first) / pts.size(), 0.5, 0.05);
    EXPECT_GE(top, 1);
    EXPECT_LE(double(top) / pts.size(), 0.02);
}

TEST(Cartography, ParksStandOutOverTheStreetFill) {
    TileSource source(demo());
    const geo::Area* park = nullptr;
    for (const auto& a : demo().areas)
        if (a.level == geo::Level::park && !park) park = &a;
    ASSERT_NE(park, nullptr);
    // A point of the park's border, at z13 (a street view).
    auto edge = park->shape.front().exterior.front();
    auto parks = tile_png("coverage-park", edge, 13, source);
    auto streets = tile_png("coverage-street", edge, 13, source);
    ASSERT_EQ(parks.width, 256);
    ASSERT_EQ(streets.width, 256);
    auto outline = rgb_of("#1b1b3a");
    std::size_t dark = 0, different = 0;
    for (int y = 0; y < 256; ++y)
        for (int x = 0; x < 256; ++x) {
            const auto* p = parks.at(x, y);
            if (p[3] < 200 || distance(p, outline) > 40) continue;
            ++dark;
            double d = 0;
            for (int i = 0; i < 3; ++i) d += std::abs(p[i] - streets.at(x, y)[i]);
            different += d > 120;
        }
    EXPECT_GT(dark, 60u) << "the park's outline is drawn";
    EXPECT_GE(different, dark * 9 / 10) << "and differs from the street fill under it";
}

TEST(Cartography, APointOnAFillOfItsOwnColourKeepsAHalo) {
    // A fully covered cell (darkest blue) holding an organization with its own branch (navy).
    geo::Dataset d;
    d.areas.push_back({"1", "满", geo::Level::grid, "", test::square(123.80, 42.30, 0.05)});
    geo::Organization o;
    o.id = "1";
    o.location = {123.825, 42.325};
    o.branch_id = 1;
    d.orgs.push_back(o);
    d.branches.push_back({1, "b", geo::BranchType::standalone, 3, {"1"}});
    TileSource source(d);
    auto px = tile_png("orgs", o.location, 14, source);
    ASSERT_EQ(px.width, 256);
    auto [cx, cy] = pixel_of(o.location, 14);
    std::size_t white = 0, navy = 0;
    for (int y = std::max(0, cy - 8); y < std::min(256, cy + 9); ++y)
        for (int x = std::max(0, cx - 8); x < std::min(256, cx + 9); ++x) {
            const auto* p = px.at(x, y);
            if (p[3] > 200 && p[0] > 230 && p[1] > 230 && p[2] > 230) ++white;
            if (p[3] > 200 && distance(p, rgb_of(kStateColours[0])) < 40) ++navy;
        }
    EXPECT_GT(navy, 4u) << "the point";
    EXPECT_GT(white, 8u) << "its halo";
}

TEST(Cartography, ClustersAtZ8NeverOverlap) {
    TileSource source(demo());
    auto orgs = source.orgs(geo::BBox{-2e7, -2e7, 2e7, 2e7});
    double res = 2 * 20037508.342789244 / (256.0 * 256);  // z8
    auto clusters = cluster_orgs(orgs, res);
    ASSERT_GT(clusters.size(), 50u);
    long counted = 0;
    for (std::size_t i = 0; i < clusters.size(); ++i) {
        counted += clusters[i].count;
        EXPECT_GE(clusters[i].size_px, 15.0) << "a lone organization's count stays legible";
        for (std::size_t j = i + 1; j < clusters.size(); ++j) {
            double apart = std::hypot(clusters[i].at.x - clusters[j].at.x, clusters[i].at.y - clusters[j].at.y) / res;
            EXPECT_GE(apart, (clusters[i].size_px + clusters[j].size_px) / 2) << i << " " << j;
        }
    }
    EXPECT_EQ(counted, static_cast<long>(orgs.size()));
}

TEST(Cartography, EveryLegendEntryHasALabelAndAColour) {
    TileService service(demo(), 16 << 20);
    for (const auto& layer : kLayerNames) {
        auto j = nlohmann::json::parse(service.tilejson(layer, "http://x"));
        ASSERT_FALSE(j["legend"].empty()) << layer;
        for (const auto& e : j["legend"]) {
            EXPECT_TRUE(e["label"].is_string() && !e["label"].get<std::string>().empty()) << layer;
            EXPECT_TRUE(e["label_zh"].is_string() && !e["label_zh"].get<std::string>().empty()) << layer;
            EXPECT_TRUE(e["color"].is_string() && !e["color"].get<std::string>().empty()) << layer;
        }
    }
}

TEST(Cartography, DistrictLevelAndRateLabels) {
    TileSource source(demo());
    auto districts = source.areas(geo::Level::district, geo::BBox{-2e7, -2e7, 2e7, 2e7});
    EXPECT_EQ(districts.size(), 7u);
    for (const auto& a : districts) EXPECT_GE(a.rate, 0.0) << a.name;
    auto px = tile_png("coverage-district", {123.842, 42.286}, 9, source);
    EXPECT_EQ(px.width, 256) << "coverage-district renders";
}
