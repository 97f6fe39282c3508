// The field loop's roles on a real server: a planner's token limited to an area edits inside
// it only (403 OutOfArea elsewhere: assignments, corrections, reverts, accepted plans); an
// instructor's token reads other organizations without their ledger, corrects its own
// organizations' ledger only (403 OutOfScope elsewhere) and never assigns.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "api/http_client.hpp"
#include "api/served.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/spatial_index.hpp"

using namespace covermap;
using nlohmann::json;
using test::request;
using test::Served;

namespace {

std::string version_of(const Served& s, const std::string& org) {
    return "If-Match: " + json::parse(request(s.port, "GET", "/api/orgs/" + test::url(org), s.viewer).body)["version"].dump();
}

// A street of the demo, one free organization inside it and one outside (operating, without a
// branch or an instructor), and an instructor with room.
struct StreetCase {
    std::string street, street_name, inside, outside, instructor;
};

StreetCase street_case(const geo::Dataset& d) {
    std::map<std::string, int> load;
    for (const auto& o : d.orgs)
        if (o.instructor_id) ++load[*o.instructor_id];
    StreetCase c;
    for (const auto& in : d.instructors)
        if (load[in.id] + 2 <= in.capacity) c.instructor = in.id;
    std::vector<geo::Point> points;
    std::vector<const geo::Organization*> free;
    for (const auto& o : d.orgs)
        if (o.operating() && !o.branch_id && !o.instructor_id) free.push_back(&o), points.push_back(o.location);
    for (const auto& a : d.areas) {
        if (a.level != geo::Level::street) continue;
        auto hits = geo::locate_points({&a.shape}, points);
        std::string in, out;
        for (std::size_t k = 0; k < free.size(); ++k) (hits[k] >= 0 ? in : out) = free[k]->id;
        if (!in.empty() && !out.empty()) return {a.code, a.name, in, out, c.instructor};
    }
    return c;
}

}  // namespace

TEST(FieldRoles, APlannersTokenLimitedToAStreetEditsInsideItOnly) {
    Served s;
    auto c = street_case(test::demo_dataset(0.02, 5));
    ASSERT_FALSE(c.street.empty());
    auto street = s.app->add_token(api::Role::planner, "street-planner", "", c.street);

    auto me = json::parse(request(s.port, "GET", "/api/me", street).body);
    EXPECT_EQ(me["role"], "planner");
    EXPECT_EQ(me["area"], c.street);
    EXPECT_EQ(me["area_name"], c.street_name);
    EXPECT_TRUE(me["instructor_id"].is_null());
    auto plain = json::parse(request(s.port, "GET", "/api/me", s.planner).body);
    EXPECT_TRUE(plain["area"].is_null());

    auto assign = [&](const std::string& token, const std::string& org) {
        return request(s.port, "PUT", "/api/orgs/" + test::url(org) + "/instructor", token,
                       json{{"instructor_id", c.instructor}}.dump(), {version_of(s, org)});
    };
    auto inside = assign(street, c.inside);
    EXPECT_EQ(inside.status, 200) << inside.body;
    auto outside = assign(street, c.outside);
    EXPECT_EQ(outside.status, 403) << outside.body;
    EXPECT_EQ(json::parse(outside.body)["code"], "OutOfArea");
    auto patch = request(s.port, "PATCH", "/api/orgs/" + test::url(c.outside), street, R"({"employees":7})",
                         {version_of(s, c.outside)});
    EXPECT_EQ(patch.status, 403) << patch.body;
    // Reads stay city-wide.
    EXPECT_EQ(request(s.port, "GET", "/api/orgs/" + test::url(c.outside), street).status, 200);

    // A change outside the street, made by an unlimited planner, is not the street's to revert.
    auto theirs = assign(s.planner, c.outside);
    ASSERT_EQ(theirs.status, 200) << theirs.body;
    auto id = json::parse(theirs.body)["change_id"].dump();
    auto revert = request(s.port, "POST", "/api/changes/" + id + "/revert", street);
    EXPECT_EQ(revert.status, 403) << revert.body;
    EXPECT_EQ(json::parse(revert.body)["code"], "OutOfArea");
    EXPECT_EQ(json::parse(request(s.port, "GET", "/api/orgs/" + test::url(c.outside), s.viewer).body)["instructor_id"],
              c.instructor);
    auto mine = request(s.port, "POST", "/api/changes/" + json::parse(inside.body)["change_id"].dump() + "/revert", street);
    EXPECT_EQ(mine.status, 200) << mine.body;

    // A city-wide plan accepted whole by the street's token: refused, nothing applied.
    auto plan = request(s.port, "POST", "/api/plan", s.planner, R"({"level":"community"})");
    ASSERT_EQ(plan.status, 201) << plan.body;
    auto pj = json::parse(plan.body);
    json ids = json::array();
    for (const auto& p : pj["proposals"]) ids.push_back(p["id"]);
    ASSERT_FALSE(ids.empty());
    auto before = request(s.port, "GET", "/api/changes?limit=1", s.viewer).body;
    auto accept = request(s.port, "POST", "/api/plan/" + pj["id"].get<std::string>() + "/accept", street,
                          json{{"proposals", ids}}.dump());
    EXPECT_EQ(accept.status, 403) << accept.body;
    EXPECT_EQ(request(s.port, "GET", "/api/changes?limit=1", s.viewer).body, before);

    // The limits' own rules.
    EXPECT_THROW(s.app->add_token(api::Role::viewer, "v", "", c.street), geo::invalid_argument);
    EXPECT_THROW(s.app->add_token(api::Role::planner, "p", "", "no-such-area"), geo::invalid_argument);
    auto bad = request(s.port, "POST", "/api/tokens", s.admin, R"({"role":"planner","name":"x","area":"nowhere"})");
    EXPECT_EQ(bad.status, 400) << bad.body;
    auto made = request(s.port, "POST", "/api/tokens", s.admin,
                        json{{"role", "planner"}, {"name", "y"}, {"area", c.street}}.dump());
    ASSERT_EQ(made.status, 201) << made.body;
    auto other = json::parse(made.body)["token"].get<std::string>();
    EXPECT_EQ(assign(other, c.outside).status, 403);

    // A web session of the token carries its limit.
    auto session = request(s.port, "POST", "/api/session", street);
    ASSERT_EQ(session.status, 201) << session.body;
    EXPECT_EQ(json::parse(session.body)["area"], c.street);
}

