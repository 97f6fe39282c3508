// The planner's power tools on a real server: draw and assign (the optimum of an exact
// min-cost flow over the same candidates, a dry run the commit repeats, one undoable change),
// the workload, rebalancing within max_moves, comparing plans, the drop import's preview, the
// street sheet (an A4 PDF read back with pdfinfo and pdftotext) and a local base map.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "api/http_client.hpp"
#include "api/served.hpp"
#include "covermap/geo/assignment.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/spatial_index.hpp"

using namespace covermap;
using nlohmann::json;
using test::request;
using test::Served;

namespace {

json get(const Served& s, const std::string& path, const std::string& token) {
    auto r = request(s.port, "GET", path, token);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json::parse(r.body, nullptr, false);
}

json rectangle(const geo::BBox& b) {
    return {{"type", "Polygon"},
            {"coordinates", {{{b.minx, b.miny}, {b.maxx, b.miny}, {b.maxx, b.maxy}, {b.minx, b.maxy}, {b.minx, b.miny}}}}};
}

// The district of the demo with the most organizations needing an instructor.
const geo::Area& busiest_district(const geo::Dataset& d) {
    const geo::Area* best = nullptr;
    long most = -1;
    std::vector<geo::Point> points;
    for (const auto& o : d.orgs) points.push_back(o.location);
    for (const auto& a : d.areas) {
        if (a.level != geo::Level::district) continue;
        auto hits = geo::locate_points({&a.shape}, points);
        long n = 0;
        for (std::size_t i = 0; i < hits.size(); ++i)
            n += hits[i] >= 0 && d.orgs[i].operating() && !d.orgs[i].branch_id && !d.orgs[i].instructor_id;
        if (n > most) most = n, best = &a;
    }
    return *best;
}

std::map<std::string, int> loads(const geo::Dataset& d) {
    std::map<std::string, int> load;
    for (const auto& o : d.orgs)
        if (o.instructor_id) ++load[*o.instructor_id];
    return load;
}

}  // namespace

