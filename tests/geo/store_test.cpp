#include "covermap/geo/store.hpp"

#include <cpl_conv.h>
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "covermap/geo/error.hpp"
#include "support.hpp"

using namespace covermap::geo;
using covermap::test::fingerprint;
using covermap::test::square;
using covermap::test::TempDir;

namespace {

Dataset sample() {
    Dataset d;
    d.areas.push_back({"211202", "银州区", Level::district, "", square(123.8, 42.2, 0.1)});
    d.areas.push_back({"211202001", "红旗街道", Level::street, "211202", square(123.8, 42.2, 0.05)});
    MultiPolygon two = square(123.80, 42.20, 0.01);
    auto more = square(123.83, 42.20, 0.01);
    two.push_back(more[0]);
    two[0].holes.push_back({{123.802, 42.202}, {123.804, 42.202}, {123.804, 42.204}, {123.802, 42.202}});
    d.areas.push_back({"211202001001001", "幸福社区第1网格", Level::grid, "211202001001", two});
    Organization a;
    a.id = "17";
    a.name = "铁岭宏达机械制造有限公司";
    a.credit_code = "91211202MA0XXXXX1Y";
    a.industry = "C";
    a.employees = 120;
    a.party_members = 4;
    a.above_scale = true;
    a.branch_id = 3;
    a.instructor_id = "ZD-5";
    a.version = 4;
    a.location = {123.81234567, 42.21234567};
    Organization b = a;
    b.id = "GS-2019/018";  // text ids: letters, a slash
    b.name = "银州区书法家协会";
    b.kind = OrgKind::social;
    b.status = OrgStatus::suspended;
    b.above_scale = false;
    b.branch_id.reset();
    b.instructor_id.reset();
    b.version = 1;
    d.orgs = {a, b};
    d.instructors.push_back({"ZD-5", "王伟", 4, "C,I", "211202001", {123.81, 42.21}});
    d.branches.push_back({3, "铁岭宏达机械制造有限公司党支部", BranchType::standalone, 4, {"17"}});
    d.branches.push_back({4, "联合党支部", BranchType::joint, 3, {"20", "21", "22"}});
    return d;
}

void round_trip(const std::string& uri) {
    auto store = Store::open(uri);
    store.replace(sample());
    EXPECT_EQ(fingerprint(store.load()), fingerprint(sample()));
    EXPECT_EQ(store.count("orgs"), 2);
    // Replacing again leaves no duplicates behind.
    store.replace(sample());
    EXPECT_EQ(store.count("orgs"), 2);
    EXPECT_EQ(fingerprint(Store::open_existing(uri).load()), fingerprint(sample()));
}

}  // namespace

TEST(Store, GeoPackageRoundTripKeepsEveryField) {
    TempDir dir;
    round_trip(dir / "s.gpkg");
}

TEST(Store, GeoPackageHasTheContractLayersInEpsg4490) {
    TempDir dir;
    Store::open(dir / "s.gpkg");
    GDALAllRegister();
    auto* ds = GDALDataset::Open((dir / "s.gpkg").c_str(), GDAL_OF_VECTOR);
    ASSERT_NE(ds, nullptr);
    for (const char* name : {"areas", "orgs", "instructors", "branches", "audit", "tokens"})
        EXPECT_NE(ds->GetLayerByName(name), nullptr) << name;
    auto* orgs = ds->GetLayerByName("orgs");
    ASSERT_NE(orgs->GetSpatialRef(), nullptr);
    EXPECT_STREQ(orgs->GetSpatialRef()->GetAuthorityCode(nullptr), "4490");
    for (const char* f : {"id", "name", "kind", "credit_code", "industry", "employees", "party_members", "status",
                          "above_scale", "branch_id", "instructor_id", "version"})
        EXPECT_GE(orgs->GetLayerDefn()->GetFieldIndex(f), 0) << f;
    EXPECT_EQ(orgs->GetLayerDefn()->GetFieldDefn(orgs->GetLayerDefn()->GetFieldIndex("credit_code"))->GetType(),
              OFTString);
    GDALClose(ds);
}