TEST(FieldRoles, AnInstructorsTokenCorrectsItsOwnLedgerOnlyAndNeverAssigns) {
    Served s;
    auto d = test::demo_dataset(0.02, 5);
    std::string instructor, own, other;
    for (const auto& o : d.orgs)
        if (o.instructor_id && instructor.empty()) instructor = *o.instructor_id, own = o.id;
    for (const auto& o : d.orgs)
        if (o.instructor_id != std::optional<std::string>(instructor)) other = o.id;
    ASSERT_FALSE(own.empty());
    EXPECT_THROW(s.app->add_token(api::Role::instructor, "nobody"), geo::invalid_argument);
    EXPECT_THROW(s.app->add_token(api::Role::instructor, "ghost", "", "", "no-such-instructor"), geo::invalid_argument);
    EXPECT_THROW(s.app->add_token(api::Role::viewer, "v", "", "", instructor), geo::invalid_argument);
    auto field = s.app->add_token(api::Role::instructor, "field", "", "", instructor);

    auto me = json::parse(request(s.port, "GET", "/api/me", field).body);
    EXPECT_EQ(me["role"], "instructor");
    EXPECT_EQ(me["instructor_id"], instructor);
    EXPECT_TRUE(me["instructor_name"].is_string());

    // Reads: a viewer's, without other organizations' ledgers.
    auto mine = json::parse(request(s.port, "GET", "/api/orgs/" + test::url(own), field).body);
    EXPECT_TRUE(mine.contains("ledger"));
    auto theirs = json::parse(request(s.port, "GET", "/api/orgs/" + test::url(other), field).body);
    EXPECT_FALSE(theirs.contains("ledger"));
    EXPECT_TRUE(json::parse(request(s.port, "GET", "/api/orgs/" + test::url(other), s.viewer).body).contains("ledger"));
    auto history = json::parse(request(s.port, "GET", "/api/orgs/" + test::url(other) + "/history", field).body);
    for (const auto& e : history["items"]) EXPECT_FALSE(e["after"].contains("ledger"));
    auto ogc = json::parse(request(s.port, "GET", "/ogc/collections/orgs/items/" + test::url(other), field).body);
    EXPECT_FALSE(ogc["properties"].contains("ledger")) << ogc.dump();
    EXPECT_EQ(request(s.port, "GET", "/api/export/orgs?format=csv", field).status, 403);
    EXPECT_EQ(request(s.port, "GET", "/api/export/orgs?format=csv", s.viewer).status, 200);

    // Writes: its own organizations' ledger.
    auto fix = request(s.port, "PATCH", "/api/orgs/" + test::url(own), field,
                       R"({"person_in_charge":"王芳","phone":"13800000000","party_members":2})", {version_of(s, own)});
    EXPECT_EQ(fix.status, 200) << fix.body;
    EXPECT_EQ(json::parse(fix.body)["ledger"]["person_in_charge"], "王芳");
    auto status = request(s.port, "PATCH", "/api/orgs/" + test::url(own), field, R"({"status":"suspended"})",
                          {version_of(s, own)});
    EXPECT_EQ(status.status, 403) << status.body;
    EXPECT_EQ(json::parse(status.body)["code"], "OutOfScope");
    auto elsewhere = request(s.port, "PATCH", "/api/orgs/" + test::url(other), field, R"({"employees":3})",
                             {version_of(s, other)});
    EXPECT_EQ(elsewhere.status, 403) << elsewhere.body;
    EXPECT_EQ(json::parse(elsewhere.body)["code"], "OutOfScope");
    // Never assigns, never plans, never reverts.
    EXPECT_EQ(request(s.port, "DELETE", "/api/orgs/" + test::url(own) + "/instructor", field, "", {version_of(s, own)}).status,
              403);
    EXPECT_EQ(request(s.port, "POST", "/api/plan", field, R"({"level":"community"})").status, 403);
    auto change = json::parse(fix.body)["change_id"].dump();
    EXPECT_EQ(request(s.port, "POST", "/api/changes/" + change + "/revert", field).status, 403);
}