TEST(PowerTools, DrawAndAssignIsTheMinCostFlowOptimumAndOneUndoableChange) {
    // Few instructors with little room, so that capacity binds and the optimum is not greedy's.
    geo::Dataset d = test::demo_dataset(0.2, 5);
    geo::BBox box;  // the whole city
    for (const auto& a : d.areas)
        if (a.level == geo::Level::district) box.expand(geo::bounds(a.shape));
    auto load = loads(d);
    std::vector<std::string> chosen;
    for (const auto& in : d.instructors)
        if (load[in.id] < in.capacity && chosen.size() < 4) chosen.push_back(in.id);
    ASSERT_EQ(chosen.size(), 4u);
    Served s(d);

    // The candidates as the issue defines them: operating, no branch, no instructor, inside.
    std::vector<geo::Point> points;
    for (const auto& o : d.orgs) points.push_back(o.location);
    geo::MultiPolygon rect = {{{{box.minx, box.miny}, {box.maxx, box.miny}, {box.maxx, box.maxy}, {box.minx, box.maxy}, {box.minx, box.miny}}, {}}};
    auto hits = geo::locate_points({&rect}, points);
    std::vector<std::size_t> candidates;
    long inside = 0;
    for (std::size_t i = 0; i < d.orgs.size(); ++i) {
        if (hits[i] < 0) continue;
        ++inside;
        const auto& o = d.orgs[i];
        if (o.operating() && !o.branch_id && !o.instructor_id) candidates.push_back(i);
    }
    std::sort(candidates.begin(), candidates.end(), [&](auto a, auto b) { return d.orgs[a].id < d.orgs[b].id; });
    ASSERT_GE(candidates.size(), 6u);

    json body = {{"polygon", rectangle(box)}, {"instructors", chosen}, {"dry_run", true}};
    auto dry = request(s.port, "POST", "/api/assign", s.planner, body.dump());
    ASSERT_EQ(dry.status, 200) << dry.body;
    auto shown = json::parse(dry.body);
    EXPECT_EQ(shown["selection"]["total"], inside);
    EXPECT_EQ(shown["selection"]["uncovered"].get<long>(), static_cast<long>(candidates.size()));
    EXPECT_FALSE(shown.contains("change_id"));

    // Every candidate listed once, assigned or not.
    std::multiset<std::string> listed;
    for (const auto& a : shown["assignments"]) listed.insert(a["org"].get<std::string>());
    for (const auto& u : shown["unassigned"]) {
        listed.insert(u["org"].get<std::string>());
        EXPECT_FALSE(u["reason"].get<std::string>().empty());
    }
    std::multiset<std::string> expected;
    for (auto i : candidates) expected.insert(d.orgs[i].id);
    EXPECT_EQ(listed, expected);

    // The exact min-cost flow over every candidate–instructor pair, the same spare capacity.
    geo::AssignmentProblem problem;
    for (auto i : candidates) problem.orgs.push_back(d.orgs[i].location);
    std::sort(chosen.begin(), chosen.end());
    for (const auto& id : chosen) {
        auto in = std::find_if(d.instructors.begin(), d.instructors.end(), [&](const auto& x) { return x.id == id; });
        problem.instructors.push_back(in->home);
        problem.spare.push_back(in->capacity - load[id]);
    }
    auto exact = geo::solve_assignment_plain(problem);
    EXPECT_EQ(shown["assignments"].size(), exact.assigned);
    EXPECT_LT(exact.assigned, candidates.size()) << "capacity should bind in this case";
    double total = 0;
    std::map<std::string, int> per;
    for (const auto& a : shown["assignments"]) {
        total += a["distance_m"].get<double>();
        ++per[a["instructor"].get<std::string>()];
        EXPECT_FALSE(a["instructor_name"].get<std::string>().empty());
    }
    EXPECT_NEAR(shown["total_m"].get<double>(), exact.cost_m, 1.0 + 0.01 * static_cast<double>(exact.assigned));
    EXPECT_NEAR(total, exact.cost_m, 1.0 * static_cast<double>(exact.assigned) + 1.0);
    for (std::size_t j = 0; j < chosen.size(); ++j) EXPECT_LE(per[chosen[j]], problem.spare[j]);

    // A dry run writes nothing; the commit applies exactly what it showed, as one change.
    auto org0 = shown["assignments"][0]["org"].get<std::string>();
    EXPECT_TRUE(get(s, "/api/orgs/" + test::url(org0), s.viewer)["instructor_id"].is_null());
    body["dry_run"] = false;
    auto commit = request(s.port, "POST", "/api/assign", s.planner, body.dump());
    ASSERT_EQ(commit.status, 200) << commit.body;
    auto done = json::parse(commit.body);
    EXPECT_EQ(done["assignments"], shown["assignments"]);
    ASSERT_TRUE(done["change_id"].is_number());
    for (const auto& a : done["assignments"])
        EXPECT_EQ(get(s, "/api/orgs/" + test::url(a["org"].get<std::string>()), s.viewer)["instructor_id"], a["instructor"]);
    auto log = get(s, "/api/changes?limit=1", s.viewer);
    EXPECT_EQ(log["items"][0]["id"], done["change_id"]);
    EXPECT_EQ(log["items"][0]["count"].get<std::size_t>(), done["assignments"].size());

    auto undo = request(s.port, "POST", "/api/changes/" + done["change_id"].dump() + "/revert", s.planner);
    ASSERT_EQ(undo.status, 200) << undo.body;
    for (const auto& a : done["assignments"])
        EXPECT_TRUE(get(s, "/api/orgs/" + test::url(a["org"].get<std::string>()), s.viewer)["instructor_id"].is_null());

    // A list of ids instead of a polygon, every instructor with room by default.
    json ids = json::array();
    for (auto i : candidates) ids.push_back(d.orgs[i].id);
    auto by_list = json::parse(request(s.port, "POST", "/api/assign", s.planner, json{{"orgs", ids}, {"dry_run", true}}.dump()).body);
    EXPECT_EQ(by_list["assignments"].size() + by_list["unassigned"].size(), candidates.size());
    EXPECT_EQ(by_list["unassigned"].size(), 0u) << "the whole city's instructors have room for them";

    // What is refused: a viewer, neither or both selections, a polygon that is not one.
    EXPECT_EQ(request(s.port, "POST", "/api/assign", s.viewer, body.dump()).status, 403);
    EXPECT_EQ(request(s.port, "POST", "/api/assign", s.planner, R"({"dry_run":true})").status, 400);
    EXPECT_EQ(request(s.port, "POST", "/api/assign", s.planner,
                      json{{"polygon", rectangle(box)}, {"orgs", ids}}.dump()).status, 400);
    EXPECT_EQ(request(s.port, "POST", "/api/assign", s.planner,
                      R"({"polygon":{"type":"Polygon","coordinates":[[[1,1],[2,2],[1,1]]]}})").status, 400);
    EXPECT_EQ(request(s.port, "POST", "/api/assign", s.planner,
                      R"({"polygon":{"type":"Point","coordinates":[1,1]}})").status, 400);
    EXPECT_EQ(request(s.port, "POST", "/api/assign", s.planner,
                      R"({"polygon":{"type":"Polygon","coordinates":[[[1e999,1],[2,2],[3,1],[1,1]]]}})").status, 400);
    EXPECT_EQ(request(s.port, "POST", "/api/assign", s.planner, R"({"orgs":["no-such-org"],"dry_run":true})").status, 404);
    EXPECT_EQ(request(s.port, "POST", "/api/assign", s.planner,
                      json{{"orgs", json::array({ids.front()})}, {"instructors", json::array({"no-such-instructor"})}, {"dry_run", true}}.dump())
                  .status,
              404);
    // A lasso that crosses itself (a bow tie) is repaired, not refused.
    json bow = {{"type", "Polygon"},
                {"coordinates", {{{box.minx, box.miny}, {box.maxx, box.maxy}, {box.maxx, box.miny}, {box.minx, box.maxy}, {box.minx, box.miny}}}}};
    EXPECT_EQ(request(s.port, "POST", "/api/assign", s.planner, json{{"polygon", bow}, {"dry_run", true}}.dump()).status, 200);
    EXPECT_TRUE(s.healthy());
}

