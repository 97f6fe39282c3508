#include "covermap/geo/store.hpp"

#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include <cstdlib>

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
    a.id = 17;
    a.name = "铁岭宏达机械制造有限公司";
    a.credit_code = "91211202MA0XXXXX1Y";
    a.industry = "C";
    a.employees = 120;
    a.party_members = 4;
    a.above_scale = true;
    a.branch_id = 3;
    a.instructor_id = 5;
    a.version = 4;
    a.location = {123.81234567, 42.21234567};
    Organization b = a;
    b.id = 18;
    b.name = "银州区书法家协会";
    b.kind = OrgKind::social;
    b.status = OrgStatus::suspended;
    b.above_scale = false;
    b.branch_id.reset();
    b.instructor_id.reset();
    b.version = 1;
    d.orgs = {a, b};
    d.instructors.push_back({5, "王伟", 4, "C,I", "211202001", {123.81, 42.21}});
    d.branches.push_back({3, "铁岭宏达机械制造有限公司党支部", BranchType::standalone, 4, {17}});
    d.branches.push_back({4, "联合党支部", BranchType::joint, 3, {20, 21, 22}});
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
    o.id = 99;
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
    o.id = 100;
    o.name = "first";
    bad.orgs.push_back(o);
    o.id = 17;  // same FID as an existing row: the insert fails half-way through the batch
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
    o.id = 100;
    bad.orgs.push_back(o);
    o.id = 17;
    bad.orgs.push_back(o);
    EXPECT_THROW(store.append(bad), store_error);
    EXPECT_EQ(fingerprint(store.load()), before);
}
