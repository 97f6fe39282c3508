#include "covermap/geo/import.hpp"

#include <cpl_string.h>
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include <fstream>

#include "covermap/geo/error.hpp"
#include "covermap/geo/gcj02.hpp"
#include "covermap/geo/geometry.hpp"
#include "support.hpp"

using namespace covermap::geo;
using covermap::test::fingerprint;
using covermap::test::square;
using covermap::test::TempDir;

namespace {

void write(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

const char* kOrgsCsv =
    "id,name,kind,credit_code,industry,employees,party_members,status,above_scale,lon,lat\n"
    "1,铁岭宏达机械有限公司,enterprise,91211202MA0A1B2C3D,C,120,4,operating,1,123.8450,42.2850\n"
    "2,银州区书法家协会,social,51211202MJ0000001X,S,8,0,operating,0,123.8460,42.2860\n"
    "3,调兵山市煤机有限公司,enterprise,91211202MA0A1B2C3D,C,60,0,suspended,false,123.8550,42.2850\n"
    "4,远郊物流有限公司,enterprise,,G,10,1,operating,0,124.5000,42.9000\n";

// A store with two grid cells around (123.85, 42.29) so outside-grid checks have something to test.
Store store_with_grid(const TempDir& dir) {
    auto store = Store::open(dir / "store.gpkg");
    Dataset d;
    d.areas.push_back({"211202001001001", "幸福社区第1网格", Level::grid, "211202001001", square(123.84, 42.28, 0.01)});
    d.areas.push_back({"211202001001002", "幸福社区第2网格", Level::grid, "211202001001", square(123.85, 42.28, 0.01)});
    store.replace(d);
    return store;
}

ImportParams params(ImportKind kind, const std::string& source) {
    ImportParams p;
    p.kind = kind;
    p.source = source;
    return p;
}

// Expects import to fail with a format_error naming the file and containing `needle`,
// and the store to be exactly as it was.
void expect_rejected(Store& store, const ImportParams& p, const std::string& needle) {
    auto before = fingerprint(store.load());
    try {
        import_into(store, p);
        FAIL() << "import of " << p.source << " should have failed";
    } catch (const error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find(p.source), std::string::npos) << msg;
        EXPECT_NE(msg.find(needle), std::string::npos) << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    }
    EXPECT_EQ(fingerprint(store.load()), before);
}

}  // namespace

TEST(Import, CsvOrganizationsWithReports) {
    TempDir dir;
    auto store = store_with_grid(dir);
    write(dir / "orgs.csv", kOrgsCsv);
    auto report = import_into(store, params(ImportKind::orgs, dir / "orgs.csv"));
    EXPECT_EQ(report.imported, 4u);
    ASSERT_EQ(report.duplicate_credit_codes.size(), 1u);
    EXPECT_NE(report.duplicate_credit_codes[0].find("ids 1 3"), std::string::npos) << report.duplicate_credit_codes[0];
    EXPECT_EQ(report.outside_grid, (std::vector<std::string>{"4"}));
    auto d = store.load();
    ASSERT_EQ(d.orgs.size(), 4u);  // the outside one is kept
    EXPECT_EQ(d.orgs[0].name, "铁岭宏达机械有限公司");
    EXPECT_EQ(d.orgs[0].credit_code, "91211202MA0A1B2C3D");
    EXPECT_EQ(d.orgs[0].employees, 120);
    EXPECT_TRUE(d.orgs[0].above_scale);
    EXPECT_EQ(d.orgs[1].kind, OrgKind::social);
    EXPECT_EQ(d.orgs[2].status, OrgStatus::suspended);
    EXPECT_FALSE(d.orgs[2].above_scale);
    EXPECT_NEAR(d.orgs[0].location.x, 123.845, 1e-9);
    EXPECT_NEAR(d.orgs[0].location.y, 42.285, 1e-9);
}

TEST(Import, CsvWithXYColumnsAndGcj02) {
    TempDir dir;
    auto store = store_with_grid(dir);
    Point wgs{123.8455, 42.2855};
    Point gcj = wgs84_to_gcj02(wgs);
    write(dir / "orgs.csv",
          "id,name,kind,employees,party_members,status,x,y\n7,高德地图上的公司,enterprise,5,0,operating," +
              std::to_string(gcj.x) + "," + std::to_string(gcj.y) + "\n");
    auto p = params(ImportKind::orgs, dir / "orgs.csv");
    p.gcj02 = true;
    import_into(store, p);
    auto d = store.load();
    ASSERT_EQ(d.orgs.size(), 1u);
    EXPECT_LT(haversine_m(d.orgs[0].location, wgs), 2.0);
    EXPECT_GT(haversine_m(gcj, wgs), 100.0);
}