TEST(PowerTools, WorkloadListsTheAreasInstructorsByLoad) {
    Served s;
    const auto& d = test::demo_dataset(0.02, 5);
    const auto& district = busiest_district(d);
    auto all = get(s, "/api/instructors", s.viewer)["items"];
    EXPECT_EQ(all.size(), d.instructors.size());
    auto items = get(s, "/api/instructors?area=" + district.code, s.viewer)["items"];
    ASSERT_FALSE(items.empty());
    EXPECT_LT(items.size(), all.size());
    auto load = loads(d);
    double last = 1e9;
    for (const auto& it : items) {
        double ratio = it["load"].get<double>() / std::max(1, it["capacity"].get<int>());
        EXPECT_LE(ratio, last + 1e-9) << "sorted by load ÷ capacity";
        last = ratio;
        EXPECT_EQ(it["load"].get<int>(), load[it["id"].get<std::string>()]);
        EXPECT_EQ(it["orgs"].size(), it["load"].get<std::size_t>());
        EXPECT_TRUE(it["visits_quarter"].is_number());
        double metres = 0;
        auto in = std::find_if(d.instructors.begin(), d.instructors.end(), [&](const auto& x) { return x.id == it["id"]; });
        for (const auto& oid : it["orgs"]) {
            auto o = std::find_if(d.orgs.begin(), d.orgs.end(), [&](const auto& x) { return x.id == oid; });
            metres += geo::haversine_m(o->location, in->home);
        }
        EXPECT_NEAR(it["distance_m"].get<double>(), metres, 1.0);
    }
    EXPECT_EQ(request(s.port, "GET", "/api/instructors?area=nowhere", s.viewer).status, 404);
}

