// Exports read back by three readers nobody here wrote: GDAL/OGR, pyshp and shpjs.
#include "covermap/geo/export.hpp"

#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "covermap/geo/coverage.hpp"
#include "covermap/geo/demo.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/store.hpp"
#include "support.hpp"

using namespace covermap::geo;
using covermap::test::capture;
using covermap::test::TempDir;
using nlohmann::json;

namespace {

const Dataset& data() {
    static const Dataset d = [] {
        auto d = covermap::test::demo_dataset(0.1, 11);
        // One name longer than a DBF text field: 130 Chinese characters = 260 GBK bytes.
        std::string longname;
        for (int i = 0; i < 130; ++i) longname += "长";
        d.orgs[0].name = longname;
        return d;
    }();
    return d;
}

// What each exported attribute must be, from the data set itself.
std::map<std::string, json> expected_org(const Organization& o, const std::map<std::int64_t, BranchType>& types,
                                         bool gbk) {
    std::string name = o.name;
    truncate_encoded(name, 254, gbk);
    std::map<std::string, json> m = {{"id", o.id},
                                     {"name", name},
                                     {"kind", std::string(to_string(o.kind))},
                                     {"cred_code", o.credit_code},
                                     {"industry", o.industry},
                                     {"employees", o.employees},
                                     {"party_mbr", o.party_members},
                                     {"status", std::string(to_string(o.status))},
                                     {"above_scl", o.above_scale ? 1 : 0},
                                     {"version", o.version}};
    m["branch_id"] = o.branch_id ? json(*o.branch_id) : json();
    m["instr_id"] = o.instructor_id ? json(*o.instructor_id) : json();
    m["br_type"] = o.branch_id ? json(std::string(to_string(types.at(*o.branch_id)))) : json();
    return m;
}

bool same(const json& got, const json& want) {
    if (want.is_null()) return got.is_null() || got == "" || got == json();
    if (want.is_number()) return got.is_number() && std::abs(got.get<double>() - want.get<double>()) < 1e-9;
    return got == want;
}

struct Reprojector {
    explicit Reprojector(int epsg) {
        OGRSpatialReference a, b;
        a.importFromEPSG(4490);
        b.importFromEPSG(epsg);
        a.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        b.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        ct.reset(OGRCreateCoordinateTransformation(&a, &b));
    }
    Point operator()(Point p) const {
        ct->Transform(1, &p.x, &p.y);
        return p;
    }
    std::unique_ptr<OGRCoordinateTransformation> ct;
};

void check_orgs_zip(const std::string& zip, const std::string& encoding, int epsg) {
    const auto& d = data();
    std::map<std::int64_t, BranchType> types;
    for (const auto& b : d.branches) types[b.id] = b.type;
    std::map<std::string, const Organization*> by_id;
    for (const auto& o : d.orgs) by_id[o.id] = &o;
    Reprojector to_target(epsg);
    double tol = epsg == 4490 ? 1e-9 : 1e-3;

    // 1. GDAL/OGR through /vsizip/, honouring the .cpg.
    GDALAllRegister();
    auto* ds = GDALDataset::Open(("/vsizip/" + zip).c_str(), GDAL_OF_VECTOR);
    ASSERT_NE(ds, nullptr);
    auto* l = ds->GetLayerByName("orgs");
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(l->GetFeatureCount(), static_cast<GIntBig>(d.orgs.size()));
    for (int i = 0; i < l->GetLayerDefn()->GetFieldCount(); ++i) {
        std::string n = l->GetLayerDefn()->GetFieldDefn(i)->GetNameRef();
        EXPECT_LE(n.size(), 10u) << n;
    }
    EXPECT_EQ(l->GetLayerDefn()->GetFieldDefn(l->GetLayerDefn()->GetFieldIndex("cred_code"))->GetType(), OFTString);
    l->ResetReading();
    int checked = 0;
    while (OGRFeature* f = l->GetNextFeature()) {
        const auto& o = *by_id.at(f->GetFieldAsString("id"));
        for (auto& [k, v] : expected_org(o, types, encoding == "GBK")) {
            int idx = f->GetFieldIndex(k.c_str());
            json got = !f->IsFieldSetAndNotNull(idx)                     ? json()
                       : f->GetFieldDefnRef(idx)->GetType() == OFTString ? json(f->GetFieldAsString(idx))
                                                                         : json(f->GetFieldAsInteger64(idx));
            EXPECT_TRUE(same(got, v)) << "GDAL org " << o.id << " " << k << ": " << got << " != " << v;
        }
        auto* pt = f->GetGeometryRef()->toPoint();
        auto want = to_target(o.location);
        EXPECT_NEAR(pt->getX(), want.x, tol);
        EXPECT_NEAR(pt->getY(), want.y, tol);
        if (epsg >= 4513 && epsg <= 4533) {
            EXPECT_GT(pt->getX(), 1e7) << "Gauss-Kruger eastings carry the zone prefix";
        }
        if (epsg >= 4534 && epsg <= 4554) {
            EXPECT_LT(pt->getX(), 1e6) << "no zone prefix";
        }
        OGRFeature::DestroyFeature(f);
        ++checked;
    }
    EXPECT_EQ(checked, static_cast<int>(d.orgs.size()));
    GDALClose(ds);

    // 2. pyshp with the encoding the .cpg names.
    auto py = json::parse(capture("/usr/bin/python3 " COVERMAP_TEST_READERS "/pyshp_dump.py " + zip));
    ASSERT_TRUE(py.contains("orgs"));
    EXPECT_EQ(py["orgs"]["encoding"], encoding);
    ASSERT_EQ(py["orgs"]["records"].size(), d.orgs.size());
    for (std::size_t i = 0; i < py["orgs"]["records"].size(); ++i) {
        const auto& rec = py["orgs"]["records"][i];
        const auto& o = *by_id.at(rec["id"].get<std::string>());
        for (auto& [k, v] : expected_org(o, types, encoding == "GBK"))
            EXPECT_TRUE(same(rec[k], v)) << "pyshp org " << o.id << " " << k << ": " << rec[k] << " != " << v;
        auto want = to_target(o.location);
        EXPECT_NEAR(py["orgs"]["shapes"][i][0][0].get<double>(), want.x, tol);
        EXPECT_NEAR(py["orgs"]["shapes"][i][0][1].get<double>(), want.y, tol);
    }

    // 3. shpjs (npm): decodes with the .cpg and reprojects to WGS84 with the .prj.
    auto js = json::parse(capture("node " COVERMAP_TEST_READERS "/shpjs_dump.mjs " + zip));
    ASSERT_TRUE(js.contains("orgs")) << "is tests/readers/node_modules installed? (scripts/test does it)";
    ASSERT_EQ(js["orgs"].size(), d.orgs.size());
    for (const auto& feat : js["orgs"]) {
        const auto& props = feat["properties"];
        const auto& o = *by_id.at(props["id"].get<std::string>());
        for (auto& [k, v] : expected_org(o, types, encoding == "GBK")) {
            json got = props.contains(k) ? props[k] : json();
            EXPECT_TRUE(same(got, v)) << "shpjs org " << o.id << " " << k << ": " << got << " != " << v;
        }
        EXPECT_NEAR(feat["geometry"]["coordinates"][0].get<double>(), o.location.x, 1e-6);
        EXPECT_NEAR(feat["geometry"]["coordinates"][1].get<double>(), o.location.y, 1e-6);
    }

    // 4. The .prj as gdalsrsinfo identifies it.
    auto srs = capture("gdalsrsinfo -e /vsizip/" + zip + "/orgs.prj");
    EXPECT_NE(srs.find("EPSG:" + std::to_string(epsg)), std::string::npos) << srs;
}

ExportReport run_export(ExportLayer layer, const std::string& out, const std::string& encoding = "GBK",
                        const std::string& srs = "EPSG:4490", ExportFormat format = ExportFormat::shp) {
    ExportParams p;
    p.layer = layer;
    p.format = format;
    p.encoding = encoding;
    p.srs = srs;
    p.out = out;
    p.coverage = coverage_rows;
    return export_layer(data(), p);
}

std::string zip_entry(const std::string& zip, const std::string& name) {
    VSILFILE* f = VSIFOpenL(("/vsizip/" + zip + "/" + name).c_str(), "rb");
    if (!f) return {};
    std::string s(1 << 16, '\0');
    s.resize(VSIFReadL(s.data(), 1, s.size(), f));
    VSIFCloseL(f);
    return s;
}

}  // namespace

