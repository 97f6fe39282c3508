#include "covermap/geo/planner.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "covermap/geo/adjacency.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "support.hpp"

using namespace covermap::geo;
using covermap::test::square;

namespace {

Organization org(int id, double x, double y, int members, std::string industry = "C") {
    Organization o;
    o.id = std::to_string(id);
    o.name = "org" + std::to_string(id);
    o.party_members = members;
    o.industry = std::move(industry);
    o.credit_code = "CODE" + std::to_string(id);
    o.location = {x, y};
    return o;
}

// Three grid cells of community 211202001001 in a row, 0.01° wide and 0.03° tall from
// (123.0, 42.0): codes 211202001001001, …002 and …003, west to east.
void add_cells_in_a_row(Dataset& d) {
    for (int k = 0; k < 3; ++k)
        d.areas.push_back({"21120200100100" + std::to_string(k + 1),
                           "格",
                           Level::grid,
                           "211202001001",
                           {Polygon{{{123.0 + 0.01 * k, 42.0},
                                     {123.01 + 0.01 * k, 42.0},
                                     {123.01 + 0.01 * k, 42.03},
                                     {123.0 + 0.01 * k, 42.03},
                                     {123.0 + 0.01 * k, 42.0}},
                                    {}}}});
}

// Three grid cells in a row (one community, one street); a far cell in another street.
Dataset tiny() {
    Dataset d;
    d.areas.push_back({"211202", "银州区", Level::district, "", square(123.0, 42.0, 1.0)});
    d.areas.push_back({"211202001", "甲街道", Level::street, "211202", square(123.0, 42.0, 0.03)});
    d.areas.push_back({"211202002", "乙街道", Level::street, "211202", square(123.5, 42.5, 0.03)});
    d.areas.push_back({"211202001001", "甲社区", Level::community, "211202001", square(123.0, 42.0, 0.03)});
    d.areas.push_back({"211202002001", "乙社区", Level::community, "211202002", square(123.5, 42.5, 0.03)});
    add_cells_in_a_row(d);
    d.areas.push_back({"211202002001001", "远格", Level::grid, "211202002001", square(123.5, 42.5, 0.03)});
    d.orgs.push_back(org(1, 123.005, 42.01, 4));  // rule 1: standalone
    d.orgs.push_back(org(2, 123.015, 42.01, 1));  // rule 2 with 3
    d.orgs.push_back(org(3, 123.016, 42.011, 2));
    d.orgs.push_back(org(4, 123.51, 42.51, 1));    // alone in its street: affiliate
    d.orgs.push_back(org(5, 123.025, 42.02, 0));   // rule 3: instructor
    d.orgs.push_back(org(6, 123.026, 42.021, 0));  // rule 3: no capacity left
    d.orgs.push_back(org(7, 123.027, 42.022, 0));  // already has an instructor
    d.orgs.back().instructor_id = "1";
    d.orgs.push_back(org(8, 123.004, 42.004, 2));  // a shell branch (2 members, standalone)
    d.orgs.back().branch_id = 1;
    d.orgs.back().employees = 70;
    d.orgs.push_back(org(9, 124.9, 41.5, 0));  // outside every grid cell, 60 employees, 0 members
    d.orgs.back().employees = 60;
    d.orgs.back().instructor_id = "1";
    d.orgs.back().credit_code = "CODE1";  // duplicate of org 1
    d.branches.push_back({1, "壳支部", BranchType::standalone, 2, {"8"}});
    d.branches.push_back(
        {2, "大联合党支部", BranchType::joint, 6, {"20", "21", "22", "23", "24", "25"}});  // over the cap of 5
    d.instructors.push_back({"1", "王伟", 3, "C", "211202001", {123.02, 42.02}});          // load 2, spare 1
    return d;
}

}  // namespace