TEST(PowerTools, RebalanceClearsOverloadsFirstAndNeverExceedsMaxMoves) {
    // One instructor of a district made over capacity by two: its capacity set below its load.
    geo::Dataset d = test::demo_dataset(0.2, 5);
    const auto& district = busiest_district(d);
    std::vector<geo::Point> points;
    for (const auto& o : d.orgs) points.push_back(o.location);
    auto hits = geo::locate_points({&district.shape}, points);
    std::map<std::string, int> here;
    for (std::size_t i = 0; i < d.orgs.size(); ++i)
        if (hits[i] >= 0 && d.orgs[i].instructor_id && d.orgs[i].operating() && !d.orgs[i].branch_id)
            ++here[*d.orgs[i].instructor_id];
    auto load = loads(d);
    std::string heavy;
    for (const auto& [id, n] : here)
        if (n >= 2 && load[id] >= 3 && heavy.empty()) heavy = id;
    ASSERT_FALSE(heavy.empty());
    for (auto& in : d.instructors)
        if (in.id == heavy) in.capacity = load[heavy] - 2;
    Served s(d);

    auto plan = [&](int max_moves) {
        auto r = request(s.port, "POST", "/api/plan", s.planner,
                         json{{"mode", "rebalance"}, {"area", district.code}, {"max_moves", max_moves}}.dump());
        EXPECT_EQ(r.status, 201) << r.body;
        return json::parse(r.body);
    };
    auto one = plan(1);
    EXPECT_EQ(one["mode"], "rebalance");
    EXPECT_EQ(one["proposals"].size(), 1u);
    EXPECT_EQ(one["summary"]["overloaded_before"], 1);
    EXPECT_EQ(one["summary"]["overloaded_after"], 1) << "one move cannot clear an overload of two";
    EXPECT_EQ(one["proposals"][0]["from"], heavy);

    auto ten = plan(10);
    const auto& sum = ten["summary"];
    EXPECT_LE(ten["proposals"].size(), 10u);
    EXPECT_EQ(sum["moves"], ten["proposals"].size());
    EXPECT_EQ(sum["overloaded_after"], 0);
    EXPECT_LT(sum["max_load_after"].get<double>(), sum["max_load_before"].get<double>());
    ASSERT_GE(ten["proposals"].size(), 2u);
    EXPECT_EQ(ten["proposals"][0]["from"], heavy);
    EXPECT_EQ(ten["proposals"][1]["from"], heavy);
    double saved = 0;
    std::set<std::string> moved;
    for (std::size_t k = 0; k < ten["proposals"].size(); ++k) {
        const auto& p = ten["proposals"][k];
        EXPECT_EQ(p["type"], "move");
        EXPECT_TRUE(moved.insert(p["org"].get<std::string>()).second) << "an organization moves once";
        if (k >= 2) {
            EXPECT_GT(p["saved_m"].get<double>(), 0) << "after the overload, only moves that save";
        }
        saved += p["saved_m"].get<double>();
    }
    EXPECT_NEAR(sum["distance_before_m"].get<double>() - saved, sum["distance_after_m"].get<double>(),
                1.0 + static_cast<double>(ten["proposals"].size()));
    EXPECT_EQ(plan(0)["proposals"].size(), 0u);

    // Accepted like any plan: the heavy instructor is within capacity, as one change.
    json ids = json::array();
    for (const auto& p : ten["proposals"]) ids.push_back(p["id"]);
    auto accepted = request(s.port, "POST", "/api/plan/" + ten["id"].get<std::string>() + "/accept", s.planner,
                            json{{"proposals", ids}}.dump());
    ASSERT_EQ(accepted.status, 200) << accepted.body;
    EXPECT_EQ(json::parse(accepted.body)["applied"].size(), ids.size());
    for (const auto& it : get(s, "/api/instructors?area=" + district.code, s.viewer)["items"])
        if (it["id"] == heavy) {
            EXPECT_LE(it["load"].get<int>(), it["capacity"].get<int>());
        }
    // The plan made before is stale now: its moves whose organizations moved are refused.
    auto stale = request(s.port, "POST", "/api/plan/" + one["id"].get<std::string>() + "/accept", s.planner,
                         json{{"proposals", {one["proposals"][0]["id"]}}}.dump());
    EXPECT_EQ(json::parse(stale.body)["conflicts"].size(), 1u) << stale.body;

    // With no overload left, a rebalance never adds distance.
    auto calm = plan(5);
    EXPECT_EQ(calm["summary"]["overloaded_before"], 0);
    EXPECT_LE(calm["summary"]["distance_after_m"].get<double>(), calm["summary"]["distance_before_m"].get<double>());
    EXPECT_EQ(request(s.port, "POST", "/api/plan", s.planner, R"({"mode":"rebalance"})").status, 400);
    EXPECT_EQ(request(s.port, "POST", "/api/plan", s.planner,
                      json{{"mode", "rebalance"}, {"area", district.code}, {"max_moves", -1}}.dump()).status, 400);
    EXPECT_EQ(request(s.port, "POST", "/api/plan", s.planner, R"({"mode":"rebalance","area":"nowhere"})").status, 404);
}