TEST(Export, OrgsGbkCgcs2000ReadBackByThreeReaders) {
    TempDir dir;
    auto r = run_export(ExportLayer::orgs, dir / "orgs.zip");
    EXPECT_EQ(r.features, data().orgs.size());
    EXPECT_EQ(r.truncated, 1u);
    EXPECT_EQ(r.srs, "EPSG:4490");
    auto zip = dir / "orgs.zip";
    for (const char* f : {"orgs.shp", "orgs.shx", "orgs.dbf", "orgs.prj", "orgs.cpg", "README.txt"})
        EXPECT_FALSE(zip_entry(zip, f).empty()) << f;
    EXPECT_EQ(zip_entry(zip, "orgs.cpg"), "GBK");
    auto dbf = zip_entry(zip, "orgs.dbf");
    EXPECT_EQ(static_cast<unsigned char>(dbf[29]), 0x4D) << "DBF language driver id of CP936/GBK";
    // The raw DBF bytes are GBK, not UTF-8.
    char* gbk = CPLRecode(data().orgs[1].name.c_str(), CPL_ENC_UTF8, "CP936");
    EXPECT_NE(dbf.find(gbk), std::string::npos);
    CPLFree(gbk);
    EXPECT_EQ(dbf.find(data().orgs[1].name), std::string::npos);
    auto readme = zip_entry(zip, "README.txt");
    EXPECT_NE(readme.find("party_mbr\t正式党员数"), std::string::npos);
    check_orgs_zip(zip, "GBK", 4490);
}

