// The editing service: the rules of every write (version, capacity, eligibility, references,
// branch naming), the store first and memory after, and what each change tells its listener.
#include "covermap/geo/editor.hpp"

#include <gtest/gtest.h>

#include "support.hpp"

using namespace covermap::geo;
using covermap::test::square;
using covermap::test::TempDir;

namespace {

Organization org(const std::string& id, const std::string& name, int members, double x) {
    Organization o;
    o.id = id;
    o.name = name;
    o.party_members = members;
    o.employees = 20;
    o.location = {x, 42.21};
    return o;
}

// Four operating organizations without a branch, one instructor with room for two.
Dataset sample() {
    Dataset d;
    d.areas.push_back({"211202", "银州区", Level::district, "", square(123.8, 42.2, 0.1)});
    d.orgs = {org("1", "铁岭甲公司", 1, 123.81), org("2", "铁岭乙公司", 1, 123.82), org("3", "铁岭丙公司", 1, 123.83),
              org("4", "铁岭丁公司", 4, 123.84)};
    d.instructors.push_back({"ZD-1", "王伟", 2, "C", "211202", {123.81, 42.21}});
    return d;
}

struct Editing {
    Editing() {
        auto store = std::make_unique<Store>(Store::open(db));
        store->replace(sample());
        editor = std::make_unique<Editor>(std::move(store));
        editor->on_change([this](const Change& c, const Dataset&) { changes.push_back(c); });
    }
    TempDir dir;
    std::string db = dir / "e.gpkg";
    std::unique_ptr<Editor> editor;
    std::vector<Change> changes;
};

Proposal proposal(std::string id, std::string type, std::vector<Id> orgs, std::optional<Id> instructor = std::nullopt) {
    Proposal p;
    p.id = std::move(id);
    p.type = std::move(type);
    p.orgs = std::move(orgs);
    p.instructor_id = std::move(instructor);
    return p;
}

edit_error::Kind refusal(const std::function<void()>& edit) {
    try {
        edit();
    } catch (const edit_error& e) {
        return e.kind;
    }
    ADD_FAILURE() << "the edit was not refused";
    return edit_error::Kind::invalid;
}

}  // namespace

TEST(Editor, AssignsFromTheVersionGivenAndRefusesStaleMissingAndFull) {
    Editing e;
    auto after = e.editor->set_instructor("1", Id("ZD-1"), 1, "planner").org;
    EXPECT_EQ(after.version, 2);
    EXPECT_EQ(after.instructor_id, Id("ZD-1"));
    EXPECT_EQ(e.editor->view().load("ZD-1"), 1);
    ASSERT_EQ(e.changes.size(), 1u);
    EXPECT_EQ(e.changes[0].scope, Change::Scope::orgs);
    EXPECT_EQ(e.changes[0].orgs.at(0).first.version, 1);

    EXPECT_EQ(refusal([&] { e.editor->set_instructor("1", std::nullopt, 1, "planner"); }), edit_error::Kind::stale);
    EXPECT_EQ(refusal([&] { e.editor->set_instructor("9", Id("ZD-1"), 1, "planner"); }), edit_error::Kind::not_found);
    EXPECT_EQ(refusal([&] { e.editor->set_instructor("2", Id("ZD-9"), 1, "planner"); }), edit_error::Kind::not_found);
    e.editor->set_instructor("2", Id("ZD-1"), 1, "planner");
    EXPECT_EQ(refusal([&] { e.editor->set_instructor("3", Id("ZD-1"), 1, "planner"); }),
              edit_error::Kind::over_capacity);
    // The store holds what memory holds, with an audit row per edit.
    auto stored = Store::open_existing(e.db);
    EXPECT_EQ(stored.orgs({"1"}).at(0).instructor_id, Id("ZD-1"));
    EXPECT_EQ(stored.audit("1").size(), 1u);
    EXPECT_EQ(stored.orgs({"3"}).at(0).version, 1) << "a refused edit writes nothing";
}