TEST(Plan, HandCheckedTinyPlan) {
    PlanParams p;
    p.cost = CostMode::distance;
    auto plan = make_plan(tiny(), p);
    std::map<std::string, std::vector<const Proposal*>> by_type;
    std::set<std::string> seen;
    for (const auto& pr : plan.proposals) {
        by_type[pr.type].push_back(&pr);
        for (const auto& id : pr.orgs) EXPECT_TRUE(seen.insert(id).second) << "org " << id << " in two proposals";
    }
    ASSERT_EQ(by_type["standalone"].size(), 1u);
    EXPECT_EQ(by_type["standalone"][0]->orgs, (std::vector<std::string>{"1"}));
    ASSERT_EQ(by_type["joint"].size(), 1u);
    auto joint = by_type["joint"][0]->orgs;
    std::sort(joint.begin(), joint.end());
    EXPECT_EQ(joint, (std::vector<std::string>{"2", "3"}));
    EXPECT_EQ(by_type["joint"][0]->members, 3);
    ASSERT_EQ(by_type["affiliate"].size(), 1u);
    EXPECT_EQ(by_type["affiliate"][0]->orgs, (std::vector<std::string>{"4"}));
    EXPECT_EQ(by_type["affiliate"][0]->area, "211202002001");
    ASSERT_EQ(by_type["instructor"].size(), 1u);
    EXPECT_EQ(by_type["instructor"][0]->instructor_id, "1");
    EXPECT_EQ(by_type["instructor"][0]->orgs.size(), 1u) << "spare capacity is 1";
    EXPECT_EQ(plan.unassigned, 1u);
    // The nearer of 5 and 6 gets the instructor.
    double d5 = haversine_m({123.025, 42.02}, {123.02, 42.02}), d6 = haversine_m({123.026, 42.021}, {123.02, 42.02});
    EXPECT_EQ(by_type["instructor"][0]->orgs[0], d5 < d6 ? "5" : "6");
    EXPECT_NEAR(by_type["instructor"][0]->cost_m, std::min(d5, d6), 0.01);

    std::multiset<std::string> flags;
    for (const auto& f : plan.flags) flags.insert(f.type);
    EXPECT_EQ(flags.count("shell_branch"), 1u);
    EXPECT_EQ(flags.count("no_members"), 1u);  // org 9 (org 8 has 2 members)
    EXPECT_EQ(flags.count("outside_grid"), 1u);
    EXPECT_EQ(flags.count("duplicate_credit_code"), 1u);
    EXPECT_EQ(flags.count("instructor_over_capacity"), 0u);
    EXPECT_EQ(flags.count("joint_over_cap"), 1u);

    // Clusters need cells that stand out: with one or two organizations a cell, the spread of
    // the rates is no more than chance (s² = 0), every smoothed rate is the overall one, and
    // no cluster is reported (the rule that listed every cell with an uncovered organization
    // made three here).
    EXPECT_TRUE(plan.clusters.empty());
    auto j = to_json(plan);
    for (const char* key : {"clusters", "hotspots", "proposals", "flags"}) EXPECT_TRUE(j.contains(key)) << key;
}