TEST(Export, OrgsUtf8GaussKrugerReadBackByThreeReaders) {
    TempDir dir;
    auto r = run_export(ExportLayer::orgs, dir / "orgs.zip", "UTF-8", "auto-gk");
    EXPECT_EQ(r.srs, "EPSG:4529");  // Tieling ~124°E: zone 41, central meridian 123°E
    EXPECT_EQ(zip_entry(dir / "orgs.zip", "orgs.cpg"), "UTF-8");
    check_orgs_zip(dir / "orgs.zip", "UTF-8", 4529);
}

TEST(Export, GbkWithoutZonePrefix) {
    TempDir dir;
    run_export(ExportLayer::orgs, dir / "orgs.zip", "GBK", "EPSG:4550");
    check_orgs_zip(dir / "orgs.zip", "GBK", 4550);
}

TEST(Export, AreasCarryCoverage) {
    TempDir dir;
    ExportParams p;
    p.layer = ExportLayer::areas;
    p.level = Level::street;
    p.coverage = coverage_rows;
    p.out = dir / "areas.zip";
    auto r = export_layer(data(), p);
    auto cov = compute_coverage(data(), Level::street);
    EXPECT_EQ(r.features, cov.areas.size());
    auto py = json::parse(capture("/usr/bin/python3 " COVERMAP_TEST_READERS "/pyshp_dump.py " + p.out));
    std::map<std::string, const CoverageRow*> rows;
    for (const auto& row : cov.areas) rows[row.code] = &row;
    std::map<std::string, const Area*> areas;
    for (const auto& a : data().areas) areas[a.code] = &a;
    ASSERT_EQ(py["areas"]["records"].size(), cov.areas.size());
    for (std::size_t i = 0; i < cov.areas.size(); ++i) {
        const auto& rec = py["areas"]["records"][i];
        const auto& row = *rows.at(rec["code"]);
        const auto& area = *areas.at(rec["code"]);
        EXPECT_EQ(rec["name"], area.name);
        EXPECT_EQ(rec["parent_cd"], area.parent_code);
        EXPECT_EQ(rec["orgs"], row.orgs);
        EXPECT_EQ(rec["operating"], row.operating);
        EXPECT_EQ(rec["org_cov"], row.org_covered);
        EXPECT_NEAR(rec["org_rate"].get<double>(), row.org_coverage(), 1e-4);
        EXPECT_NEAR(rec["instr_rate"].get<double>(), row.instructor_coverage(), 1e-4);
        std::size_t vertices = 0;
        for (const auto& poly : area.shape) {
            vertices += poly.exterior.size();
            for (const auto& h : poly.holes) vertices += h.size();
        }
        EXPECT_EQ(py["areas"]["shapes"][i].size(), vertices) << area.code;
        EXPECT_NEAR(py["areas"]["shapes"][i][0][0].get<double>(), area.shape[0].exterior[0].x, 1e-9);
    }
}