TEST(Store, AppendAddsRows) {
    TempDir dir;
    auto store = Store::open(dir / "s.gpkg");
    store.replace(sample());
    Dataset more;
    Organization o;
    o.id = "99";
    o.name = "新公司";
    o.location = {123.85, 42.25};
    more.orgs.push_back(o);
    store.append(more);
    EXPECT_EQ(store.count("orgs"), 3);
}

TEST(Store, FailedAppendLeavesTheStoreAsItWas) {
    TempDir dir;
    auto store = Store::open(dir / "s.gpkg");
    store.replace(sample());
    auto before = fingerprint(store.load());
    Dataset bad;
    Organization o;
    o.id = "100";
    o.name = "first";
    bad.orgs.push_back(o);
    o.id = "17";  // an id already in the store (unique index): the insert fails half-way
    bad.orgs.push_back(o);
    EXPECT_THROW(store.append(bad), store_error);
    EXPECT_EQ(fingerprint(store.load()), before);
    EXPECT_EQ(fingerprint(Store::open_existing(dir / "s.gpkg").load()), before);
}

TEST(Store, MissingStoreIsAClearError) {
    try {
        Store::open_existing("/nonexistent/covermap.gpkg");
        FAIL() << "expected store_error";
    } catch (const store_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/covermap.gpkg"), std::string::npos);
    }
}

TEST(Store, PostGisRoundTrip) {
    const char* pg = std::getenv("COVERMAP_TEST_PG");
    if (!pg || !*pg) GTEST_SKIP() << "COVERMAP_TEST_PG not set (scripts/test sets it when pg_ctlcluster is available)";
    round_trip(pg);
    auto store = Store::open(pg);
    auto before = fingerprint(store.load());
    Dataset bad;
    Organization o;
    o.id = "100";
    bad.orgs.push_back(o);
    o.id = "17";
    bad.orgs.push_back(o);
    EXPECT_THROW(store.append(bad), store_error);
    EXPECT_EQ(fingerprint(store.load()), before);
}

// Several processes on one store: the version and the capacity are checked inside the
// transaction, against the row as stored, not as a process remembers it.
TEST(Store, CommitsCompareVersionsAndCapacityInsideTheTransaction) {
    TempDir dir;
    Store::open(dir / "s.gpkg").replace(sample());
    auto one = Store::open_existing(dir / "s.gpkg"), two = Store::open_existing(dir / "s.gpkg");
    // Both read organization 17 at version 4; the first write wins, the second is refused.
    one.commit_changes({{"17", 3, std::nullopt, 5, 4}}, {}, {});
    try {
        two.commit_changes({{"17", 3, "ZD-5", 5, 4}}, {}, {});
        FAIL() << "a stale version was accepted";
    } catch (const conflict_error& e) {
        EXPECT_EQ(e.kind, conflict_error::Kind::stale_version);
    }
    auto d = two.load();
    EXPECT_FALSE(d.orgs[0].instructor_id) << "the first write stands";
    // Capacity 1 for ZD-5: one organization fits, a second does not (the whole commit is refused).
    two.commit_changes({{"17", 3, "ZD-5", 6, 5}}, {}, {}, {{"ZD-5", 1}});
    EXPECT_THROW(one.commit_changes({{"GS-2019/018", std::nullopt, "ZD-5", 2, 1}}, {}, {}, {{"ZD-5", 1}}),
                 conflict_error);
    EXPECT_FALSE(one.load().orgs[1].instructor_id);
}

