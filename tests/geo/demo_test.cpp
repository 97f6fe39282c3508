#include "covermap/geo/demo.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "covermap/geo/coverage.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "support.hpp"

using namespace covermap::geo;

namespace {

const Dataset& demo() { return covermap::test::demo_dataset(1, 2010); }

}  // namespace

TEST(Demo, ReproducesTheSeedFiguresWithinOnePoint) {
    auto ent = compute_coverage(demo(), Level::district, OrgKind::enterprise).total;
    auto soc = compute_coverage(demo(), Level::district, OrgKind::social).total;
    EXPECT_NEAR(ent.org_coverage(), 0.282, 0.01);
    EXPECT_NEAR(ent.instructor_coverage(), 0.888, 0.01);
    EXPECT_NEAR(soc.org_coverage(), 0.321, 0.01);
    EXPECT_NEAR(soc.instructor_coverage(), 0.90, 0.01);
    std::size_t enterprises = 0;
    for (const auto& o : demo().orgs) enterprises += o.kind == OrgKind::enterprise;
    EXPECT_EQ(enterprises, 1822u);
    EXPECT_EQ(demo().orgs.size(), 1822u + 430u);
    // Branches near the seed's 472 + 97 (a few dirty rows added on purpose).
    EXPECT_NEAR(static_cast<double>(demo().branches.size()), 472 + 97, 15);
    EXPECT_NEAR(static_cast<double>(demo().instructors.size()), 1184 + 360, 30);
}

TEST(Demo, SameSeedSameData) {
    DemoParams p;
    p.borders = std::string(COVERMAP_DATA_DIR) + "/tieling_counties.geojson";
    p.scale = 0.2;
    auto a = make_demo(p), b = make_demo(p);
    EXPECT_EQ(covermap::test::fingerprint(a), covermap::test::fingerprint(b));
    p.seed = 7;
    EXPECT_NE(covermap::test::fingerprint(make_demo(p)), covermap::test::fingerprint(a));
}

TEST(Demo, HierarchyCodesAndRealisticCounts) {
    std::map<Level, int> count;
    std::map<std::string, const Area*> by_code;
    for (const auto& a : demo().areas) {
        ++count[a.level];
        EXPECT_TRUE(by_code.emplace(a.code, &a).second) << "duplicate code " << a.code;
    }
    EXPECT_EQ(count[Level::district], 7);
    EXPECT_GE(count[Level::street], 70);       // tens per county
    EXPECT_GE(count[Level::community], 1000);  // tens per street
    EXPECT_GE(count[Level::grid], 4 * count[Level::community]);
    EXPECT_GE(count[Level::park], 4);
    std::set<std::string> counties = {"211202", "211204", "211221", "211223", "211224", "211281", "211282"};
    std::regex street(R"(\d{6}(0\d\d|1\d\d))"), community(R"(\d{9}\d{3})"), grid(R"(\d{12}\d{3})"),
        park(R"(\d{6}[45]\d\d)");
    for (const auto& a : demo().areas) {
        switch (a.level) {
            case Level::district:
                EXPECT_TRUE(counties.count(a.code)) << a.code;
                break;
            case Level::street:
                EXPECT_TRUE(std::regex_match(a.code, street)) << a.code;
                break;
            case Level::community:
                EXPECT_TRUE(std::regex_match(a.code, community)) << a.code;
                break;
            case Level::grid:
                EXPECT_TRUE(std::regex_match(a.code, grid)) << a.code;
                break;
            case Level::park:
                EXPECT_TRUE(std::regex_match(a.code, park)) << a.code;
                break;
        }
        if (a.level != Level::district) {
            ASSERT_TRUE(by_code.count(a.parent_code)) << a.code << " has no parent " << a.parent_code;
            EXPECT_EQ(a.code.substr(0, a.parent_code.size()), a.parent_code);
        }
        EXPECT_FALSE(a.name.empty());
    }
    EXPECT_EQ(by_code.at("211202")->name, "银州区");
    EXPECT_EQ(by_code.at("211281")->name, "调兵山市");
}

TEST(Demo, ChildrenTileTheirParentExactly) {
    std::map<std::string, std::vector<MultiPolygon>> children;
    std::map<std::string, const Area*> by_code;
    for (const auto& a : demo().areas) {
        by_code[a.code] = &a;
        if (a.level != Level::park && !a.parent_code.empty()) children[a.parent_code].push_back(a.shape);
    }
    int checked = 0;
    for (const auto& [code, kids] : children) {
        const auto& parent = *by_code.at(code);
        // Every county and street, and every 25th community (the full check is slow).
        if (parent.level == Level::community && (checked++ % 25) != 0) continue;
        double whole = planar_area(parent.shape);
        double sum = 0;
        for (const auto& k : kids) sum += planar_area(k);
        EXPECT_NEAR(sum, whole, 1e-7 * whole) << "overlap or gap under " << code;
        EXPECT_NEAR(planar_area(union_all(kids)), whole, 1e-7 * whole) << "gap under " << code;
    }
}