// write_json's text is the tree's dump byte for byte: on the demo's plan, and on a plan with
// enough proposals and flags to take several batches and waves on both cores.
TEST(PlanJson, WrittenTextIsTheDumpOfTheTree) {
    DemoParams dp;
    dp.scale = 0.5;
    dp.borders = std::string(COVERMAP_DATA_DIR) + "/tieling_counties.geojson";
    auto d = make_demo(dp);
    auto plan = make_plan(d, PlanParams{});
    ASSERT_FALSE(plan.proposals.empty());
    ASSERT_FALSE(plan.flags.empty());
    for (int indent : {0, 1, 2, 4}) {
        std::ostringstream out;
        write_json(plan, out, indent);
        EXPECT_EQ(out.str(), to_json(plan).dump(indent)) << "indent " << indent;
    }

    Plan big;
    big.timings_ms = {{"locate", 1.25}};
    for (int k = 0; k < 40001; ++k) {
        Proposal q;
        q.id = "P-" + std::to_string(k);
        q.type = k % 4 == 0 ? "joint" : k % 4 == 1 ? "affiliate" : k % 4 == 2 ? "instructor" : "standalone";
        if (k % 997 != 0) q.orgs = {std::to_string(k), k % 5 == 0 ? "组织" + std::to_string(k) : std::to_string(k + 1)};
        if (k % 3 != 0) q.street = "2112020" + std::to_string(k % 100);
        q.members = k % 7;
        q.area = "2112020010" + std::to_string(k % 10);
        if (q.type == "instructor") q.instructor_id = "I" + std::to_string(k);
        q.cost_m = k * 1.5;
        q.street_name = "老城街道";
        q.reason = k % 2 ? "第" + std::to_string(k) + "条：\"引号\"\n换行\t\\" : "plain ASCII " + std::to_string(k);
        q.bbox = {123.0 + k * 1e-6, 42.0, 123.5, 42.5};
        big.proposals.push_back(std::move(q));
    }
    for (int k = 0; k < 17000; ++k) big.flags.push_back({"no_members", {std::to_string(k)}, "组织" + std::to_string(k)});
    std::ostringstream out;
    write_json(big, out, 1);
    EXPECT_EQ(out.str(), to_json(big).dump(1));

    Plan empty;
    std::ostringstream none;
    write_json(empty, none, 1);
    EXPECT_EQ(none.str(), to_json(empty).dump(1));
    EXPECT_THROW(write_json(empty, none, -1), invalid_argument);
}

// Text that is not UTF-8 fails as the tree's dump fails (strict), not as garbled output.
TEST(PlanJson, TextThatIsNotUtf8FailsAsTheDumpFails) {
    Plan plan;
    Proposal q;
    q.id = "P-1";
    q.type = "standalone";
    q.reason = std::string("\xff\xfe");
    plan.proposals.push_back(q);
    std::ostringstream out;
    EXPECT_THROW(write_json(plan, out, 1), nlohmann::json::type_error);
    EXPECT_THROW(to_json(plan).dump(1), nlohmann::json::type_error);
}

TEST(Plan, InstructorsNeverOverCapacityOnTheDemo) {
    DemoParams dp;
    dp.scale = 0.5;
    dp.borders = std::string(COVERMAP_DATA_DIR) + "/tieling_counties.geojson";
    auto d = make_demo(dp);
    PlanParams p;
    auto plan = make_plan(d, p);
    std::map<std::string, int> load;
    for (const auto& o : d.orgs)
        if (o.instructor_id) ++load[*o.instructor_id];
    std::map<std::string, int> cap;
    for (const auto& in : d.instructors) cap[in.id] = in.capacity;
    std::set<std::string> seen;
    for (const auto& pr : plan.proposals) {
        for (const auto& id : pr.orgs) EXPECT_TRUE(seen.insert(id).second) << id;
        if (pr.type == "joint") {
            EXPECT_GE(pr.members, 3);
            EXPECT_LE(pr.orgs.size(), 5u);
            EXPECT_GE(pr.orgs.size(), 2u);
        }
        if (pr.instructor_id) {
            int before = load[*pr.instructor_id];
            load[*pr.instructor_id] += static_cast<int>(pr.orgs.size());
            // Only instructors already over capacity (a flagged dirty row) may stay over, and get nothing new.
            EXPECT_LE(load[*pr.instructor_id], std::max(cap[*pr.instructor_id], before));
        }
    }
    EXPECT_FALSE(plan.flags.empty());
}