// Stores written before text ids (integer id columns) are rewritten on open, values kept.
TEST(Store, IntegerIdStoresAreMigratedToTextIds) {
    TempDir dir;
    auto path = dir / "old.gpkg";
    {
        GDALAllRegister();
        auto* driver = GetGDALDriverManager()->GetDriverByName("GPKG");
        GDALDataset* ds = driver->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
        OGRSpatialReference srs;
        srs.importFromEPSG(4490);
        OGRLayer* l = ds->CreateLayer("orgs", &srs, wkbPoint, nullptr);
        for (auto [name, type] : std::vector<std::pair<const char*, OGRFieldType>>{{"id", OFTInteger64},
                                                                                   {"name", OFTString},
                                                                                   {"kind", OFTString},
                                                                                   {"status", OFTString},
                                                                                   {"instructor_id", OFTInteger64},
                                                                                   {"version", OFTInteger64}}) {
            OGRFieldDefn f(name, type);
            l->CreateField(&f);
        }
        OGRFeature* f = OGRFeature::CreateFeature(l->GetLayerDefn());
        f->SetField("id", static_cast<GIntBig>(42));
        f->SetField("name", "老库公司");
        f->SetField("kind", "enterprise");
        f->SetField("status", "operating");
        f->SetField("instructor_id", static_cast<GIntBig>(7));
        f->SetField("version", static_cast<GIntBig>(3));
        OGRPoint p(123.8, 42.2);
        f->SetGeometry(&p);
        EXPECT_EQ(l->CreateFeature(f), OGRERR_NONE);
        OGRFeature::DestroyFeature(f);
        GDALClose(ds);
    }
    auto d = Store::open_existing(path).load();
    ASSERT_EQ(d.orgs.size(), 1u);
    EXPECT_EQ(d.orgs[0].id, "42");
    EXPECT_EQ(d.orgs[0].instructor_id, "7");
    EXPECT_EQ(d.orgs[0].name, "老库公司");
    EXPECT_EQ(d.orgs[0].version, 3);
}

// The field loop's tables (visits, demonstration sites, quotas, contact points) in a store of
// each kind: written, filtered, the last confirmed day and 五有 check per organization.
void field_loop(const std::string& uri) {
    auto store = Store::open(uri);
    store.replace(sample());
    auto visit = [](std::string org, std::string date, bool confirmed, int wuyou, std::string key) {
        Visit v;
        v.org = std::move(org);
        v.date = std::move(date);
        v.kind = "走访";
        v.note = "核对台账";
        v.ledger_confirmed = confirmed;
        v.by = "测试";
        v.instructor = "ZD-5";
        v.time = "2026-11-02T02:00:00Z";
        v.wuyou = wuyou;
        v.stars = wuyou >= 0 ? 3 : 0;
        v.visit_key = std::move(key);
        return v;
    };
    store.add_visits({visit("17", "2026-09-30", true, -1, ""), visit("17", "2026-11-02", true, kWuyouAll, "k1"),
                      visit("100", "2026-11-05", false, 5, "")});
    VisitQuery q;
    q.from = "2026-10-01";
    q.to = "2026-12-31";
    auto quarter = store.visits(q);
    ASSERT_EQ(quarter.size(), 2u);
    EXPECT_EQ(quarter[0].org, "17");
    EXPECT_EQ(quarter[0].wuyou, kWuyouAll);
    EXPECT_EQ(quarter[0].stars, 3);
    q = {};
    q.visit_key = "k1";
    EXPECT_EQ(store.visits(q).size(), 1u);
    auto verified = store.ledger_verified();
    EXPECT_EQ(verified.at("17"), "2026-11-02");
    EXPECT_FALSE(verified.count("100"));
    std::vector<Id> only = {"100"};
    EXPECT_EQ(store.branch_checks(&only).at("100").wuyou, 5);
    EXPECT_EQ(store.load().ledger_verified.at("17"), "2026-11-02");

    Site site{0, "17", "county", 2026, "2026-11-02", "测试"};
    ChangeRow change;
    change.kind = "site";
    change.orgs = {"17"};
    store.add_site(site, &change);
    EXPECT_GT(site.id, 0);
    EXPECT_GT(change.id, 0);
    ASSERT_EQ(store.sites().size(), 1u);
    store.set_quota({"211202", "county", 2026, 20});
    store.set_quota({"211202", "county", 2026, 25});  // replaced, not added
    ASSERT_EQ(store.quotas().size(), 1u);
    EXPECT_EQ(store.quotas()[0].count, 25);
    ContactPoint point{0, "王建国", "市委常委", "组织科", "17", "2026-07-31", "测试"};
    store.add_contact_point(point, nullptr);
    EXPECT_EQ(store.contact_points().at(0).leader, "王建国");
    ChangeRow gone;
    gone.kind = "site_removed";
    EXPECT_TRUE(store.remove_site(site.id, gone));
    EXPECT_FALSE(store.remove_site(site.id, gone));
    EXPECT_TRUE(store.sites().empty());
    EXPECT_TRUE(store.remove_contact_point(point.id, gone));
}