TEST(FieldRoles, TheCommandLineMakesLimitedTokensAndASignInLink) {
    api::AppOptions options;
    options.unknown_token_interval = std::chrono::milliseconds(0);  // each new token read at once
    Served s({}, options);
    auto d = test::demo_dataset(0.02, 5);
    auto c = street_case(d);
    const auto& instructor = d.instructors.front().id;
    auto cli = [&](const std::string& args) {
        return test::shell(std::string(COVERMAP_BIN) + " token add --db '" + s.db + "' " + args + " 2>&1");
    };
    auto link = cli("--role instructor --instructor '" + instructor + "' --name 手机 --link https://gis.example.cn/covermap/");
    ASSERT_EQ(link.status, 0) << link.out;
    auto token = link.out.substr(0, link.out.find('\n'));
    EXPECT_NE(link.out.find("https://gis.example.cn/covermap/field#token=" + token), std::string::npos) << link.out;
    // The running server knows the token made beside it.
    auto me = json::parse(request(s.port, "GET", "/api/me", token).body);
    EXPECT_EQ(me["role"], "instructor");
    EXPECT_EQ(me["instructor_id"], instructor);
    auto area = cli("--role planner --area '" + c.street + "' --name 街道");
    ASSERT_EQ(area.status, 0) << area.out;
    EXPECT_EQ(json::parse(request(s.port, "GET", "/api/me", area.out.substr(0, area.out.find('\n'))).body)["area"], c.street);
    EXPECT_NE(cli("--role instructor --name 无人").status, 0);
    EXPECT_NE(cli("--role viewer --area '" + c.street + "' --name 看").status, 0);
    EXPECT_NE(cli("--role planner --area nowhere --name 无处").status, 0);
    auto list = test::shell(std::string(COVERMAP_BIN) + " token list --db '" + s.db + "'");
    EXPECT_NE(list.out.find("area " + c.street), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("instructor " + instructor), std::string::npos) << list.out;
}

