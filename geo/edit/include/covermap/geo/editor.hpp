#pragma once
/// \file The editing service: the data in memory and every write to it. It owns the rules of an
/// edit (the record's version, the instructor's capacity, what may be grouped into a branch, how
/// a new branch is named), the store's transaction and what each change touched. HTTP handlers
/// and commands only parse, call it and map its typed errors; the caches that follow the data
/// (tiles) hear of each change through one listener.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "covermap/geo/error.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/import.hpp"
#include "covermap/geo/model.hpp"
#include "covermap/geo/planner.hpp"
#include "covermap/geo/store.hpp"

namespace covermap::geo {

/// An edit the rules refuse, by kind: no such record (404), a stale version (412), an
/// instructor without room (409), a value the record cannot take (400), an organization
/// outside the author's area or not the author's to edit (403).
struct edit_error : error {
    enum class Kind { not_found, stale, over_capacity, invalid, out_of_area, out_of_scope };
    edit_error(Kind k, const std::string& what) : error(what), kind(k) {}
    Kind kind;
};

/// Who makes an edit: a token's name and what it may touch. A planner's token limited to an
/// area (a district, street or park code) edits organizations inside it only; an instructor's
/// token (`instructor` set) corrects the ledger of its own organizations only and never
/// assigns. A plain name (the command line, an unlimited token) may edit anything.
struct Author {
    std::string name;
    std::string area;  ///< empty: the whole city
    Id instructor;     ///< not empty: an instructor's own token
    Author(std::string n = "", std::string a = "", Id i = "")  // NOLINT: a name alone is an author
        : name(std::move(n)), area(std::move(a)), instructor(std::move(i)) {}
    Author(const char* n) : name(n) {}  // NOLINT
};

/// What one committed change touched, for the caches that follow the data.
struct Change {
    enum class Scope {
        orgs,       ///< organizations' assignments or records, in place (`orgs`)
        places,     ///< organizations appeared, went or moved: the areas around `places`
        everything  ///< areas or instructors were replaced
    };
    Scope scope = Scope::orgs;
    std::int64_t id = 0;        ///< the change log's row (0: not known, another process's reload)
    std::vector<Id> org_ids;     ///< the organizations it touched (empty after a reload)
    std::vector<std::pair<Organization, Organization>> orgs;  ///< before, after
    std::vector<Point> places;                                ///< where things were and are
    std::vector<Branch> branches;                             ///< new (or, after a reload, all)
};

/// A planner's correction of a record (PATCH): the fields given, their types already checked.
struct Correction {
    std::optional<OrgStatus> status;
    std::optional<int> employees, party_members;
    std::optional<std::optional<std::int64_t>> branch_id;      ///< null: no branch
    std::vector<std::pair<std::string, std::string>> ledger;  ///< no_branch_reason, measure, person_in_charge, phone, address
    std::optional<double> lon, lat;
};

/// An edited organization and the change it was recorded as.
struct Edited {
    Organization org;
    std::int64_t change_id = 0;
};

/// What accepting a plan's proposals did: the ids applied, and each refused one with its reason
/// and the organization it is about.
struct Accepted {
    struct Conflict {
        std::string proposal;
        Id org;  ///< empty when the reason is not one organization's
        std::string reason;
    };
    std::vector<std::string> applied;
    std::vector<Conflict> conflicts;
    std::size_t branches_created = 0;
    std::size_t organizations_changed = 0;
    std::int64_t change_id = 0;  ///< 0 when nothing was applied
};

/// A visit as recorded (its id and change id set), and the organization after it.
struct Visited {
    Visit visit;
    Organization org;
};

/// A row added by an edit (a demonstration site, a contact point) and its change.
struct Recorded {
    std::int64_t id = 0;
    std::int64_t change_id = 0;
};

/// What reverting a change did: the new change, or why it could not (nothing written then).
struct Reverted {
    std::int64_t change_id = 0;
    std::vector<std::pair<Id, std::string>> conflicts;  ///< organization, reason (Chinese)
};

/// An organization as the API shows it and the audit keeps it (before and after).
nlohmann::json to_json(const Organization& o);

class Editor {
public:
    /// Loads the data of an opened store.
    explicit Editor(std::unique_ptr<Store> store);
    ~Editor();

    /// The data as it is now, under a shared lock held for as long as the view lives: keep it
    /// short, and never edit while holding one.
    class View {
    public:
        const Dataset& data() const { return e_->data_; }
        const Organization* org(const Id& id) const;
        const Instructor* instructor(const Id& id) const;
        int load(const Id& instructor) const;  ///< organizations it serves
        bool has_branch(std::int64_t id) const;
        /// The index in data().areas of the area with this code, if there is one.
        std::optional<std::size_t> area(const std::string& code) const;
        const std::vector<BBox>& area_bounds() const { return e_->area_bounds_; }

    private:
        friend class Editor;
        explicit View(const Editor& e) : lock_(e.data_mutex_), e_(&e) {}
        std::shared_lock<std::shared_mutex> lock_;
        const Editor* e_;
    };
    View view() const { return View(*this); }