TEST(PowerTools, CompareGivesBothPlansFiguresAndWhatDiffers) {
    Served s;
    const auto& d = test::demo_dataset(0.02, 5);
    auto made = request(s.port, "POST", "/api/plan", s.planner, "{}");
    ASSERT_EQ(made.status, 201);
    auto plan = json::parse(made.body);
    auto id = plan["id"].get<std::string>();
    std::set<std::string> touched;
    for (const auto& p : plan["proposals"])
        for (const auto& o : p["orgs"]) touched.insert(o.get<std::string>());
    ASSERT_FALSE(touched.empty());

    auto c = get(s, "/api/plan/" + id + "/compare/current", s.viewer);
    EXPECT_EQ(c["a"]["id"], id);
    EXPECT_EQ(c["b"]["id"], "current");
    EXPECT_EQ(c["a"]["orgs_touched"].get<std::size_t>(), touched.size());
    EXPECT_EQ(c["b"]["orgs_touched"], 0);
    std::set<std::string> differ(c["differ"].begin(), c["differ"].end());
    EXPECT_EQ(differ, touched);
    EXPECT_EQ(c["differ_places"].size(), touched.size());
    for (const auto& p : c["differ_places"]) EXPECT_EQ(p["b"], "不变");
    // Today's figures, counted here.
    long operating = 0, branch = 0, work = 0;
    std::set<std::string> used;
    for (const auto& o : d.orgs) {
        if (o.instructor_id) used.insert(*o.instructor_id);
        if (!o.operating()) continue;
        ++operating;
        branch += o.branch_id ? 1 : 0;
        work += o.branch_id || o.instructor_id ? 1 : 0;
    }
    EXPECT_NEAR(c["b"]["org_coverage"].get<double>(), double(branch) / operating, 1e-9);
    EXPECT_NEAR(c["b"]["work_coverage"].get<double>(), double(work) / operating, 1e-9);
    EXPECT_EQ(c["b"]["instructors_used"].get<std::size_t>(), used.size());
    EXPECT_GE(c["a"]["org_coverage"].get<double>(), c["b"]["org_coverage"].get<double>());
    EXPECT_NEAR(c["a"]["org_coverage"].get<double>(), plan["reach"]["org_coverage_after"].get<double>(), 1e-9);

    // A plan against itself differs nowhere; a second plan for a street differs from the first.
    EXPECT_TRUE(get(s, "/api/plan/" + id + "/compare/" + id, s.viewer)["differ"].empty());
    EXPECT_EQ(request(s.port, "GET", "/api/plan/" + id + "/compare/plan-999", s.viewer).status, 404);
    EXPECT_EQ(request(s.port, "GET", "/api/plan/nope/compare/current", s.viewer).status, 404);
}

TEST(PowerTools, StreetSheetIsAnA4PdfOfTheStreetsInstructorsAndOrganizations) {
    Served s;
    const auto& d = test::demo_dataset(0.02, 5);
    // A street with an instructor serving an organization in it.
    std::vector<geo::Point> points;
    for (const auto& o : d.orgs) points.push_back(o.location);
    const geo::Area* street = nullptr;
    std::string org_name, instructor_name;
    for (const auto& a : d.areas) {
        if (a.level != geo::Level::street || street) continue;
        auto hits = geo::locate_points({&a.shape}, points);
        for (std::size_t i = 0; i < hits.size() && !street; ++i)
            if (hits[i] >= 0 && d.orgs[i].instructor_id) {
                street = &a;
                org_name = d.orgs[i].name;
                for (const auto& in : d.instructors)
                    if (in.id == *d.orgs[i].instructor_id) instructor_name = in.name;
            }
    }
    ASSERT_NE(street, nullptr);
    auto r = request(s.port, "GET", "/api/print?area=" + street->code, s.viewer);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/pdf");
    EXPECT_NE(r.header("Content-Disposition").find("filename*=UTF-8''"), std::string::npos);
    test::TempDir dir;
    auto file = dir / "sheet.pdf";
    std::ofstream(file, std::ios::binary) << r.body;
    auto info = test::capture("pdfinfo " + file);
    EXPECT_NE(info.find("595.28 x 841.89 pts (A4)"), std::string::npos) << info;
    auto text = test::capture("pdftotext " + file + " -");
    for (const std::string& want : {street->name + "两新组织党建工作联系表", std::string("党建指导员及联系组织"),
                                    std::string("北"), std::string("制表日期"), std::string("已建党组织"),
                                    std::string("未覆盖"), std::string("负责人"), std::string("联系电话"),
                                    org_name, instructor_name})
        EXPECT_NE(text.find(want), std::string::npos) << want;
    EXPECT_TRUE(text.find(" 米") != std::string::npos || text.find(" 公里") != std::string::npos) << "a scale bar";
    EXPECT_EQ(request(s.port, "GET", "/api/print?area=nowhere", s.viewer).status, 404);
    EXPECT_EQ(request(s.port, "GET", "/api/print", s.viewer).status, 400);
    EXPECT_EQ(request(s.port, "GET", "/api/print?area=" + street->code).status, 401);
}