TEST(FieldVisits, AnInstructorRecordsVisitsThatKeepTheLedgerTrue) {
    Served s;
    auto d = test::demo_dataset(0.02, 5);
    std::string instructor, own, other;
    for (const auto& o : d.orgs)
        if (o.instructor_id && instructor.empty()) instructor = *o.instructor_id, own = o.id;
    for (const auto& o : d.orgs)
        if (o.instructor_id != std::optional<std::string>(instructor)) other = o.id;
    auto field = s.app->add_token(api::Role::instructor, "field", "", "", instructor);
    auto path = "/api/orgs/" + test::url(own) + "/visits";
    auto today = geo::china_date();
    auto quarter = geo::quarter_start(today);

    auto fresh = json::parse(request(s.port, "GET", "/api/orgs/" + test::url(own), s.viewer).body);
    EXPECT_TRUE(fresh["ledger_verified_at"].is_null());
    EXPECT_EQ(fresh["ledger_due"], true);

    // The rules: a day, not after today; one of the four kinds; its own organization.
    EXPECT_EQ(request(s.port, "POST", path, field, R"({"date":"2999-01-01","kind":"走访"})").status, 400);
    EXPECT_EQ(request(s.port, "POST", path, field, R"({"date":"2026-02-30","kind":"走访"})").status, 400);
    EXPECT_EQ(request(s.port, "POST", path, field, json{{"date", today}, {"kind", "聊天"}}.dump()).status, 400);
    auto theirs = request(s.port, "POST", "/api/orgs/" + test::url(other) + "/visits", field,
                          json{{"date", today}, {"kind", "走访"}}.dump());
    EXPECT_EQ(theirs.status, 403);
    EXPECT_EQ(json::parse(theirs.body)["code"], "OutOfScope");
    EXPECT_EQ(request(s.port, "POST", path, s.viewer, json{{"date", today}, {"kind", "走访"}}.dump()).status, 403);

    // A call last quarter confirmed the ledger then: still due this quarter.
    auto last_quarter = geo::first_of_month(std::stoi(quarter.substr(0, 4)), std::stoi(quarter.substr(5, 2)) - 1);
    auto old = request(s.port, "POST", path, field,
                       json{{"date", last_quarter}, {"kind", "电话"}, {"ledger_confirmed", true}}.dump());
    ASSERT_EQ(old.status, 201) << old.body;
    auto after_old = json::parse(request(s.port, "GET", "/api/orgs/" + test::url(own), s.viewer).body);
    EXPECT_EQ(after_old["ledger_verified_at"], last_quarter);
    EXPECT_EQ(after_old["ledger_due"], true);

    // Corrections need If-Match; with it, one change holds the visit and the corrected ledger.
    json visit = {{"date", today}, {"kind", "实地查看"}, {"note", "负责人已更换"}, {"ledger_confirmed", true},
                  {"ledger", {{"person_in_charge", "李强"}, {"party_members", 3}}}};
    EXPECT_EQ(request(s.port, "POST", path, field, visit.dump()).status, 428);
    auto done = request(s.port, "POST", path, field, visit.dump(), {version_of(s, own)});
    ASSERT_EQ(done.status, 201) << done.body;
    auto answer = json::parse(done.body);
    EXPECT_TRUE(answer["visit_id"].is_number_integer());
    EXPECT_TRUE(answer["change_id"].is_number_integer());
    auto now = json::parse(request(s.port, "GET", "/api/orgs/" + test::url(own), s.viewer).body);
    EXPECT_EQ(now["ledger"]["person_in_charge"], "李强");
    EXPECT_EQ(now["party_members"], 3);
    EXPECT_EQ(now["ledger_verified_at"], today);
    EXPECT_EQ(now["ledger_due"], false);
    auto stale = request(s.port, "POST", path, field, visit.dump(), {"If-Match: 1"});
    EXPECT_EQ(stale.status, 412) << stale.body;
    auto log = json::parse(request(s.port, "GET", "/api/changes?limit=1", s.viewer).body);
    EXPECT_EQ(log["items"][0]["id"], answer["change_id"]);
    // The coverage table counts ledgers verified this quarter (the one of last quarter does not count).
    auto table = json::parse(request(s.port, "GET", "/api/coverage?level=district", s.viewer).body);
    EXPECT_EQ(table["total"]["ledger_verified"], 1);
    EXPECT_GT(table["total"]["ledger_verified_rate"].get<double>(), 0.0);
    long long per_area = 0;
    for (const auto& a : table["areas"]) per_area += a["ledger_verified"].get<long long>();
    EXPECT_EQ(per_area, 1);
    // A visit is not undone by a revert (the ledger is corrected again instead).
    EXPECT_EQ(request(s.port, "POST", "/api/changes/" + answer["change_id"].dump() + "/revert", s.planner).status, 409);

    // Listed: of the organization (newest first), of the instructor this quarter, by dates.
    auto mine = json::parse(request(s.port, "GET", path, field).body)["items"];
    ASSERT_EQ(mine.size(), 2u);
    EXPECT_EQ(mine[0]["kind"], "实地查看");
    EXPECT_EQ(mine[0]["by"], "field");
    EXPECT_EQ(mine[0]["instructor"], instructor);
    auto quarter_list = json::parse(request(s.port, "GET", "/api/visits?instructor=" + test::url(instructor), s.viewer).body);
    EXPECT_EQ(quarter_list["from"], quarter);
    EXPECT_EQ(quarter_list["items"].size(), 1u);
    auto all = json::parse(request(s.port, "GET", "/api/visits?instructor=" + test::url(instructor) + "&from=" +
                                                      last_quarter + "&to=" + today, s.viewer).body);
    EXPECT_EQ(all["items"].size(), 2u);
    EXPECT_EQ(request(s.port, "GET", "/api/visits?from=yesterday", s.viewer).status, 400);

    // Kept in the store: a new server on the same file knows the visits and the freshness.
    s.server->stop();
    api::AppOptions again;
    again.db = s.db;
    api::App app(again);
    api::ServerOptions so;
    so.port = 0;
    api::Server server(app, so);
    auto port = server.start();
    auto reread = json::parse(request(port, "GET", "/api/orgs/" + test::url(own), s.viewer).body);
    EXPECT_EQ(reread["ledger_verified_at"], today);
    EXPECT_EQ(json::parse(request(port, "GET", path, s.viewer).body)["items"].size(), 2u);
}

