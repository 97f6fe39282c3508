#pragma once
/// \file covermap's store: a GeoPackage file (default) or PostGIS ("PG:…"), through OGR only.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "covermap/geo/audit.hpp"
#include "covermap/geo/figures.hpp"
#include "covermap/geo/model.hpp"
#include "covermap/geo/tokens.hpp"

namespace covermap::geo {

/// A change to one organization's coverage fields (the new values, whole).
struct OrgUpdate {
    Id id;
    std::optional<std::int64_t> branch_id;
    std::optional<Id> instructor_id;
    std::int64_t version = 0;           ///< the new version
    std::int64_t expected_version = 0;  ///< the version the change was made from (compare-and-swap)
};

/// An instructor whose load a commit must keep within capacity, checked inside its transaction.
struct CapacityCheck {
    Id instructor_id;
    int capacity = 0;
};

/// A plan as kept in the store: its JSON body and what the list of plans shows.
struct PlanRow {
    std::string id;  ///< plan-N
    std::string name;
    std::string created;  ///< ISO 8601, UTC
    std::string token_name;
    std::string status;  ///< open, accepted (some proposals applied)
    std::string body;    ///< the plan's JSON
};

/// The persistent data set. Every write is one transaction: it lands whole or not at all.
/// Use one Store per thread (one GDAL dataset per thread).
class Store {
public:
    /// Opens the store at uri (a GeoPackage path or a "PG:" connection string),
    /// creating the file and the layers (areas, orgs, instructors, branches, audit,
    /// tokens, plans, history, targets) when missing. Throws store_error.
    static Store open(const std::string& uri);
    /// Opens an existing store; throws store_error when it is not there.
    static Store open_existing(const std::string& uri);

    ~Store();
    Store(Store&&) noexcept;
    Store& operator=(Store&&) noexcept;

    /// Reads the whole data set into memory.
    Dataset load() const;
    /// Reads the whole data set but the organizations' ledger (address, person in charge,
    /// phone, reason, measure, location precision, version): what the planner needs, read faster.
    Dataset load_for_planning() const;
    /// Reads the areas only (organizations, instructors, branches left out).
    Dataset load_areas() const;
    /// Streams each branch's id and type.
    void for_each_branch_type(const std::function<void(std::int64_t, BranchType)>& visit) const;
    /// Streams the organizations, one at a time (memory does not grow with their number); only
    /// those an OGR SQL filter selects when one is given.
    void for_each_org(const std::function<void(const Organization&)>& visit, const std::string& filter = "") const;
    /// The organizations with these ids, as stored now.
    std::vector<Organization> orgs(const std::vector<Id>& ids) const;

    /// Replaces the data set's contents with d (audit and tokens are kept).
    void replace(const Dataset& d);

    /// Adds d's rows to what is there (with the change row, when given, in the same transaction).
    void append(const Dataset& d, ChangeRow* change = nullptr);

    /// Applies organization updates, new branches and audit rows in one transaction. Inside
    /// it, each organization's stored version must equal its expected_version and each checked
    /// instructor's load must stay within capacity; else nothing is written and conflict_error
    /// says which (several processes on one PostGIS database never lose an update).
    /// The change row, when given, is appended in the same transaction (its id set).
    void commit_changes(const std::vector<OrgUpdate>& orgs, const std::vector<Branch>& new_branches,
                        const std::vector<AuditEntry>& audit, const std::vector<CapacityCheck>& capacity = {},
                        ChangeRow* change = nullptr);

    /// Rewrites one organization's record (every field) if its stored version is
    /// expected_version, with an audit row, in one transaction; else conflict_error.
    void update_org(const Organization& after, std::int64_t expected_version, const AuditEntry& audit,
                    ChangeRow* change = nullptr);

    /// A visit, in one transaction with its change row and, when the visit corrected the
    /// ledger, the organization's new record (only if its stored version is
    /// expected_version, else conflict_error) and its audit row. Sets the visit's id.
    void add_visit(Visit& v, const Organization* corrected, std::int64_t expected_version,
                   const std::vector<AuditEntry>& audit, ChangeRow& change);
    /// Demonstration sites, their quotas and leaders' contact points. Each add and removal is
    /// written with its change row, when given, in one transaction (ids set); a removal of an
    /// id that is not there writes nothing and answers false.
    void add_site(Site& site, ChangeRow* change);
    bool remove_site(std::int64_t id, ChangeRow& change);
    std::vector<Site> sites() const;
    void set_quota(const SiteQuota& quota);  ///< replaces the quota of that area, level and year
    std::vector<SiteQuota> quotas() const;
    void add_contact_point(ContactPoint& point, ChangeRow* change);
    bool remove_contact_point(std::int64_t id, ChangeRow& change);
    std::vector<ContactPoint> contact_points() const;

    /// Visits of the past written as they are (a demo's history, an import): no change rows.
    void add_visits(const std::vector<Visit>& visits);
    /// Visits as asked, by day then id.
    std::vector<Visit> visits(const VisitQuery& q) const;
    /// The day of each organization's last visit that confirmed its ledger (of these
    /// organizations only, when given).
    std::unordered_map<Id, std::string> ledger_verified(const std::vector<Id>* only = nullptr) const;
    /// The last 五有 check of each organization's branch (of these organizations only, when given).
    std::unordered_map<Id, BranchCheck> branch_checks(const std::vector<Id>* only = nullptr) const;