// A 12 × 12 grid of cells with 20 organizations each, 2 uncovered (10 %), except a 3 × 3 block
// with 12 uncovered (60 %), two empty cells and, far from the block, a cell with one
// organization, uncovered. Hot spots and clusters must find the block, leave the empty cells
// out and not take the lone organization's 100 % at face value.
TEST(Plan, HotSpotsAndClustersOnSmoothedRates) {
    Dataset d;
    d.areas.push_back({"211202", "银州区", Level::district, "", square(123.0, 42.0, 0.2)});
    d.areas.push_back({"211202001", "甲街道", Level::street, "211202", square(123.0, 42.0, 0.2)});
    d.areas.push_back({"211202001001", "甲社区", Level::community, "211202001", square(123.0, 42.0, 0.2)});
    auto cell_code = [](int r, int c) { return "G" + std::to_string(r * 12 + c + 1000); };
    int next = 1;
    for (int r = 0; r < 12; ++r)
        for (int c = 0; c < 12; ++c) {
            d.areas.push_back(
                {cell_code(r, c), "格", Level::grid, "211202001001", square(123.0 + 0.01 * c, 42.0 + 0.01 * r, 0.01)});
            bool empty = (r == 0 && c == 11) || (r == 11 && c == 0);
            bool lone = r == 9 && c == 9;
            bool block = r >= 2 && r <= 4 && c >= 2 && c <= 4;
            int n = empty ? 0 : lone ? 1 : 20, uncovered = lone ? 1 : block ? 12 : 2;
            for (int k = 0; k < n; ++k) {
                auto o = org(next++, 123.0 + 0.01 * c + 0.0004 * (k % 20 + 2), 42.0 + 0.01 * r + 0.005, 0);
                if (k >= uncovered) o.instructor_id = "elsewhere";
                d.orgs.push_back(o);
            }
        }
    PlanParams p;
    p.cost = CostMode::distance;
    auto plan = make_plan(d, p);
    EXPECT_EQ(plan.hotspot_tests, 142u) << "the two empty cells are left out";
    std::set<std::string> block;
    for (int r = 2; r <= 4; ++r)
        for (int c = 2; c <= 4; ++c) block.insert(cell_code(r, c));
    ASSERT_EQ(plan.clusters.size(), 1u) << "only the block stands out";
    EXPECT_EQ(std::set<std::string>(plan.clusters[0].areas.begin(), plan.clusters[0].areas.end()), block);
    EXPECT_EQ(plan.clusters[0].uncovered, 9 * 12);
    bool centre = false;
    for (const auto& h : plan.hotspots) {
        EXPECT_NE(h.code, cell_code(9, 9)) << "one organization is not a hot spot";
        if (block.count(h.code)) {
            EXPECT_LT(h.smoothed_rate, h.rate) << "a high rate shrinks toward the overall one";
        }
        centre = centre || h.code == cell_code(3, 3);
    }
    EXPECT_TRUE(centre) << "the block's centre is a hot spot";
}

// The repair pass for contiguous territories (planning cost): three grid cells A | B | C in a
// row, instructor 1 living in B next to C and already covering an organization in A,
// instructor 2 living at C's far end and covering one in C. The flow gives the new
// organization X in C to instructor 1 (83 m against 744 m), whose territory A + C is then in
// two pieces; the pass moves X to instructor 2 when 661 m more is within contiguity_max_m,
// and not when it is not.
TEST(Plan, ContiguityRepairMovesOnlyWithinItsLimit) {
    Dataset d;
    d.areas.push_back({"211202", "银州区", Level::district, "", square(123.0, 42.0, 0.03)});
    d.areas.push_back({"211202001", "甲街道", Level::street, "211202", square(123.0, 42.0, 0.03)});
    d.areas.push_back({"211202001001", "甲社区", Level::community, "211202001", square(123.0, 42.0, 0.03)});
    add_cells_in_a_row(d);
    d.orgs.push_back(org(1, 123.005, 42.015, 0));  // in A, instructor 1's
    d.orgs.back().instructor_id = "1";
    d.orgs.push_back(org(2, 123.028, 42.015, 0));  // in C, instructor 2's
    d.orgs.back().instructor_id = "2";
    d.orgs.push_back(org(3, 123.0205, 42.015, 0));  // X, in C
    d.instructors.push_back({"1", "王伟", 5, "", "211202001", {123.0195, 42.015}});
    d.instructors.push_back({"2", "李娜", 5, "", "211202001", {123.0295, 42.015}});
    const double to_1 = haversine_m({123.0205, 42.015}, {123.0195, 42.015});
    const double to_2 = haversine_m({123.0205, 42.015}, {123.0295, 42.015});
    ASSERT_GT(to_2 - to_1, 500);
    ASSERT_LT(to_2 - to_1, 1000);
    auto instructor_of_x = [](const Plan& plan) {
        std::optional<std::string> found;
        for (const auto& pr : plan.proposals)
            if (pr.type == "instructor" && pr.orgs == std::vector<std::string>{"3"}) found = pr.instructor_id;
        return found;
    };

    PlanParams p;  // planning cost; both instructors are of X's street and take every industry
    auto moved = make_plan(d, p);
    EXPECT_EQ(instructor_of_x(moved), "2");
    EXPECT_EQ(moved.contiguity_moves, 1u);
    EXPECT_NEAR(moved.contiguity_cost_m, to_2 - to_1, 1.0);

    p.contiguity_max_m = 500;  // the move would cost more than allowed: the optimum stays
    auto kept = make_plan(d, p);
    EXPECT_EQ(instructor_of_x(kept), "1");
    EXPECT_EQ(kept.contiguity_moves, 0u);

    p = PlanParams{};
    p.cost = CostMode::distance;  // the pass belongs to the planning cost only
    EXPECT_EQ(instructor_of_x(make_plan(d, p)), "1");
}