TEST(FieldSites, QuotasSitesAndContactPointsPerDistrictParkAndCity) {
    Served s;
    auto d = test::demo_dataset(0.02, 5);
    auto cli = [&](const std::string& args) { return test::shell(std::string(COVERMAP_BIN) + " " + args + " 2>&1"); };
    // A park with an organization that has a branch, and the district holding it.
    std::string park, district, in_park, bare;
    std::vector<geo::Point> locations;
    for (const auto& o : d.orgs) locations.push_back(o.location);
    for (const auto& a : d.areas) {
        if (a.level != geo::Level::park || !park.empty()) continue;
        auto hits = geo::locate_points({&a.shape}, locations);
        for (std::size_t k = 0; k < d.orgs.size(); ++k)
            if (hits[k] >= 0 && d.orgs[k].branch_id && d.orgs[k].operating()) park = a.code, in_park = d.orgs[k].id;
    }
    ASSERT_FALSE(park.empty());
    for (const auto& a : d.areas)
        for (const auto& o : d.orgs)
            if (a.level == geo::Level::district && o.id == in_park && geo::locate_points({&a.shape}, {o.location})[0] >= 0)
                district = a.code;
    for (const auto& o : d.orgs)
        if (!o.branch_id) bare = o.id;
    ASSERT_FALSE(district.empty());
    auto city = geo::city_code(d.areas);
    EXPECT_EQ(city, "211200");

    // Quotas by the command line.
    EXPECT_EQ(cli("quota set --db '" + s.db + "' --area " + district + " --count 3").status, 0);
    EXPECT_EQ(cli("quota set --db '" + s.db + "' --area " + city + " --level city --count 2").status, 0);
    EXPECT_NE(cli("quota set --db '" + s.db + "' --area nowhere --count 3").status, 0);
    auto list = cli("quota list --db '" + s.db + "'");
    EXPECT_NE(list.out.find(district), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("全市"), std::string::npos) << list.out;

    // Sites: only an organization with a branch; once per level and year; planners only.
    auto no_branch = request(s.port, "POST", "/api/sites", s.planner, json{{"org", bare}, {"level", "county"}}.dump());
    EXPECT_EQ(no_branch.status, 400);
    EXPECT_NE(json::parse(no_branch.body)["message"].get<std::string>().find("党组织"), std::string::npos);
    EXPECT_EQ(request(s.port, "POST", "/api/sites", s.viewer, json{{"org", in_park}}.dump()).status, 403);
    auto made = request(s.port, "POST", "/api/sites", s.planner, json{{"org", in_park}, {"level", "county"}}.dump());
    ASSERT_EQ(made.status, 201) << made.body;
    auto site = json::parse(made.body);
    EXPECT_TRUE(site["change_id"].is_number_integer());
    EXPECT_EQ(request(s.port, "POST", "/api/sites", s.planner, json{{"org", in_park}, {"level", "county"}}.dump()).status, 400);

    // It counts for the park, its district and the city.
    auto of = [&](const std::string& q) { return json::parse(request(s.port, "GET", "/api/sites?" + q, s.viewer).body); };
    auto at_park = of("area=" + park);
    EXPECT_EQ(at_park["count"], 1);
    EXPECT_EQ(at_park["items"][0]["org"], in_park);
    EXPECT_FALSE(at_park["items"][0]["branch_name"].get<std::string>().empty());
    EXPECT_EQ(at_park["items"][0]["area"], district);
    auto at_district = of("area=" + district);
    EXPECT_EQ(at_district["count"], 1);
    EXPECT_EQ(at_district["quota"], 3);
    EXPECT_EQ(of("area=" + city)["count"], 1);
    EXPECT_EQ(of("area=" + city + "&level=city")["quota"], 2);
    EXPECT_EQ(of("area=" + city + "&level=city")["count"], 0);
    auto xlsx = request(s.port, "GET", "/api/sites?area=" + district + "&format=xlsx", s.viewer);
    EXPECT_EQ(xlsx.status, 200);
    EXPECT_EQ(xlsx.body.substr(0, 2), "PK");

    // A planner limited to another district cannot take it back.
    std::string other;
    for (const auto& a : d.areas)
        if (a.level == geo::Level::district && a.code != district) other = a.code;
    auto elsewhere = s.app->add_token(api::Role::planner, "elsewhere", "", other);
    auto refused = request(s.port, "DELETE", "/api/sites/" + site["id"].dump(), elsewhere);
    EXPECT_EQ(refused.status, 403) << refused.body;

    // Contact points: a leader takes an organization; is_site says whether it is a site already.
    EXPECT_EQ(request(s.port, "POST", "/api/contact-points", s.planner, json{{"org", in_park}, {"post", "县委书记"}}.dump()).status,
              400);
    auto point = request(s.port, "POST", "/api/contact-points", s.planner,
                         json{{"leader", "张卫东"}, {"post", "区委书记"}, {"org", in_park}, {"liaison", "组织科"}}.dump());
    ASSERT_EQ(point.status, 201) << point.body;
    auto points = json::parse(request(s.port, "GET", "/api/contact-points?area=" + district, s.viewer).body);
    ASSERT_EQ(points["count"], 1);
    EXPECT_EQ(points["items"][0]["leader"], "张卫东");
    EXPECT_EQ(points["items"][0]["is_site"], true);
    EXPECT_EQ(points["items"][0]["since"], geo::china_date());
    EXPECT_EQ(request(s.port, "GET", "/api/contact-points?format=xlsx", s.viewer).body.substr(0, 2), "PK");

    // Taken back: the counts follow; a second removal is 404.
    EXPECT_EQ(request(s.port, "DELETE", "/api/sites/" + site["id"].dump(), s.planner).status, 200);
    EXPECT_EQ(request(s.port, "DELETE", "/api/sites/" + site["id"].dump(), s.planner).status, 404);
    EXPECT_EQ(of("area=" + park)["count"], 0);
    points = json::parse(request(s.port, "GET", "/api/contact-points?area=" + district, s.viewer).body);
    EXPECT_EQ(points["items"][0]["is_site"], false);
    auto id = json::parse(point.body)["id"].dump();
    EXPECT_EQ(request(s.port, "DELETE", "/api/contact-points/" + id, s.planner).status, 200);
    EXPECT_EQ(json::parse(request(s.port, "GET", "/api/contact-points", s.viewer).body)["count"], 0);
}

