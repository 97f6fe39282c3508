#include "covermap/geo/model.hpp"

#include <gtest/gtest.h>

using namespace covermap::geo;

TEST(Model, NamesRoundTrip) {
    for (auto l : {Level::district, Level::street, Level::community, Level::grid, Level::park})
        EXPECT_EQ(parse_level(to_string(l)), l);
    for (auto k : {OrgKind::enterprise, OrgKind::social}) EXPECT_EQ(parse_org_kind(to_string(k)), k);
    for (auto s : {OrgStatus::operating, OrgStatus::suspended, OrgStatus::deregistered})
        EXPECT_EQ(parse_org_status(to_string(s)), s);
    for (auto t : {BranchType::standalone, BranchType::joint, BranchType::affiliated})
        EXPECT_EQ(parse_branch_type(to_string(t)), t);
    EXPECT_EQ(parse_org_kind("社会组织"), OrgKind::social);
    EXPECT_EQ(parse_org_status("注销"), OrgStatus::deregistered);
    EXPECT_FALSE(parse_level("county").has_value());
    EXPECT_FALSE(parse_org_kind("").has_value());
}

TEST(Model, BranchLevelByMembers) {
    EXPECT_EQ(branch_level(3), "支部");
    EXPECT_EQ(branch_level(49), "支部");
    EXPECT_EQ(branch_level(50), "总支");
    EXPECT_EQ(branch_level(99), "总支");
    EXPECT_EQ(branch_level(100), "基层党委");
}

TEST(Model, BBox) {
    BBox b;
    EXPECT_TRUE(b.empty());
    b.expand(Point{1, 2});
    b.expand(Point{3, -1});
    EXPECT_FALSE(b.empty());
    EXPECT_TRUE(b.contains({2, 0}));
    EXPECT_FALSE(b.contains({4, 0}));
    BBox c;
    c.expand(Point{3, 2});
    c.expand(Point{5, 5});
    EXPECT_TRUE(b.intersects(c));  // touching corner
    BBox far;
    far.expand(Point{10, 10});
    EXPECT_FALSE(b.intersects(far));
}

// The ledger lives behind a pointer shared by copies: a change to one organization's ledger
// never shows in another's, and an organization without one reads as all empty.
TEST(Model, LedgerIsAValueOfItsOrganization) {
    Organization a;
    EXPECT_EQ(a.ledger(), Ledger{});
    a.edit_ledger().address = "铁岭市银州区红旗街1号";
    a.edit_ledger().phone = "024-1234";
    Organization b = a;  // shares a's ledger until one of them changes it
    EXPECT_EQ(b.ledger(), a.ledger());
    b.edit_ledger().phone = "024-9999";
    EXPECT_EQ(a.ledger().phone, "024-1234") << "a copy's change leaked into the original";
    EXPECT_EQ(b.ledger().phone, "024-9999");
    EXPECT_EQ(b.ledger().address, a.ledger().address);
    Organization c = a;
    a.set_ledger({});
    EXPECT_EQ(a.ledger(), Ledger{});
    EXPECT_EQ(c.ledger().phone, "024-1234") << "replacing a's ledger changed its copy";
    c.set_ledger({"", "", "", "", "一企一策", ""});
    EXPECT_EQ(c.ledger().measure, "一企一策");
    EXPECT_NE(c.ledger(), b.ledger());
}