TEST(Import, CsvWithABadRowChangesNothing) {
    TempDir dir;
    auto store = store_with_grid(dir);
    write(dir / "bad.csv",
          "id,name,kind,credit_code,industry,employees,party_members,status,above_scale,lon,lat\n"
          "1,好公司,enterprise,,C,10,0,operating,0,123.845,42.285\n"
          "2,坏公司,enterprise,,C,many,0,operating,0,123.846,42.286\n");
    expect_rejected(store, params(ImportKind::orgs, dir / "bad.csv"), "line 3: employees 'many' is not an integer");
    write(dir / "bad2.csv",
          "id,name,kind,employees,party_members,status,lon,lat\n1,甲,enterprise,1,0,operating,abc,42\n");
    expect_rejected(store, params(ImportKind::orgs, dir / "bad2.csv"), "line 2: longitude 'abc' is not a number");
    write(dir / "bad3.csv",
          "id,name,kind,employees,party_members,status,lon,lat\n1,甲,company,1,0,operating,123.8,42\n");
    expect_rejected(store, params(ImportKind::orgs, dir / "bad3.csv"), "kind 'company'");
}

TEST(Import, MissingRequiredColumn) {
    TempDir dir;
    auto store = store_with_grid(dir);
    // The name is required (employees, members and status may be missing from a registry
    // extract: 0, 0 and operating, with a note).
    write(dir / "cols.csv", "id,kind,employees,status,lon,lat\n1,enterprise,1,operating,123.8,42\n");
    expect_rejected(store, params(ImportKind::orgs, dir / "cols.csv"), "missing required column 'name'");
    write(dir / "nocoords.csv", "id,name,kind,employees,party_members,status\n1,甲,enterprise,1,0,operating\n");
    expect_rejected(store, params(ImportKind::orgs, dir / "nocoords.csv"), "no coordinates");
}

TEST(Import, TruncatedGeoJsonChangesNothing) {
    TempDir dir;
    auto store = store_with_grid(dir);
    write(dir / "cut.geojson",
          R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"1","name":"a"},)"
          R"("geometry":{"type":"Polygon","coordinates":[[[123.8,42.2],[123.9,42.2],[123.9,42.3],)");
    auto p = params(ImportKind::areas, dir / "cut.geojson");
    p.level = Level::community;
    expect_rejected(store, p, "");
}

TEST(Import, GeoJsonAreasWithBowTieRepairedAndReported) {
    TempDir dir;
    auto store = store_with_grid(dir);
    write(dir / "areas.geojson", R"({"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"code":"211202001","name":"红旗街道","level":"street","parent_code":"211202"},
       "geometry":{"type":"Polygon","coordinates":[[[123.80,42.20],[123.90,42.20],[123.90,42.30],[123.80,42.30],[123.80,42.20]]]}},
      {"type":"Feature","properties":{"code":"211202002","name":"蝴蝶街道","level":"street","parent_code":"211202"},
       "geometry":{"type":"Polygon","coordinates":[[[124.0,42.0],[124.2,42.2],[124.2,42.0],[124.0,42.2],[124.0,42.0]]]}}]})");
    auto report = import_into(store, params(ImportKind::areas, dir / "areas.geojson"));
    EXPECT_EQ(report.imported, 2u);
    ASSERT_EQ(report.repaired.size(), 1u);
    EXPECT_NE(report.repaired[0].find("211202002"), std::string::npos) << report.repaired[0];
    EXPECT_NE(report.repaired[0].find("Self-intersection"), std::string::npos) << report.repaired[0];
    auto d = store.load();
    const Area* bow = nullptr;
    for (const auto& a : d.areas)
        if (a.code == "211202002") bow = &a;
    ASSERT_NE(bow, nullptr);
    EXPECT_EQ(bow->level, Level::street);
    EXPECT_TRUE(is_valid(bow->shape));
    EXPECT_NEAR(planar_area(bow->shape), 0.02, 1e-9);
}

TEST(Import, AreasNeedALevel) {
    TempDir dir;
    auto store = store_with_grid(dir);
    write(dir / "nolevel.geojson", R"({"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"code":"211202009","name":"某街道"},
       "geometry":{"type":"Polygon","coordinates":[[[123.8,42.2],[123.9,42.2],[123.9,42.3],[123.8,42.2]]]}}]})");
    expect_rejected(store, params(ImportKind::areas, dir / "nolevel.geojson"), "missing required column 'level'");
    auto p = params(ImportKind::areas, dir / "nolevel.geojson");
    p.level = Level::street;
    EXPECT_EQ(import_into(store, p).imported, 1u);
}

