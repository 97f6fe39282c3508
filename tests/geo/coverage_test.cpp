#include "covermap/geo/coverage.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace covermap::geo;
using covermap::test::square;

namespace {

Organization org(int id, double x, double y, OrgKind kind = OrgKind::enterprise,
                 OrgStatus status = OrgStatus::operating) {
    Organization o;
    o.id = std::to_string(id);
    o.name = "org" + std::to_string(id);
    o.kind = kind;
    o.status = status;
    o.location = {x, y};
    return o;
}

// Two grid cells side by side, a park over the left half of both; branches of every type.
Dataset hand_made() {
    Dataset d;
    d.areas.push_back({"211202001001001", "甲网格", Level::grid, "211202001001", square(0, 0, 1)});
    d.areas.push_back({"211202001001002", "乙网格", Level::grid, "211202001001", square(1, 0, 1)});
    d.areas.push_back(
        {"211202401", "园区", Level::park, "211202", {Polygon{{{0, 0}, {1.5, 0}, {1.5, 1}, {0, 1}, {0, 0}}, {}}}});
    d.branches.push_back({1, "甲党支部", BranchType::standalone, 5, {"1"}});
    d.branches.push_back({2, "联合党支部", BranchType::joint, 3, {"2", "3"}});
    d.branches.push_back({3, "挂靠", BranchType::affiliated, 1, {"4"}});
    d.branches.push_back({4, "空壳", BranchType::standalone, 3, {"6"}});

    d.orgs.push_back(org(1, 0.2, 0.2));  // standalone branch
    d.orgs.back().branch_id = 1;
    d.orgs.push_back(org(2, 0.4, 0.4));  // joint
    d.orgs.back().branch_id = 2;
    d.orgs.push_back(org(3, 0.6, 0.6));  // joint + instructor
    d.orgs.back().branch_id = 2;
    d.orgs.back().instructor_id = "7";
    d.orgs.push_back(org(4, 1.2, 0.5));  // affiliated (in the park, right cell)
    d.orgs.back().branch_id = 3;
    d.orgs.push_back(org(5, 1.7, 0.5));  // instructor only (right cell, outside the park)
    d.orgs.back().instructor_id = "7";
    d.orgs.push_back(org(6, 1.8, 0.8, OrgKind::enterprise, OrgStatus::deregistered));  // shell: not operating
    d.orgs.back().branch_id = 4;
    d.orgs.push_back(org(7, 1.9, 0.1));                   // uncovered
    d.orgs.push_back(org(8, 0.9, 0.9, OrgKind::social));  // social, uncovered
    d.orgs.push_back(org(9, 5, 5));                       // outside every area
    d.orgs.back().instructor_id = "7";
    return d;
}

}  // namespace

TEST(Coverage, DefinitionsOnAHandMadeCase) {
    auto t = compute_coverage(hand_made(), Level::grid);
    ASSERT_EQ(t.areas.size(), 2u);
    const auto& left = t.areas[0];
    EXPECT_EQ(left.code, "211202001001001");
    EXPECT_EQ(left.orgs, 4);
    EXPECT_EQ(left.operating, 4);
    EXPECT_EQ(left.org_covered, 3);  // 1 standalone + 2 joint
    EXPECT_EQ(left.standalone, 1);
    EXPECT_EQ(left.work_covered, 3);
    EXPECT_EQ(left.instructor_covered, 1);
    EXPECT_DOUBLE_EQ(left.org_coverage(), 0.75);
    EXPECT_DOUBLE_EQ(left.standalone_rate(), 0.25);

    const auto& right = t.areas[1];
    EXPECT_EQ(right.orgs, 4);         // 4, 5, 6 (deregistered), 7
    EXPECT_EQ(right.operating, 3);    // the deregistered one counts nowhere
    EXPECT_EQ(right.org_covered, 1);  // the affiliated one
    EXPECT_EQ(right.standalone, 0);
    EXPECT_EQ(right.work_covered, 2);  // affiliated + instructor-only
    EXPECT_EQ(right.instructor_covered, 1);
    EXPECT_DOUBLE_EQ(right.work_coverage(), 2.0 / 3.0);

    // The total is over the organizations the level's areas hold (org 9 is outside).
    EXPECT_EQ(t.total.orgs, 8);
    EXPECT_EQ(t.total.operating, 7);
    EXPECT_EQ(t.total.org_covered, 4);
    EXPECT_EQ(t.total.instructor_covered, 2);
}

TEST(Coverage, KindFilterAndParks) {
    auto social = compute_coverage(hand_made(), Level::grid, OrgKind::social);
    EXPECT_EQ(social.total.operating, 1);
    EXPECT_EQ(social.total.work_covered, 0);

    auto parks = compute_coverage(hand_made(), Level::park);
    ASSERT_EQ(parks.areas.size(), 1u);
    EXPECT_EQ(parks.areas[0].orgs, 5);  // 1, 2, 3, 4 and 8 lie inside the park polygon
    EXPECT_EQ(parks.areas[0].org_covered, 4);
}

TEST(Coverage, AreaWithoutOrganizationsHasZeroRates) {
    auto d = hand_made();
    d.areas.push_back({"211202001001003", "空网格", Level::grid, "211202001001", square(10, 10, 1)});
    auto t = compute_coverage(d, Level::grid);
    ASSERT_EQ(t.areas.size(), 3u);
    EXPECT_EQ(t.areas[2].operating, 0);
    EXPECT_EQ(t.areas[2].org_coverage(), 0.0);
}

TEST(Coverage, JsonContract) {
    auto j = to_json(compute_coverage(hand_made(), Level::grid));
    EXPECT_EQ(j["level"], "grid");
    ASSERT_EQ(j["areas"].size(), 2u);
    for (const char* key :
         {"code", "name", "orgs", "operating", "org_covered", "standalone", "work_covered", "instructor_covered",
          "org_coverage", "standalone_rate", "work_coverage", "instructor_coverage"}) {
        EXPECT_TRUE(j["areas"][0].contains(key)) << key;
        EXPECT_TRUE(j["total"].contains(key)) << key;
    }
    EXPECT_EQ(j["areas"][0]["name"], "甲网格");
    EXPECT_DOUBLE_EQ(j["total"]["org_coverage"].get<double>(), 4.0 / 7.0);
    auto csv = to_csv(compute_coverage(hand_made(), Level::grid));
    EXPECT_EQ(csv.substr(0, 10), "code,name,");
    EXPECT_NE(csv.find("211202001001002,乙网格,4,3,1,0,2,1,"), std::string::npos) << csv;
}
