// The change log and undo over HTTP, on a real server: every write answers its change_id, the
// log lists changes newest first (of one area when asked), and a revert undoes a change as a
// new change, or answers 409 naming each organization that moved on.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/http_client.hpp"
#include "api/served.hpp"
#include "covermap/geo/store.hpp"
#include "covermap/api/events.hpp"

using namespace covermap;
using nlohmann::json;
using test::request;
using test::Served;

namespace {

// An instructor of the demo with room, and an organization without branch or instructor.
std::pair<std::string, std::string> free_pair(const geo::Dataset& d) {
    std::map<std::string, int> load;
    for (const auto& o : d.orgs)
        if (o.instructor_id) ++load[*o.instructor_id];
    std::string instructor, org;
    for (const auto& in : d.instructors)
        if (load[in.id] < in.capacity) instructor = in.id;
    for (const auto& o : d.orgs)
        if (o.operating() && !o.branch_id && !o.instructor_id) org = o.id;
    return {instructor, org};
}

}  // namespace

TEST(Changes, AnAssignmentIsUndoneAndTheUndoIsUndone) {
    Served s;
    auto [instructor, org] = free_pair(test::demo_dataset(0.02, 5));
    ASSERT_FALSE(org.empty());
    auto put = request(s.port, "PUT", "/api/orgs/" + test::url(org) + "/instructor", s.planner,
                       json{{"instructor_id", instructor}}.dump(), {"If-Match: 1"});
    ASSERT_EQ(put.status, 200) << put.body;
    auto change = json::parse(put.body)["change_id"];
    ASSERT_TRUE(change.is_number_integer()) << put.body;

    auto log = json::parse(request(s.port, "GET", "/api/changes?limit=5", s.viewer).body);
    ASSERT_FALSE(log["items"].empty());
    EXPECT_EQ(log["items"][0]["id"], change);
    EXPECT_EQ(log["items"][0]["orgs"], json::array({org}));
    EXPECT_NE(log["items"][0]["summary"].get<std::string>().find("指派指导员"), std::string::npos);
    EXPECT_TRUE(log["items"][0]["reverted_by"].is_null());

    EXPECT_EQ(request(s.port, "POST", "/api/changes/" + change.dump() + "/revert", s.viewer).status, 403);
    auto undo = request(s.port, "POST", "/api/changes/" + change.dump() + "/revert", s.planner);
    ASSERT_EQ(undo.status, 200) << undo.body;
    auto got = json::parse(request(s.port, "GET", "/api/orgs/" + test::url(org), s.viewer).body);
    EXPECT_TRUE(got["instructor_id"].is_null());
    EXPECT_EQ(got["version"], 3);
    auto again = request(s.port, "POST", "/api/changes/" + change.dump() + "/revert", s.planner);
    EXPECT_EQ(again.status, 409) << again.body;
    auto redo = request(s.port, "POST", "/api/changes/" + json::parse(undo.body)["change_id"].dump() + "/revert",
                        s.planner);
    ASSERT_EQ(redo.status, 200) << redo.body;
    got = json::parse(request(s.port, "GET", "/api/orgs/" + test::url(org), s.viewer).body);
    EXPECT_EQ(got["instructor_id"], instructor);

    // A change whose organization moved on: 409 naming it, nothing changed.
    auto off = request(s.port, "DELETE", "/api/orgs/" + test::url(org) + "/instructor", s.planner, "", {"If-Match: 4"});
    ASSERT_EQ(off.status, 200) << off.body;
    auto stale = request(s.port, "POST", "/api/changes/" + json::parse(redo.body)["change_id"].dump() + "/revert",
                         s.planner);
    ASSERT_EQ(stale.status, 409) << stale.body;
    auto body = json::parse(stale.body);
    EXPECT_EQ(body["code"], "Conflict");
    EXPECT_EQ(body["conflicts"][0]["org"], org);
    EXPECT_EQ(body["conflicts"][0]["reason"], "组织已变更");
    EXPECT_EQ(json::parse(request(s.port, "GET", "/api/orgs/" + test::url(org), s.viewer).body)["version"], 5);
    EXPECT_EQ(request(s.port, "POST", "/api/changes/999999/revert", s.planner).status, 404);
}