TEST(PowerTools, DropImportPreviewsTheDiffAndRowErrorsInChineseAndWritesNothing) {
    Served s;
    auto csv = request(s.port, "GET", "/api/export/orgs?format=csv", s.admin);
    ASSERT_EQ(csv.status, 200);
    // Change one row's employees, put text where a number goes in another.
    std::vector<std::string> lines;
    std::stringstream in(csv.body);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    ASSERT_GE(lines.size(), 4u);
    auto head = lines[0];
    std::vector<std::string> cols;
    {
        std::stringstream h(head);
        for (std::string c; std::getline(h, c, ',');) cols.push_back(c);
    }
    auto at = std::find(cols.begin(), cols.end(), "employees") - cols.begin();
    ASSERT_LT(static_cast<std::size_t>(at), cols.size());
    auto set_cell = [&](std::string& line, const std::string& value, std::string& was) {
        std::vector<std::string> cells;
        std::stringstream l(line);
        for (std::string c; std::getline(l, c, ',');) cells.push_back(c);
        auto unquote = [](std::string c) { return c.size() >= 2 && c.front() == '"' ? c.substr(1, c.size() - 2) : c; };
        was = unquote(cells[static_cast<std::size_t>(at)]);
        cells[static_cast<std::size_t>(at)] = value;
        line.clear();
        for (std::size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + cells[i];
        return unquote(cells[2]);  // the id
    };
    std::string was1, was2;
    auto changed_id = set_cell(lines[1], "99999", was1);
    set_cell(lines[2], "abc", was2);
    std::string body;
    for (const auto& l : lines) body += l + "\n";

    auto dry = request(s.port, "POST", "/api/import/orgs?format=csv&dry_run=true&skip_bad=true", s.admin, body);
    ASSERT_EQ(dry.status, 200) << dry.body;
    auto j = json::parse(dry.body);
    EXPECT_EQ(j["written"], false);
    EXPECT_EQ(j["total"]["updated"], 1);
    ASSERT_EQ(j["diff"].size(), 1u);
    EXPECT_EQ(j["diff"][0]["id"], changed_id);
    EXPECT_EQ(j["diff"][0]["kind"], "updated");
    EXPECT_EQ(j["diff"][0]["changes"][0]["field_zh"], "从业人员数");
    EXPECT_EQ(j["diff"][0]["changes"][0]["before"], was1);
    EXPECT_EQ(j["diff"][0]["changes"][0]["after"], "99999");
    ASSERT_EQ(j["rejected"].size(), 1u);
    EXPECT_EQ(j["rejected"][0]["where_zh"], "第 3 行");
    EXPECT_EQ(j["rejected"][0]["reason_zh"], "从业人员数「abc」不是整数");
    EXPECT_EQ(get(s, "/api/orgs/" + test::url(changed_id), s.viewer)["employees"].dump(), was1);

    // An organization whose row was left out as bad is not missing from the extract: marking
    // the absent ones deregistered spares it.
    auto spare = request(s.port, "POST", "/api/import/orgs?format=csv&dry_run=true&skip_bad=true&missing=deregister",
                         s.admin, body);
    ASSERT_EQ(spare.status, 200) << spare.body;
    EXPECT_EQ(json::parse(spare.body)["total"]["deregistered"], 0) << spare.body;

    // The same as an Excel workbook (the export's own): nothing changes, nothing is refused.
    auto xlsx = request(s.port, "GET", "/api/export/orgs?format=xlsx", s.admin);
    ASSERT_EQ(xlsx.status, 200);
    auto wb = request(s.port, "POST", "/api/import/orgs?format=xlsx&dry_run=true&skip_bad=true", s.admin, xlsx.body);
    ASSERT_EQ(wb.status, 200) << wb.body;
    auto w = json::parse(wb.body);
    EXPECT_EQ(w["total"]["updated"], 0);
    EXPECT_EQ(w["total"]["added"], 0);
    EXPECT_GT(w["total"]["unchanged"].get<long>(), 0);
    // A file that is no spreadsheet: refused with a Chinese message too.
    auto bad = request(s.port, "POST", "/api/import/orgs?format=xlsx&dry_run=true", s.admin, "not a workbook");
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(json::parse(bad.body)["message_zh"].get<std::string>().find("文件无法导入"), std::string::npos);
    EXPECT_EQ(request(s.port, "POST", "/api/import/orgs?format=xlsx&dry_run=true", s.planner, xlsx.body).status, 403);

    // The real import: one change, undone by a revert.
    auto real = request(s.port, "POST", "/api/import/orgs?format=csv&skip_bad=true", s.admin, body);
    ASSERT_EQ(real.status, 201) << real.body;
    auto change = json::parse(real.body)["change_id"];
    EXPECT_EQ(get(s, "/api/orgs/" + test::url(changed_id), s.viewer)["employees"], 99999);
    ASSERT_EQ(request(s.port, "POST", "/api/changes/" + change.dump() + "/revert", s.admin).status, 200);
    EXPECT_EQ(get(s, "/api/orgs/" + test::url(changed_id), s.viewer)["employees"].dump(), was1);
}

TEST(PowerTools, BaseMapFromATileDirectoryOrAnMBTilesFile) {
    test::TempDir dir;
    // A PNG to serve: one of covermap's own empty tiles would do, any valid bytes will.
    Served plain;
    auto png = request(plain.port, "GET", "/tiles/orgs/3/6/2.png", plain.viewer).body;
    ASSERT_EQ(png.rfind("\x89PNG", 0), 0u);
    std::filesystem::create_directories(dir / "tiles/10/860");
    std::ofstream(dir / "tiles/10/860/380.png", std::ios::binary) << png;
    auto me = get(plain, "/api/me", plain.viewer);
    EXPECT_TRUE(me["basemap"].is_null()) << "none by default";

    auto mbtiles = dir / "base.mbtiles";
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(mbtiles.c_str(), &db), SQLITE_OK);
        sqlite3_exec(db, "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)",
                     nullptr, nullptr, nullptr);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "INSERT INTO tiles VALUES (10, 860, 643, ?1)", -1, &st, nullptr);  // TMS row of y 380
        sqlite3_bind_blob(st, 1, png.data(), static_cast<int>(png.size()), SQLITE_STATIC);
        ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    for (const auto& source : {dir / "tiles", mbtiles}) {
        api::AppOptions ao;
        ao.basemap = source;
        ao.basemap_attribution = "天地图 测试";
        Served s({}, ao);
        auto who = get(s, "/api/me", s.viewer);
        EXPECT_EQ(who["basemap"], "/basemap/{z}/{x}/{y}");
        EXPECT_EQ(who["basemap_attribution"], "天地图 测试");
        auto tile = request(s.port, "GET", "/basemap/10/860/380", s.viewer);
        EXPECT_EQ(tile.status, 200) << source;
        EXPECT_EQ(tile.header("Content-Type"), "image/png");
        EXPECT_EQ(tile.body, png);
        EXPECT_EQ(request(s.port, "GET", "/basemap/10/860/380.png", s.viewer).status, 200);
        EXPECT_EQ(request(s.port, "GET", "/basemap/10/860/381", s.viewer).status, 404);
        for (const char* bad : {"/basemap/23/0/0", "/basemap/1/2/0", "/basemap/a/0/0", "/basemap/10/860/..%2F..%2Fetc",
                                "/basemap/10/-1/0"})
            EXPECT_EQ(request(s.port, "GET", bad, s.viewer).status, 404) << bad;
        EXPECT_EQ(request(s.port, "GET", "/basemap/10/860/380").status, 401);
    }
    // A URL template is the page's to fetch: covermap serves no /basemap then.
    api::AppOptions ao;
    ao.basemap = "https://t0.example.cn/vec_w/{z}/{x}/{y}.png";
    Served remote({}, ao);
    EXPECT_EQ(get(remote, "/api/me", remote.viewer)["basemap"], ao.basemap);
    EXPECT_EQ(request(remote.port, "GET", "/basemap/10/860/380", remote.viewer).status, 404);
}