// Writes a one-feature EPSG:4490 shapefile whose text fields hold GBK bytes, with no .cpg
// and no language id (ENCODING="" writes the bytes as given), as many old files are.
static void write_gbk_shapefile(const std::string& path, const std::vector<std::pair<std::string, std::string>>& fields,
                                const OGRGeometry& geometry) {
    GDALAllRegister();
    auto* drv = GetGDALDriverManager()->GetDriverByName("ESRI Shapefile");
    GDALDataset* ds = drv->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
    OGRSpatialReference srs;
    srs.importFromEPSG(4490);
    char** opts = CSLSetNameValue(nullptr, "ENCODING", "");
    OGRLayer* l = ds->CreateLayer("gbk", &srs, geometry.getGeometryType(), opts);
    CSLDestroy(opts);
    for (const auto& [name, value] : fields) {
        OGRFieldDefn fd(name.c_str(), OFTString);
        l->CreateField(&fd);
    }
    auto* f = OGRFeature::CreateFeature(l->GetLayerDefn());
    for (const auto& [name, value] : fields) {
        char* gbk = CPLRecode(value.c_str(), CPL_ENC_UTF8, "CP936");
        f->SetField(name.c_str(), gbk);
        CPLFree(gbk);
    }
    f->SetGeometry(&geometry);
    EXPECT_EQ(l->CreateFeature(f), OGRERR_NONE);
    OGRFeature::DestroyFeature(f);
    GDALClose(ds);
    std::filesystem::remove(std::filesystem::path(path).replace_extension(".cpg"));
}

TEST(Import, ShapefileWithGbkAttributesAndNoCpg) {
    TempDir dir;
    // Shapefile names are at most 10 bytes: party_members travels as party_mbr.
    write_gbk_shapefile(dir / "gbk.shp",
                        {{"id", "5"},
                         {"name", "铁岭银州区红旗街道鑫源商贸有限公司"},
                         {"kind", "enterprise"},
                         {"employees", "12"},
                         {"party_mbr", "1"},
                         {"status", "operating"},
                         {"cred_code", "91211202MA0A1B2C3D"}},
                        OGRPoint(123.845, 42.285));
    ASSERT_FALSE(std::filesystem::exists(dir / "gbk.cpg"));
    {
        // Without --encoding the bytes are not read as the right text.
        TempDir other;
        auto store = store_with_grid(other);
        try {
            import_into(store, params(ImportKind::orgs, dir / "gbk.shp"));
            auto d = store.load();
            ASSERT_EQ(d.orgs.size(), 1u);
            EXPECT_NE(d.orgs[0].name, "铁岭银州区红旗街道鑫源商贸有限公司");
        } catch (const error&) {
            // rejecting undecodable text is fine too
        }
    }
    auto store = store_with_grid(dir);
    auto p = params(ImportKind::orgs, dir / "gbk.shp");
    p.encoding = "GBK";
    import_into(store, p);
    auto d = store.load();
    ASSERT_EQ(d.orgs.size(), 1u);
    EXPECT_EQ(d.orgs[0].name, "铁岭银州区红旗街道鑫源商贸有限公司");
    EXPECT_EQ(d.orgs[0].party_members, 1);
    EXPECT_EQ(d.orgs[0].credit_code, "91211202MA0A1B2C3D");
}

TEST(Import, ShapefileGbkWithEncodingOption) {
    TempDir dir;
    OGRPolygon poly;
    OGRLinearRing ring;
    for (auto [x, y] :
         std::vector<std::pair<double, double>>{{123.8, 42.2}, {123.9, 42.2}, {123.9, 42.3}, {123.8, 42.2}})
        ring.addPoint(x, y);
    poly.addRing(&ring);
    write_gbk_shapefile(dir / "gbk.shp", {{"code", "211202001001"}, {"name", "银州区红旗街道幸福社区"}}, poly);
    auto store = store_with_grid(dir);
    auto p = params(ImportKind::areas, dir / "gbk.shp");
    p.level = Level::community;
    p.encoding = "GBK";
    import_into(store, p);
    auto d = store.load();
    ASSERT_EQ(d.areas.size(), 3u);
    EXPECT_EQ(d.areas[2].name, "银州区红旗街道幸福社区");
}