TEST(FieldVisits, TheWuyouChecklistAndStarsOfABranchAndAVisitSentTwiceKeptOnce) {
    Served s;
    auto d = test::demo_dataset(0.02, 5);
    std::string branch_org, bare;
    for (const auto& o : d.orgs) {
        if (o.branch_id && o.operating()) branch_org = o.id;
        if (!o.branch_id) bare = o.id;
    }
    auto today = geo::china_date();
    json all = {{"organization", true}, {"rules", true}, {"activities", true}, {"place", true}, {"role", true}};
    json visit = {{"date", today}, {"kind", "实地查看"}, {"wuyou", all}, {"stars", 4}, {"visit_key", "phone-1-42"}};
    auto path = "/api/orgs/" + test::url(branch_org) + "/visits";
    auto first = request(s.port, "POST", path, s.planner, visit.dump());
    ASSERT_EQ(first.status, 201) << first.body;
    auto again = request(s.port, "POST", path, s.planner, visit.dump());
    ASSERT_EQ(again.status, 201) << again.body;
    EXPECT_EQ(json::parse(again.body)["visit_id"], json::parse(first.body)["visit_id"]);
    EXPECT_EQ(json::parse(request(s.port, "GET", path, s.viewer).body)["items"].size(), 1u);

    auto org = json::parse(request(s.port, "GET", "/api/orgs/" + test::url(branch_org), s.viewer).body);
    EXPECT_EQ(org["branch_check"]["all_five"], true);
    EXPECT_EQ(org["branch_check"]["stars"], 4);
    EXPECT_EQ(org["branch_check"]["wuyou"]["place"], true);
    auto listed = json::parse(request(s.port, "GET", path, s.viewer).body)["items"][0];
    EXPECT_EQ(listed["wuyou"], all);
    EXPECT_EQ(listed["stars"], 4);

    // A later check with one item missing: no longer all five.
    json partial = all;
    partial["activities"] = false;
    ASSERT_EQ(request(s.port, "POST", path, s.planner, json{{"date", today}, {"kind", "走访"}, {"wuyou", partial}}.dump()).status, 201);
    org = json::parse(request(s.port, "GET", "/api/orgs/" + test::url(branch_org), s.viewer).body);
    EXPECT_EQ(org["branch_check"]["all_five"], false);

    // Refused: stars out of range, an unknown item, an organization without a branch.
    EXPECT_EQ(request(s.port, "POST", path, s.planner, json{{"kind", "走访"}, {"stars", 6}}.dump()).status, 400);
    EXPECT_EQ(request(s.port, "POST", path, s.planner, json{{"kind", "走访"}, {"wuyou", {{"money", true}}}}.dump()).status, 400);
    auto no_branch = request(s.port, "POST", "/api/orgs/" + test::url(bare) + "/visits", s.planner,
                             json{{"kind", "走访"}, {"wuyou", all}}.dump());
    EXPECT_EQ(no_branch.status, 400) << no_branch.body;
}