TEST(Store, FieldLoopTablesInAGeoPackage) {
    TempDir dir;
    field_loop(dir / "f.gpkg");
}

TEST(Store, FieldLoopTablesOnPostGis) {
    const char* pg = std::getenv("COVERMAP_TEST_PG");
    if (!pg || !*pg) GTEST_SKIP() << "COVERMAP_TEST_PG not set (scripts/test sets it when pg_ctlcluster is available)";
    // A schema of its own: the database outlives the test (and other tests share it).
    GDALAllRegister();
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(pg, GDAL_OF_VECTOR | GDAL_OF_UPDATE));
    ASSERT_TRUE(ds);
    std::string schema = "field" + std::to_string(std::random_device{}() % 100000000);
    if (OGRLayer* r = ds->ExecuteSQL(("CREATE SCHEMA " + schema).c_str(), nullptr, nullptr)) ds->ReleaseResultSet(r);
    field_loop(std::string(pg) + " active_schema=" + schema);
    if (OGRLayer* r = ds->ExecuteSQL(("DROP SCHEMA " + schema + " CASCADE").c_str(), nullptr, nullptr))
        ds->ReleaseResultSet(r);
}

namespace {

// Every field of an organization, the ledger included, the coordinates to the last bit.
std::string org_row(const Organization& o, bool ledger) {
    std::ostringstream s;
    s.precision(17);
    s << o.id << '|' << o.name << '|' << to_string(o.kind) << '|' << o.credit_code << '|' << o.industry << '|'
      << o.employees << '|' << o.party_members << '|' << to_string(o.status) << '|' << o.above_scale << '|'
      << (o.branch_id ? std::to_string(*o.branch_id) : "null") << '|' << o.instructor_id.value_or("null") << '|'
      << o.location.x << ',' << o.location.y;
    if (ledger) {
        const auto& l = o.ledger();
        s << '|' << o.version << '|' << l.address << '|' << l.person_in_charge << '|' << l.phone << '|'
          << l.no_branch_reason << '|' << l.measure << '|' << l.location_precision;
    }
    return s.str();
}

}  // namespace