// A plan for one street touches only its organizations; every proposal says where it lies and
// why it was made.
TEST(Planner, APlanForOneStreetTouchesOnlyItsOrganizationsAndSaysWhy) {
    const auto& d = covermap::test::demo_dataset(0.2, 5);
    auto streets = locate_orgs(d, Level::street);
    // The street with the most uncovered organizations.
    std::map<int, int> uncovered;
    for (std::size_t i = 0; i < d.orgs.size(); ++i)
        if (streets[i] >= 0 && d.orgs[i].operating() && !d.orgs[i].branch_id && !d.orgs[i].instructor_id)
            ++uncovered[streets[i]];
    ASSERT_FALSE(uncovered.empty());
    int street = std::max_element(uncovered.begin(), uncovered.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; })
                     ->first;
    const auto& area = d.areas[static_cast<std::size_t>(street)];
    PlanParams p;
    p.level = Level::community;
    p.area = area.code;
    auto plan = make_plan(d, p);
    ASSERT_FALSE(plan.proposals.empty());
    std::set<Id> inside;
    for (std::size_t i = 0; i < d.orgs.size(); ++i)
        if (streets[i] == street) inside.insert(d.orgs[i].id);
    for (const auto& pr : plan.proposals) {
        for (const auto& id : pr.orgs) EXPECT_TRUE(inside.count(id)) << pr.id << " touches " << id;
        EXPECT_EQ(pr.street, area.code) << pr.id;
        EXPECT_EQ(pr.street_name, area.name) << pr.id;
        EXPECT_FALSE(pr.reason.empty()) << pr.id;
        EXPECT_LE(pr.bbox[0], pr.bbox[2]);
        EXPECT_LE(pr.bbox[1], pr.bbox[3]);
        EXPECT_GT(pr.bbox[0], 100.0) << "a box in degrees";
    }
    auto instructor = std::find_if(plan.proposals.begin(), plan.proposals.end(),
                                   [](const Proposal& pr) { return pr.type == "instructor"; });
    ASSERT_NE(instructor, plan.proposals.end());
    EXPECT_NE(instructor->reason.find("联系"), std::string::npos) << instructor->reason;
    // The whole city's plan has more, and an unknown area is an error.
    PlanParams all;
    all.level = Level::community;
    EXPECT_GT(make_plan(d, all).proposals.size(), plan.proposals.size());
    p.area = "nowhere";
    EXPECT_THROW(make_plan(d, p), covermap::geo::invalid_argument);
    EXPECT_EQ(industry_name("C"), "制造业");
    EXPECT_EQ(industry_name("自定义"), "自定义");
}