    /// A copy of the data and the version it is of: work that compares against the data for
    /// seconds (an import's diff, an export) runs on it beside edits.
    std::pair<Dataset, std::uint64_t> snapshot() const;
    /// Grows with every change: caches of figures are keyed by it.
    std::uint64_t version() const { return version_.load(); }
    /// Grows when organizations' places change (moves, imports, reloads): caches of who lies in
    /// which area are keyed by it.
    std::uint64_t places_version() const { return places_version_.load(); }

    /// Called after each change is in memory, in commit order, with the data (read-locked).
    using Listener = std::function<void(const Change&, const Dataset&)>;
    void on_change(Listener listener) { listener_ = std::move(listener); }

    /// Gives an organization an instructor (or none), from the version `expected`. Throws
    /// edit_error (not found, stale, over capacity).
    Edited set_instructor(const Id& org, const std::optional<Id>& instructor, std::int64_t expected,
                          const Author& who);
    /// Corrects a record from the version `expected`. Throws edit_error.
    Edited correct(const Id& org, const Correction& c, std::int64_t expected, const Author& who);
    /// Records a visit, and with it the ledger corrections `fix` (from the version `expected`)
    /// when given, as one change; a visit that confirms the ledger makes it verified on its day.
    /// Throws edit_error: no such organization, a day that is not one or after today, a kind
    /// not one of 走访/电话/实地查看/蹲点 (invalid), not the author's (out_of_area, out_of_scope),
    /// a stale version.
    Visited record_visit(Visit visit, const std::optional<Correction>& fix, std::int64_t expected, const Author& who);
    /// Designates a demonstration site: an organization with a branch, county or city level,
    /// a year (once per organization, level and year). Throws edit_error (not found, invalid,
    /// out of area).
    Recorded add_site(Site site, const Author& who);
    /// Takes a designation back; the change's id. Throws edit_error (not found, out of area).
    std::int64_t remove_site(std::int64_t id, const Author& who);
    /// Records a leader's contact point (leader, post and organization required). Throws edit_error.
    Recorded add_contact_point(ContactPoint point, const Author& who);
    std::int64_t remove_contact_point(std::int64_t id, const Author& who);
    /// Applies a plan's proposals as they still hold now (eligibility, members, capacity),
    /// all in one transaction; `action` names them in the audit ("accept_plan plan-3").
    /// Throws conflict_error when another process changed the store meanwhile: nothing applied.
    Accepted accept(const std::vector<Proposal>& proposals, const Author& who, const std::string& action);
    /// Imports a file: read, checked and compared with a snapshot beside edits (seconds for a
    /// city's extract), then committed under the writer lock (compared again if an edit came
    /// meanwhile) and the data read again. A dry run writes nothing. Throws what read_source
    /// throws (format, geometry, cancelled).
    ImportReport import(const ImportParams& p, const std::string& who);
    /// Undoes a change as a new change (itself revertible) when every organization it touched
    /// is still as it left it (and instructors it gives back have room); else the conflicts,
    /// and nothing changes. Throws edit_error: no such change (not found), already reverted or
    /// an import of areas or instructors (invalid).
    Reverted revert(std::int64_t change, const Author& who);
    /// The change log, newest first.
    std::vector<ChangeRow> changes(std::size_t limit);
    /// Another process's committed change (PostGIS NOTIFY): organizations read again from the
    /// store, or everything when `everything` or when one of them is new to this process.
    void apply_remote(const std::vector<Id>& orgs, bool everything, std::int64_t change_id = 0);

    /// Runs f with the store under the writer lock: the writes that are not edits of the data
    /// (plans, tokens, snapshots) and reads of the tables memory does not hold (audit, plans).
    template <class F>
    auto with_store(F&& f) {
        std::lock_guard writer(write_mutex_);
        return f(*store_);
    }

    /// Whether `who` may edit these organizations (throws edit_error out_of_area or
    /// out_of_scope when not); `assigns`: the edit gives or takes an instructor.
    void check_author(const View& v, const Author& who, const std::vector<const Organization*>& orgs,
                      bool assigns) const;

private:
    void load();  // the store into memory (writer lock held)
    void notify(const Change& c);
    std::unordered_map<Id, std::pair<Point, std::int64_t>> org_versions() const;
    std::vector<Point> touched_since(const std::unordered_map<Id, std::pair<Point, std::int64_t>>& was) const;
    /// A hash of the areas and the instructors: what an import of either changes.
    std::uint64_t places_signature() const;

    // Memory: read under a shared lock; a writer holds write_mutex_ (one at a time, the store
    // first) and then the exclusive lock to update memory.
    mutable std::shared_mutex data_mutex_;
    Dataset data_;
    std::vector<BBox> area_bounds_;
    std::unordered_map<Id, std::size_t> org_index_, instructor_index_;
    std::unordered_map<Id, int> load_;
    std::int64_t next_branch_id_ = 1;
    std::atomic<std::uint64_t> version_{0}, places_version_{0};

    std::mutex write_mutex_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<Store> remote_store_;  // read by apply_remote (the listener's thread)
    Listener listener_;
};

}  // namespace covermap::geo