    /// Replaces every organization with orgs and appends audit rows, in one transaction (the
    /// monthly refresh: rows are rewritten whole, indexes rebuilt once).
    void replace_orgs(const std::vector<Organization>& orgs, const std::vector<AuditEntry>& audit,
                      ChangeRow* change = nullptr);

    /// Organizations and branches as a revert leaves them, in one transaction: each of `orgs`
    /// rewritten only if its stored version is the one paired with it (created when that is 0),
    /// each of `orgs_gone` deleted only if still at its version, `branches` written (replacing
    /// one of the same id), `branches_gone` deleted, instructors' capacity checked, the audit
    /// rows and the change row appended (marking the change it reverts). Else conflict_error,
    /// and nothing is written.
    void apply_records(const std::vector<std::pair<Organization, std::int64_t>>& orgs,
                       const std::vector<std::pair<Id, std::int64_t>>& orgs_gone, const std::vector<Branch>& branches,
                       const std::vector<std::int64_t>& branches_gone, const std::vector<AuditEntry>& audit,
                       const std::vector<CapacityCheck>& capacity, ChangeRow& change);

    /// The change log, newest first, at most `limit` rows, without their records.
    std::vector<ChangeRow> changes(std::size_t limit) const;
    /// One change with its records, or nullopt.
    std::optional<ChangeRow> change(std::int64_t id) const;

    /// The audit table, oldest first; only one organization's rows when org_id is given.
    std::vector<AuditEntry> audit(const std::optional<Id>& org_id = std::nullopt) const;

    /// Adds a token row (one transaction).
    void add_token(const TokenRow& token);
    /// Every token row.
    std::vector<TokenRow> tokens() const;
    /// The level ("district", "street", "park", …) of the area with this code, or empty when
    /// there is none; whether an instructor with this id exists. What a token may be limited to.
    std::string area_level(const std::string& code) const;
    bool has_instructor(const std::string& id) const;
    /// Marks every token of that name revoked (one transaction); returns how many.
    int revoke_tokens(const std::string& name, const std::string& when);

    /// Writes a plan (replacing the row with its id) in one transaction.
    void save_plan(const PlanRow& plan);
    /// Deletes the plans with these ids (one transaction); returns how many rows went.
    int delete_plans(const std::vector<std::string>& ids);
    /// Plans, oldest first; only the one with that id when id is given; bodies on demand.
    std::vector<PlanRow> plans(const std::string& id = "", bool with_body = true) const;

    /// Writes a snapshot, replacing any of the same date, in one transaction.
    void save_snapshot(const Snapshot& snap);
    /// The dates that have a snapshot, oldest first.
    std::vector<std::string> snapshot_dates() const;
    /// Every row of the snapshot of that date (none when there is no such snapshot).
    Snapshot snapshot(const std::string& date) const;
    /// One area's rows (level "total", code "total": the whole), oldest first.
    std::vector<HistoryRow> history(const std::string& level, const std::string& code, Scope scope) const;

    /// Adds a target (its id made here, t-N) in one transaction; returns the id.
    std::string add_target(Target t);
    /// Every target.
    std::vector<Target> targets() const;
    /// Removes a target; false when there is none with that id.
    bool remove_target(const std::string& id);

    /// Number of rows in a layer (areas, orgs, instructors, branches, audit, tokens).
    long long count(const std::string& layer) const;

    /// True for a "PG:" store.
    bool is_postgis() const;
    const std::string& uri() const;

private:
    struct Impl;
    explicit Store(std::unique_ptr<Impl> impl);
    Dataset load_parts(bool with_orgs, bool ledger = true) const;
    std::unique_ptr<Impl> impl_;
};

/// The snapshots relative targets start from (each baseline date read once).
std::vector<Snapshot> baseline_snapshots(const Store& store, const std::vector<Target>& targets);

/// The rules of a target, one place for the command line and the API: a calendar deadline, a
/// rate 0–1 (or a factor above 0 with a baseline that has a snapshot), a known area, the whole
/// ("total") when neither area nor level is given. Throws invalid_argument with the reason.
void check_target(Target& t, const Store& store);

/// This process's mark on the changes it notifies (PostGIS), so it can skip its own.
const std::string& change_origin();
/// The LISTEN/NOTIFY channel of a PostGIS store: every commit that changes organizations sends
/// {"origin", "orgs": [ids]} or {"origin", "reload": true} on it, delivered at commit.
std::string change_channel(const std::string& uri);

/// One process's claim on a GeoPackage store (an flock on the file, released when the object
/// goes or the process dies): a second server, an import or a demo that would replace the file
/// is refused while a server holds it. PostGIS stores take none: their writes compare versions
/// inside the transaction.
class StoreLock {
public:
    /// Claims uri; throws store_error naming the file when another process holds it. A file
    /// that does not exist yet, or a "PG:" store, gives an empty claim.
    static StoreLock acquire(const std::string& uri);
    /// True when another process holds uri now.
    static bool held_elsewhere(const std::string& uri);
    StoreLock(StoreLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    StoreLock& operator=(StoreLock&&) = delete;
    ~StoreLock();

private:
    explicit StoreLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace covermap::geo