TEST(Export, InstructorsBranchesAssignments) {
    TempDir dir;
    const auto& d = data();
    auto ri = run_export(ExportLayer::instructors, dir / "i.zip");
    EXPECT_EQ(ri.features, d.instructors.size());
    auto rb = run_export(ExportLayer::branches, dir / "b.zip");
    EXPECT_EQ(rb.features, d.branches.size());
    auto ra = run_export(ExportLayer::assignments, dir / "a.zip");
    std::size_t links = 0;
    for (const auto& o : d.orgs) links += o.instructor_id.has_value();
    EXPECT_EQ(ra.features, links);
    auto js = json::parse(capture("node " COVERMAP_TEST_READERS "/shpjs_dump.mjs " + dir / "a.zip"));
    ASSERT_EQ(js["assignments"].size(), links);
    std::map<std::string, const Instructor*> instructors;
    for (const auto& in : d.instructors) instructors[in.id] = &in;
    std::map<std::string, const Organization*> orgs;
    for (const auto& o : d.orgs) orgs[o.id] = &o;
    for (const auto& f : js["assignments"]) {
        const auto& p = f["properties"];
        const auto& in = *instructors.at(p["instr_id"].get<std::string>());
        const auto& o = *orgs.at(p["org_id"].get<std::string>());
        EXPECT_EQ(p["instr_name"], in.name);
        EXPECT_EQ(o.instructor_id, in.id);
        std::string name = o.name;
        truncate_encoded(name, 254, true);
        EXPECT_EQ(p["org_name"], name);
        EXPECT_NEAR(p["dist_m"].get<double>(), haversine_m(in.home, o.location), 0.06);
        EXPECT_EQ(f["geometry"]["type"], "LineString");
    }
    auto py = json::parse(capture("/usr/bin/python3 " COVERMAP_TEST_READERS "/pyshp_dump.py " + dir / "b.zip"));
    const auto& rec = py["branches"]["records"][0];
    EXPECT_EQ(rec["name"], d.branches[0].name);
    EXPECT_EQ(rec["n_orgs"], d.branches[0].org_ids.size());
    EXPECT_EQ(rec["br_level"], std::string(branch_level(d.branches[0].members)));
}

TEST(Export, OtherFormats) {
    TempDir dir;
    const auto& d = data();
    run_export(ExportLayer::orgs, dir / "o.geojson", "GBK", "EPSG:4490", ExportFormat::geojson);
    std::ifstream in(dir / "o.geojson");
    auto gj = json::parse(in);
    ASSERT_EQ(gj["features"].size(), d.orgs.size());
    EXPECT_FALSE(gj.contains("crs")) << "RFC 7946: WGS84, no crs member";
    EXPECT_EQ(gj["features"][1]["properties"]["name"], d.orgs[1].name);
    EXPECT_EQ(gj["features"][0]["properties"]["name"], d.orgs[0].name) << "no 254-byte cut outside shapefiles";
    EXPECT_THROW(run_export(ExportLayer::orgs, dir / "x.geojson", "GBK", "EPSG:4529", ExportFormat::geojson),
                 invalid_argument);

    run_export(ExportLayer::orgs, dir / "o.csv", "GBK", "EPSG:4490", ExportFormat::csv);
    std::ifstream c(dir / "o.csv", std::ios::binary);
    std::string head(3, '\0');
    c.read(head.data(), 3);
    EXPECT_EQ(head, "\xEF\xBB\xBF") << "UTF-8 BOM for Excel";
    std::string line;
    std::getline(c, line);
    EXPECT_EQ(line.rfind("X,Y,id,name,", 0), 0u) << line;

    run_export(ExportLayer::areas, dir / "a.gpkg", "GBK", "EPSG:4490", ExportFormat::gpkg);
    auto* ds = GDALDataset::Open((dir / "a.gpkg").c_str(), GDAL_OF_VECTOR);
    ASSERT_NE(ds, nullptr);
    EXPECT_EQ(ds->GetLayerByName("areas")->GetFeatureCount(), static_cast<GIntBig>(d.areas.size()));
    GDALClose(ds);
}

TEST(Export, WhereFilterAndBadParameters) {
    TempDir dir;
    ExportParams p;
    p.layer = ExportLayer::orgs;
    p.out = dir / "ops.zip";
    p.where = "status = 'operating' AND kind = 'social'";
    auto r = export_layer(data(), p);
    std::size_t want = 0;
    for (const auto& o : data().orgs) want += o.operating() && o.kind == OrgKind::social;
    EXPECT_EQ(r.features, want);
    p.where = "no_such_field = 1";
    EXPECT_THROW(export_layer(data(), p), invalid_argument);
    p.where.clear();
    p.srs = "EPSG:0";
    EXPECT_THROW(export_layer(data(), p), invalid_argument);
    p.srs = "EPSG:4490";
    p.encoding = "BIG5";
    EXPECT_THROW(export_layer(data(), p), invalid_argument);
}