TEST(Editor, CorrectionsCheckReferencesAndTextAndTellWhereAPointMoved) {
    Editing e;
    Correction bad_branch;
    bad_branch.branch_id = std::optional<std::int64_t>(77);
    EXPECT_EQ(refusal([&] { e.editor->correct("1", bad_branch, 1, "planner"); }), edit_error::Kind::invalid);
    Correction bad_text;
    bad_text.ledger.emplace_back("phone", std::string(10000, '1'));
    EXPECT_EQ(refusal([&] { e.editor->correct("1", bad_text, 1, "planner"); }), edit_error::Kind::invalid);
    EXPECT_TRUE(e.changes.empty());

    auto places = e.editor->places_version();
    Correction move;
    move.lon = 123.85;
    move.ledger.emplace_back("phone", "0410-1234567");
    auto after = e.editor->correct("1", move, 1, "planner").org;
    EXPECT_EQ(after.location.x, 123.85);
    EXPECT_EQ(after.ledger().phone, "0410-1234567");
    EXPECT_EQ(after.ledger().location_precision, "exact");
    EXPECT_GT(e.editor->places_version(), places);
    ASSERT_EQ(e.changes.size(), 1u);
    EXPECT_EQ(e.changes[0].scope, Change::Scope::places);
    ASSERT_EQ(e.changes[0].places.size(), 2u);
    EXPECT_EQ(e.changes[0].places[0].x, 123.81);
    EXPECT_EQ(e.changes[0].places[1].x, 123.85);
}

TEST(Editor, AcceptAppliesWhatStillHoldsInOneTransactionAndNamesBranchesByOneRule) {
    Editing e;
    std::vector<Proposal> proposals(4);
    proposals[0] = proposal("p1", "joint", {"1", "2", "3"});
    proposals[1] = proposal("p2", "standalone", {"4"});
    proposals[2] = proposal("p3", "standalone", {"1"});  // taken by p1 now
    proposals[3] = proposal("p4", "instructor", {"4"}, Id("ZD-1"));         // has a branch now
    auto done = e.editor->accept(proposals, "planner", "accept_plan plan-1");
    EXPECT_EQ(done.applied, (std::vector<std::string>{"p1", "p2"}));
    ASSERT_EQ(done.conflicts.size(), 2u);
    EXPECT_EQ(done.conflicts[0].proposal, "p3");
    EXPECT_EQ(done.conflicts[0].org, "1");
    EXPECT_EQ(done.conflicts[0].reason, "铁岭甲公司已有党组织");
    EXPECT_EQ(done.branches_created, 2u);
    EXPECT_EQ(done.organizations_changed, 4u);
    auto stored = Store::open_existing(e.db).load();
    ASSERT_EQ(stored.branches.size(), 2u);
    EXPECT_EQ(stored.branches[0].name, branch_name(BranchType::joint, "铁岭甲公司", 3));
    EXPECT_EQ(stored.branches[0].name, "铁岭甲公司等联合党支部");
    EXPECT_EQ(stored.branches[1].name, "铁岭丁公司党支部");
    EXPECT_EQ(stored.branches[0].members, 3);
    ASSERT_EQ(e.changes.size(), 1u);
    EXPECT_EQ(e.changes[0].orgs.size(), 4u);
    EXPECT_EQ(e.changes[0].branches.size(), 2u);

    // Too few members for a branch, an instructor without room for all: refused with reasons.
    Editing f;
    std::vector<Proposal> more(2);
    more[0] = proposal("q1", "joint", {"1", "2"});
    more[1] = proposal("q2", "instructor", {"1", "2", "3"}, Id("ZD-1"));
    auto none = f.editor->accept(more, "planner", "accept_plan plan-2");
    EXPECT_TRUE(none.applied.empty());
    EXPECT_EQ(none.conflicts.at(0).reason, "党员合计 2 名，不足 3 名");
    EXPECT_EQ(none.conflicts.at(1).reason, "指导员已满：王伟只能再联系 2 家，建议 3 家");
    EXPECT_EQ(none.change_id, 0) << "nothing applied, nothing recorded";
}

TEST(Editor, AffiliatedBranchesAreNamedAsOne) {
    EXPECT_EQ(branch_name(BranchType::affiliated, "铁岭甲公司", 2), "铁岭甲公司等挂靠党支部");
    EXPECT_EQ(branch_name(BranchType::affiliated, "铁岭甲公司", 1), "铁岭甲公司挂靠党支部");
    EXPECT_EQ(branch_name(BranchType::standalone, "铁岭甲公司", 1), "铁岭甲公司党支部");
}