// A GeoPackage's organizations and instructors are loaded through the layer's Arrow stream;
// everything else (a filter, another driver) reads feature by feature. Both read every field
// alike: unset text and numbers, a missing or empty geometry, the ledger, Chinese text.
TEST(Store, ColumnReadEqualsFeatureRead) {
    TempDir dir;
    const std::string path = dir / "s.gpkg";
    auto store = Store::open(path);
    Dataset d = sample();
    Organization c = d.orgs[0];
    c.id = "C-3";
    c.set_ledger({"铁岭市银州区工人街1号", "张三", "13800000000", "党员人数不足", "选派党建指导员", "community"});
    c.version = 9;
    d.orgs.push_back(c);
    for (const char* id : {"NULLS", "EMPTY-POINT"}) {
        c.id = id;
        d.orgs.push_back(c);
    }
    d.instructors.push_back({"ZD-6", "李娜", 3, "", "", {123.9, 42.3}});
    store.replace(d);
    {  // unset fields and geometries, as another tool may leave them
        GDALAllRegister();
        std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_UPDATE));
        ASSERT_TRUE(ds);
        OGRLayer* orgs = ds->GetLayerByName("orgs");
        orgs->ResetReading();
        while (auto* f = orgs->GetNextFeature()) {
            std::string id = f->GetFieldAsString("id");
            if (id == "NULLS") {
                for (const char* field : {"name", "kind", "credit_code", "industry", "employees", "party_members",
                                          "status", "above_scale", "branch_id", "instructor_id", "address", "phone"})
                    f->SetFieldNull(f->GetFieldIndex(field));
                f->SetGeometryDirectly(nullptr);
            } else if (id == "EMPTY-POINT") {
                f->SetGeometryDirectly(new OGRPoint());
            }
            if (id == "NULLS" || id == "EMPTY-POINT") {
                ASSERT_EQ(orgs->SetFeature(f), OGRERR_NONE);
            }
            OGRFeature::DestroyFeature(f);
        }
        OGRLayer* instructors = ds->GetLayerByName("instructors");
        instructors->ResetReading();
        while (auto* f = instructors->GetNextFeature()) {
            if (std::string(f->GetFieldAsString("id")) == "ZD-6") {
                f->SetFieldNull(f->GetFieldIndex("industries"));
                f->SetFieldNull(f->GetFieldIndex("capacity"));
                f->SetGeometryDirectly(nullptr);
                ASSERT_EQ(instructors->SetFeature(f), OGRERR_NONE);
            }
            OGRFeature::DestroyFeature(f);
        }
        OGRLayer* branches = ds->GetLayerByName("branches");
        branches->ResetReading();
        while (auto* f = branches->GetNextFeature()) {
            if (f->GetFieldAsInteger64("id") == 4) {
                for (const char* field : {"name", "type", "members", "org_ids"}) f->SetFieldNull(f->GetFieldIndex(field));
                ASSERT_EQ(branches->SetFeature(f), OGRERR_NONE);
            }
            OGRFeature::DestroyFeature(f);
        }
    }
    store = Store::open_existing(path);
    std::vector<std::string> by_feature, by_feature_planning;
    store.for_each_org(
        [&](const Organization& o) {
            by_feature.push_back(org_row(o, true));
            by_feature_planning.push_back(org_row(o, false));
        },
        "1 = 1");  // a filter: feature by feature
    ASSERT_EQ(by_feature.size(), 5u);
    std::vector<std::string> by_column, by_column_planning;
    for (const auto& o : store.load().orgs) by_column.push_back(org_row(o, true));
    for (const auto& o : store.load_for_planning().orgs) by_column_planning.push_back(org_row(o, false));
    EXPECT_EQ(by_column, by_feature);
    EXPECT_EQ(by_column_planning, by_feature_planning);
    // COVERMAP_ARROW_READ=NO (the way out, README) reads the whole load feature by feature: the same.
    CPLSetConfigOption("COVERMAP_ARROW_READ", "NO");
    auto by_feature_load = store.load();
    CPLSetConfigOption("COVERMAP_ARROW_READ", nullptr);
    std::vector<std::string> loaded_by_feature;
    for (const auto& o : by_feature_load.orgs) loaded_by_feature.push_back(org_row(o, true));
    EXPECT_EQ(loaded_by_feature, by_feature);
    EXPECT_EQ(fingerprint(by_feature_load), fingerprint(store.load()));
    // The unset row reads as empty text, zeros and the origin; so does the empty point.
    EXPECT_EQ(by_column[3], "NULLS||enterprise|||0|0|operating|0|null|null|0,0|9||张三||党员人数不足|选派党建指导员|community");
    EXPECT_NE(by_column[4].find("|0,0|"), std::string::npos) << by_column[4];

    std::vector<std::string> instructors;
    for (const auto& in : store.load().instructors)
        instructors.push_back(in.id + "|" + in.name + "|" + std::to_string(in.capacity) + "|" + in.industries + "|" +
                              in.unit + "|" + std::to_string(in.home.x) + "," + std::to_string(in.home.y));
    EXPECT_EQ(instructors, (std::vector<std::string>{"ZD-5|王伟|4|C,I|211202001|123.810000,42.210000",
                                                     "ZD-6|李娜|0|||0.000000,0.000000"}));
    auto loaded = store.load();
    ASSERT_EQ(loaded.branches.size(), 2u);
    const auto& full = loaded.branches[0];
    EXPECT_EQ(full.id, 3);
    EXPECT_EQ(full.name, "铁岭宏达机械制造有限公司党支部");
    EXPECT_EQ(full.members, 4);
    EXPECT_EQ(full.org_ids, std::vector<Id>{"17"});
    const auto& unset = loaded.branches[1];
    EXPECT_EQ(unset.id, 4);
    EXPECT_EQ(unset.name, "");
    EXPECT_EQ(unset.type, BranchType::standalone);
    EXPECT_EQ(unset.members, 0);
    EXPECT_TRUE(unset.org_ids.empty());
    int types = 0;
    store.for_each_branch_type([&](std::int64_t id, BranchType t) {
        types += id == 4 && t == BranchType::standalone;  // the feature read agrees
    });
    EXPECT_EQ(types, 1);
}