TEST(Export, SplitsAtTheFileSizeLimit) {
    TempDir dir;
    ExportParams p;
    p.layer = ExportLayer::orgs;
    p.out = dir / "orgs.zip";
    p.max_file_bytes = 30000;  // a stand-in for 2 GB: 446-byte DBF records, about 66 per part
    auto r = export_layer(data(), p);
    EXPECT_GT(r.parts, 2);
    auto* ds = GDALDataset::Open(("/vsizip/" + p.out).c_str(), GDAL_OF_VECTOR);
    ASSERT_NE(ds, nullptr);
    GIntBig total = 0;
    for (int i = 0; i < ds->GetLayerCount(); ++i) total += ds->GetLayer(i)->GetFeatureCount();
    EXPECT_EQ(ds->GetLayerCount(), r.parts);
    EXPECT_EQ(total, static_cast<GIntBig>(data().orgs.size()));
    EXPECT_NE(ds->GetLayerByName("orgs_2"), nullptr);
    GDALClose(ds);
    VSIStatBufL st;
    ASSERT_EQ(VSIStatL(("/vsizip/" + p.out + "/orgs.dbf").c_str(), &st), 0);
    EXPECT_LE(st.st_size, 30000);
}

TEST(Export, TruncationKeepsWholeCharacters) {
    std::string s = "ab长长长";
    EXPECT_TRUE(truncate_encoded(s, 5, true));  // a b 长(2) = 4, next 长 would be 6
    EXPECT_EQ(s, "ab长");
    s = "ab长长长";
    EXPECT_TRUE(truncate_encoded(s, 5, false));  // UTF-8: 长 is 3 bytes
    EXPECT_EQ(s, "ab长");
    s = "abc";
    EXPECT_FALSE(truncate_encoded(s, 254, true));
    EXPECT_EQ(gauss_kruger_epsg(123.9), 4529);
    EXPECT_EQ(gauss_kruger_epsg(123.9, false), 4550);
    EXPECT_EQ(gauss_kruger_epsg(75.0), 4513);
}

TEST(Export, StreamingFromTheStoreWritesTheSameRows) {
    TempDir dir;
    auto store = Store::open(dir / "s.gpkg");
    store.replace(covermap::test::demo_dataset(0.1, 11));
    auto from_memory = [&](const std::string& out) {
        ExportParams p;
        p.out = out;
        return export_layer(store.load(), p);
    };
    ExportParams p;
    p.out = dir / "streamed.zip";
    auto streamed = export_layer(store, p);
    auto loaded = from_memory(dir / "loaded.zip");
    EXPECT_EQ(streamed.features, loaded.features);
    GDALAllRegister();
    auto dump = [](const std::string& zip) {
        std::string out;
        auto* ds = GDALDataset::Open(("/vsizip/" + zip).c_str(), GDAL_OF_VECTOR);
        auto* l = ds->GetLayer(0);
        while (OGRFeature* f = l->GetNextFeature()) {
            for (int i = 0; i < f->GetFieldCount(); ++i) out += std::string(f->GetFieldAsString(i)) + "|";
            char* wkt = nullptr;
            f->GetGeometryRef()->exportToWkt(&wkt);
            out += std::string(wkt) + "\n";
            CPLFree(wkt);
            OGRFeature::DestroyFeature(f);
        }
        GDALClose(ds);
        return out;
    };
    auto a = dump(dir / "streamed.zip"), b = dump(dir / "loaded.zip");
    EXPECT_FALSE(a.empty());
    std::istringstream sa(a), sb(b);
    std::string la, lb;
    int line = 0, differ = 0;
    while (std::getline(sa, la) && std::getline(sb, lb)) {
        ++line;
        if (la != lb && differ++ < 3)
            ADD_FAILURE() << "row " << line << ":\n  streamed " << la << "\n  loaded   " << lb;
    }
    EXPECT_EQ(differ, 0);
    EXPECT_EQ(a.size(), b.size());
}

// The web page's export of one park: organizations carry the park they are in, so a --where
// on park_code exports exactly the park's organizations (from memory and streamed alike).
TEST(Export, OnePark) {
    TempDir dir;
    const auto& d = covermap::test::demo_dataset(0.1, 11);
    auto store = Store::open(dir / "p.gpkg");
    store.replace(d);
    auto table = compute_coverage(d, Level::park);
    ASSERT_FALSE(table.areas.empty());
    const auto& park =
        *std::max_element(table.areas.begin(), table.areas.end(), [](auto& a, auto& b) { return a.orgs < b.orgs; });
    ASSERT_GT(park.orgs, 0);
    ExportParams p;
    p.layer = ExportLayer::orgs;
    p.format = ExportFormat::geojson;
    p.where = "park_code = '" + park.code + "'";
    p.out = dir / "mem.geojson";
    EXPECT_EQ(export_layer(d, p).features, static_cast<std::size_t>(park.orgs));
    p.out = dir / "stream.geojson";
    EXPECT_EQ(export_layer(store, p).features, static_cast<std::size_t>(park.orgs));
}