TEST(FieldVisits, TheLedgerDueLayerDropsAnOrganizationOnceAVisitConfirmsIt) {
    Served s;
    auto d = test::demo_dataset(0.02, 5);
    const geo::Organization* org = nullptr;
    for (const auto& o : d.orgs)
        if (o.operating() && !org) org = &o;
    ASSERT_TRUE(org);
    auto tile_of = [](geo::Point p, int z) {
        double n = std::pow(2.0, z);
        int x = static_cast<int>((p.x + 180) / 360 * n);
        double lat = p.y * M_PI / 180;
        int y = static_cast<int>((1 - std::log(std::tan(lat) + 1 / std::cos(lat)) / M_PI) / 2 * n);
        return std::to_string(z) + "/" + std::to_string(x) + "/" + std::to_string(y);
    };
    auto tilejson = request(s.port, "GET", "/tiles/ledger-due.json", s.viewer);
    ASSERT_EQ(tilejson.status, 200);
    EXPECT_NE(tilejson.body.find("台账待核实"), std::string::npos);
    auto path = "/tiles/ledger-due/" + tile_of(org->location, 16) + ".png";
    auto before = request(s.port, "GET", path, s.viewer);
    ASSERT_EQ(before.status, 200);
    auto visit = request(s.port, "POST", "/api/orgs/" + test::url(org->id) + "/visits", s.planner,
                         json{{"kind", "走访"}, {"ledger_confirmed", true}}.dump());
    ASSERT_EQ(visit.status, 201) << visit.body;
    auto after = request(s.port, "GET", path, s.viewer);
    ASSERT_EQ(after.status, 200);
    EXPECT_NE(after.body, before.body) << "the confirmed organization leaves the ledger-due tile at once";
    // The organizations' own layer is the same as before (its record did not change).
    EXPECT_EQ(request(s.port, "GET", "/tiles/orgs/" + tile_of(org->location, 16) + ".png", s.viewer).status, 200);
}