TEST(Demo, DirtyRowsForThePlannerFlags) {
    const auto& d = demo();
    std::map<std::int64_t, const Branch*> branches;
    for (const auto& b : d.branches) branches[b.id] = &b;
    bool shell_on_deregistered = false, big_without_members = false, duplicate = false;
    std::set<std::string> codes;
    for (const auto& o : d.orgs) {
        if (o.status == OrgStatus::deregistered && o.branch_id) shell_on_deregistered = true;
        if (o.employees >= 50 && o.party_members == 0 && o.operating()) big_without_members = true;
        if (!codes.insert(o.credit_code).second) duplicate = true;
        EXPECT_EQ(o.credit_code.size(), 18u);
        EXPECT_EQ(o.credit_code.back(), credit_code_check(o.credit_code.substr(0, 17)));
    }
    EXPECT_TRUE(shell_on_deregistered);
    EXPECT_TRUE(big_without_members);
    EXPECT_TRUE(duplicate);
    auto located = locate_orgs(d, Level::grid);
    EXPECT_EQ(std::count(located.begin(), located.end(), -1), 1) << "one organization outside every grid cell";
    std::map<std::string, int> load;
    for (const auto& o : d.orgs)
        if (o.instructor_id) ++load[*o.instructor_id];
    int over = 0;
    for (const auto& in : d.instructors) over += load[in.id] > in.capacity;
    EXPECT_EQ(over, 1);
    // Branch members add up from the organizations they cover.
    for (const auto& b : d.branches) {
        int members = 0;
        for (const auto& id : b.org_ids) members += d.orgs[std::stoul(id) - 1].party_members;
        EXPECT_EQ(b.members, members) << b.name;
    }
}

TEST(Demo, CreditCodeCheckCharacter) {
    // A published example of GB 32100-2015: 91350100M000100Y43.
    EXPECT_EQ(credit_code_check("91350100M000100Y4"), '3');
}

// Issue #15: an instructor serves organizations near home, a joint or affiliated branch groups
// neighbours (the demo's groups follow a Hilbert order, not latitude bands).
TEST(Demo, InstructorsAndJointBranchesServeNeighbours) {
    const auto& d = demo();
    std::map<std::string, Point> home;
    for (const auto& in : d.instructors) home[in.id] = in.home;
    std::map<std::string, Point> at;
    for (const auto& o : d.orgs) at[o.id] = o.location;
    std::vector<double> lengths;
    for (const auto& o : d.orgs)
        if (o.instructor_id) lengths.push_back(haversine_m(home.at(*o.instructor_id), o.location));
    for (const auto& b : d.branches) {
        if (b.type == BranchType::standalone) continue;
        double span = 0;
        for (const auto& a : b.org_ids)
            for (const auto& c : b.org_ids) span = std::max(span, haversine_m(at.at(a), at.at(c)));
        lengths.push_back(span);
    }
    std::sort(lengths.begin(), lengths.end());
    ASSERT_GT(lengths.size(), 1000u);
    EXPECT_LE(lengths.back(), 15000.0) << "longest link or branch span, metres";
    EXPECT_LT(lengths[lengths.size() * 95 / 100], 5000.0) << "95th percentile, metres";
}

TEST(Demo, AYearOfVisitsBeforeTheDayItIsMadeTheSameForTheSameSeed) {
    auto d = covermap::test::demo_dataset(0.2, 5);
    auto visits = make_demo_visits(d, 5, "2026-12-07");
    ASSERT_FALSE(visits.empty());
    auto again = make_demo_visits(d, 5, "2026-12-07");
    ASSERT_EQ(visits.size(), again.size());
    for (std::size_t i = 0; i < visits.size(); ++i) {
        EXPECT_EQ(visits[i].org, again[i].org);
        EXPECT_EQ(visits[i].date, again[i].date);
        EXPECT_EQ(visits[i].kind, again[i].kind);
    }
    // Relative to the day: a day later, the same visits a day later or fewer (never after today).
    std::set<std::string> kinds;
    std::map<std::string, std::string> verified;
    for (const auto& v : visits) {
        EXPECT_LE(v.date, "2026-12-07");
        EXPECT_GE(v.date, "2026-01-01");
        kinds.insert(v.kind);
        if (v.ledger_confirmed) verified[v.org] = std::max(verified[v.org], v.date);
    }
    EXPECT_EQ(kinds.size(), 4u);
    // Not every organization verified this quarter, but some.
    std::size_t served = 0, this_quarter = 0;
    for (const auto& o : d.orgs)
        if (o.operating() && o.instructor_id) {
            ++served;
            if (verified.count(o.id) && verified[o.id] >= "2026-10-01") ++this_quarter;
        }
    EXPECT_GT(this_quarter, served / 4);
    EXPECT_LT(this_quarter, served);
}