TEST(Editor, EveryWriteIsOneChangeThatRevertsAsANewChange) {
    Editing e;
    auto assigned = e.editor->set_instructor("1", Id("ZD-1"), 1, "planner");
    ASSERT_GT(assigned.change_id, 0);
    Correction phone;
    phone.ledger.emplace_back("phone", "0410-7654321");
    auto corrected = e.editor->correct("2", phone, 1, "planner");
    std::vector<Proposal> joint(1);
    joint[0] = proposal("p1", "joint", {"3", "4"});
    auto accepted = e.editor->accept(joint, "planner", "accept_plan plan-1");
    ASSERT_GT(accepted.change_id, corrected.change_id);
    auto log = e.editor->changes(10);
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[0].id, accepted.change_id) << "newest first";
    EXPECT_EQ(log[0].summary, "采纳方案plan-1的1项建议：新建1个党组织，涉及2家组织");
    EXPECT_EQ(log[2].summary, "指派指导员王伟联系铁岭甲公司");
    EXPECT_EQ(log[1].orgs, (std::vector<Id>{"2"}));

    // Undo the accept: the branch goes, the organizations are as before, at new versions.
    auto undone = e.editor->revert(accepted.change_id, "planner");
    ASSERT_TRUE(undone.conflicts.empty());
    {
        auto v = e.editor->view();
        EXPECT_FALSE(v.org("3")->branch_id);
        EXPECT_EQ(v.org("3")->version, 3);
        EXPECT_TRUE(v.data().branches.empty());
    }
    EXPECT_TRUE(Store::open_existing(e.db).load().branches.empty());
    // Twice is refused; the revert itself reverts (the branch comes back under its id).
    EXPECT_EQ(refusal([&] { e.editor->revert(accepted.change_id, "planner"); }), edit_error::Kind::invalid);
    auto redone = e.editor->revert(undone.change_id, "planner");
    ASSERT_TRUE(redone.conflicts.empty());
    {
        auto v = e.editor->view();
        ASSERT_EQ(v.data().branches.size(), 1u);
        EXPECT_EQ(v.org("4")->branch_id, v.data().branches[0].id);
    }

    // A change whose organization moved on since is not reverted: the conflict names it.
    e.editor->set_instructor("1", std::nullopt, 2, "planner");
    auto refused = e.editor->revert(assigned.change_id, "planner");
    ASSERT_EQ(refused.conflicts.size(), 1u);
    EXPECT_EQ(refused.conflicts[0].first, "1");
    EXPECT_EQ(refused.conflicts[0].second, "组织已变更");
    EXPECT_EQ(refused.change_id, 0);
    // Undoing the unassign gives the instructor back, within capacity.
    auto last = e.editor->changes(1).at(0);
    auto back = e.editor->revert(last.id, "planner");
    ASSERT_TRUE(back.conflicts.empty());
    EXPECT_EQ(e.editor->view().org("1")->instructor_id, Id("ZD-1"));
    EXPECT_EQ(e.editor->view().load("ZD-1"), 1);
    EXPECT_EQ(Store::open_existing(e.db).orgs({"1"}).at(0).instructor_id, Id("ZD-1"));
}

TEST(Editor, UndoingAnUnassignWaitsForRoomWithTheInstructor) {
    Editing e;
    e.editor->set_instructor("1", Id("ZD-1"), 1, "planner");
    auto off = e.editor->set_instructor("1", std::nullopt, 2, "planner");
    e.editor->set_instructor("2", Id("ZD-1"), 1, "planner");
    e.editor->set_instructor("3", Id("ZD-1"), 1, "planner");  // full: 2 of 2
    auto refused = e.editor->revert(off.change_id, "planner");
    ASSERT_EQ(refused.conflicts.size(), 1u);
    EXPECT_EQ(refused.conflicts[0].second, "指导员已满");
    EXPECT_FALSE(e.editor->view().org("1")->instructor_id);
}

// Another process's reload (an import there): the places near the organizations that changed,
// unless the areas or the instructors changed, which redraws everything, as an import here does.
TEST(Editor, AnotherProcessesImportOfInstructorsRedrawsEverything) {
    Editing e;
    Editor other(std::make_unique<Store>(Store::open_existing(e.db)));  // as another process
    std::vector<Change> heard;
    other.on_change([&](const Change& c, const Dataset&) { heard.push_back(c); });

    e.editor->set_instructor("1", Id("ZD-1"), 1, "planner");
    other.apply_remote({}, true, 0);
    ASSERT_EQ(heard.size(), 1u);
    EXPECT_EQ(heard[0].scope, Change::Scope::places);
    EXPECT_FALSE(heard[0].places.empty());
    EXPECT_EQ(other.view().org("1")->instructor_id, Id("ZD-1"));

    Dataset moved = e.editor->view().data();
    moved.instructors[0].home = {123.86, 42.23};  // the instructors imported again, one moved
    Store::open_existing(e.db).replace(moved);
    other.apply_remote({}, true, 0);
    ASSERT_EQ(heard.size(), 2u);
    EXPECT_EQ(heard[1].scope, Change::Scope::everything);
    EXPECT_DOUBLE_EQ(other.view().instructor("ZD-1")->home.x, 123.86);
}