TEST(Changes, AnImportOfOrganizationsIsUndoneWholeAndAreasAreNot) {
    Served s;
    auto d = test::demo_dataset(0.02, 5);
    const auto& first = d.orgs.front();
    std::string csv = "id,name,kind,employees,party_members,status,lon,lat\n"
                      "90001,新来的甲公司,enterprise,10,0,operating,123.84,42.29\n" +
                      first.id + ",改过名的公司,enterprise,10,0,operating," + std::to_string(first.location.x) + "," +
                      std::to_string(first.location.y) + "\n";
    auto up = request(s.port, "POST", "/api/import/orgs?format=csv", s.admin, csv, {"Content-Type: text/csv"});
    ASSERT_EQ(up.status, 201) << up.body;
    auto change = json::parse(up.body)["change_id"];
    ASSERT_TRUE(change.is_number_integer()) << up.body;
    EXPECT_EQ(request(s.port, "GET", "/api/orgs/90001", s.viewer).status, 200);

    auto undo = request(s.port, "POST", "/api/changes/" + change.dump() + "/revert", s.planner);
    ASSERT_EQ(undo.status, 200) << undo.body;
    EXPECT_EQ(request(s.port, "GET", "/api/orgs/90001", s.viewer).status, 404) << "the added organization went";
    auto back = json::parse(request(s.port, "GET", "/api/orgs/" + test::url(first.id), s.viewer).body);
    EXPECT_EQ(back["name"], first.name) << "the changed one is as it was";
    EXPECT_EQ(geo::Store::open_existing(s.db).orgs({"90001"}).size(), 0u);

    // An import of instructors is recorded, and answers 409 to a revert.
    std::string instructors = "id,name,capacity,unit,lon,lat\nZD-NEW-1,新指导员,5,,123.84,42.29\n";
    auto in = request(s.port, "POST", "/api/import/instructors?format=csv", s.admin, instructors,
                      {"Content-Type: text/csv"});
    ASSERT_EQ(in.status, 201) << in.body;
    auto refused = request(s.port, "POST", "/api/changes/" + json::parse(in.body)["change_id"].dump() + "/revert",
                           s.planner);
    EXPECT_EQ(refused.status, 409) << refused.body;
}

TEST(Changes, TheLogOfOneAreaHoldsItsChangesOnly) {
    Served s;
    auto d = test::demo_dataset(0.02, 5);
    auto [instructor, org] = free_pair(d);
    auto put = request(s.port, "PUT", "/api/orgs/" + test::url(org) + "/instructor", s.planner,
                       json{{"instructor_id", instructor}}.dump(), {"If-Match: 1"});
    ASSERT_EQ(put.status, 200) << put.body;
    // The district the organization lies in, and another one.
    auto districts = json::parse(request(s.port, "GET", "/api/areas?level=district&limit=50", s.viewer).body)["items"];
    ASSERT_GE(districts.size(), 2u);
    int with = 0, without = 0;
    for (const auto& a : districts) {
        auto items =
            json::parse(request(s.port, "GET", "/api/changes?area=" + a["code"].get<std::string>(), s.viewer).body)["items"];
        (items.empty() ? without : with) += 1;
    }
    EXPECT_EQ(with, 1) << "the change lies in one district";
    EXPECT_GE(without, 1);
    EXPECT_EQ(request(s.port, "GET", "/api/changes?area=nowhere", s.viewer).status, 404);
}

// Live updates: an open event stream hears every committed change within a second, with the
// change id, the organizations, the districts and streets and the box; a comment line keeps it
// open; a client that goes is unsubscribed.
TEST(Changes, AnEventStreamHearsEveryChangeWithinASecond) {
    api::ServerOptions so;
    so.event_heartbeat = std::chrono::milliseconds(200);
    Served s(so);
    int fd = test::connect_to(s.port);
    ASSERT_GE(fd, 0);
    std::string req = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + s.viewer + "\r\n\r\n";
    ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
    std::string got;
    auto read_until = [&](const std::string& what, std::chrono::milliseconds within) {
        auto until = std::chrono::steady_clock::now() + within;
        char buf[4096];
        while (got.find(what) == std::string::npos && std::chrono::steady_clock::now() < until) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        return got.find(what) != std::string::npos;
    };
    ASSERT_TRUE(read_until(": covermap events", std::chrono::seconds(5))) << got;
    EXPECT_NE(got.find("Content-Type: text/event-stream"), std::string::npos) << got;
    EXPECT_TRUE(read_until(": ping", std::chrono::seconds(2))) << "the heartbeat";

    auto [instructor, org] = free_pair(test::demo_dataset(0.02, 5));
    auto t0 = std::chrono::steady_clock::now();
    auto put = request(s.port, "PUT", "/api/orgs/" + test::url(org) + "/instructor", s.planner,
                       json{{"instructor_id", instructor}}.dump(), {"If-Match: 1"});
    ASSERT_EQ(put.status, 200) << put.body;
    ASSERT_TRUE(read_until("event: change", std::chrono::seconds(1))) << got;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
    ASSERT_TRUE(read_until("\n\n", std::chrono::seconds(1)));
    auto at = got.find("event: change\ndata: ");
    auto line = got.substr(at + 20, got.find('\n', at + 20) - at - 20);
    auto event = json::parse(line);
    EXPECT_EQ(event["change_id"], json::parse(put.body)["change_id"]);
    EXPECT_EQ(event["orgs"], json::array({org}));
    EXPECT_GE(event["areas"].size(), 1u) << "its district and street";
    EXPECT_EQ(event["bbox"].size(), 4u);
    EXPECT_EQ(s.app->events().subscribers(), 1u);
    ::close(fd);
    // The server finds the client gone (its read ends, or the next heartbeat fails).
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (s.app->events().subscribers() > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(s.app->events().subscribers(), 0u);
    EXPECT_TRUE(s.healthy());
}