TEST(Import, ProjectedShapefileIsReprojectedAndMissingPrjRejected) {
    TempDir dir;
    GDALAllRegister();
    OGRSpatialReference gk, geo;
    gk.importFromEPSG(4550);  // CGCS2000 3-degree Gauss-Kruger CM 123E
    geo.importFromEPSG(4490);
    gk.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    geo.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&geo, &gk));
    double x = 123.845, y = 42.285;
    ASSERT_TRUE(ct->Transform(1, &x, &y));
    for (bool with_prj : {true, false}) {
        std::string name = with_prj ? "gk" : "noprj";
        auto* drv = GetGDALDriverManager()->GetDriverByName("ESRI Shapefile");
        GDALDataset* ds = drv->Create((dir / (name + ".shp")).c_str(), 0, 0, 0, GDT_Unknown, nullptr);
        OGRLayer* l = ds->CreateLayer(name.c_str(), with_prj ? &gk : nullptr, wkbPoint, nullptr);
        for (const char* f : {"id", "name", "capacity"}) {
            OGRFieldDefn fd(f, OFTString);
            l->CreateField(&fd);
        }
        auto* f = OGRFeature::CreateFeature(l->GetLayerDefn());
        f->SetField("id", "3");
        f->SetField("name", "王伟");
        f->SetField("capacity", "4");
        OGRPoint pt(x, y);
        f->SetGeometry(&pt);
        EXPECT_EQ(l->CreateFeature(f), OGRERR_NONE);
        OGRFeature::DestroyFeature(f);
        GDALClose(ds);
    }
    auto store = store_with_grid(dir);
    expect_rejected(store, params(ImportKind::instructors, dir / "noprj.shp"), "no CRS");
    auto bad = params(ImportKind::instructors, dir / "noprj.shp");
    bad.srs = "EPSG:999999";
    expect_rejected(store, bad, "unknown CRS 'EPSG:999999'");
    auto wrong = params(ImportKind::instructors, dir / "noprj.shp");
    wrong.srs = "EPSG:4490";  // metres read as degrees
    expect_rejected(store, wrong, "not longitude/latitude");

    import_into(store, params(ImportKind::instructors, dir / "gk.shp"));
    auto d = store.load();
    ASSERT_EQ(d.instructors.size(), 1u);
    EXPECT_EQ(d.instructors[0].capacity, 4);
    EXPECT_LT(haversine_m(d.instructors[0].home, {123.845, 42.285}), 0.01);

    auto p = params(ImportKind::instructors, dir / "noprj.shp");
    p.srs = "EPSG:4550";
    EXPECT_THROW(import_into(store, p), format_error) << "id 3 already in the store";
}

TEST(Import, KmlAndGeoPackageSources) {
    TempDir dir;
    write(dir / "instructors.kml", R"(<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Schema name="instructors" id="s"><SimpleField name="id" type="int"/><SimpleField name="capacity" type="int"/></Schema>
<Folder><name>instructors</name>
<Placemark><name>李娜</name><ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="id">11</SimpleData>
<SimpleData name="capacity">3</SimpleData></SchemaData></ExtendedData><Point><coordinates>123.846,42.286</coordinates></Point></Placemark>
</Folder></Document></kml>)");
    auto store = store_with_grid(dir);
    import_into(store, params(ImportKind::instructors, dir / "instructors.kml"));
    auto d = store.load();
    ASSERT_EQ(d.instructors.size(), 1u);
    EXPECT_EQ(d.instructors[0].name, "李娜");
    EXPECT_EQ(d.instructors[0].id, "11");
    EXPECT_EQ(d.instructors[0].capacity, 3);

    // A GeoPackage written by another covermap store is an OGR source like any other.
    auto other = Store::open(dir / "other.gpkg");
    Dataset more;
    more.areas.push_back({"211202401", "高新区", Level::park, "211202", square(123.84, 42.28, 0.005)});
    other.replace(more);
    auto p = params(ImportKind::areas, dir / "other.gpkg");
    p.layer = "areas";
    EXPECT_EQ(import_into(store, p).imported, 1u);
    EXPECT_EQ(store.count("areas"), 3);
    expect_rejected(store, p, "already in the store");
}

TEST(Import, UnreadableFile) {
    TempDir dir;
    auto store = store_with_grid(dir);
    write(dir / "garbage.shp", "this is not a shapefile");
    expect_rejected(store, params(ImportKind::orgs, dir / "garbage.shp"), "cannot open");
    expect_rejected(store, params(ImportKind::orgs, dir / "missing.geojson"), "cannot open");
}
