// The data set in the store: areas, organizations, instructors, branches and the audit rows of their changes.
#include "store_impl.hpp"

#include "arrow_rows.hpp"

namespace covermap::geo {

long long Store::count(const std::string& name) const { return impl_->layer(name.c_str())->GetFeatureCount(TRUE); }

std::vector<Organization> Store::orgs(const std::vector<Id>& ids) const {
    std::vector<Organization> out;
    if (ids.empty()) return out;
    std::string filter = "id IN (";
    for (std::size_t i = 0; i < ids.size(); ++i) filter += (i ? "," : "") + quoted(ids[i]);
    for_each_org([&](const Organization& o) { out.push_back(o); }, filter + ")");
    return out;
}

namespace {

// The ledger's fields, left unread by a load for planning.
const char* const kLedgerFields[] = {"address", "person_in_charge",   "phone",   "no_branch_reason",
                                     "measure", "location_precision", "version", nullptr};

// The organizations of a layer, in its order, each read into one reused record: through the
// layer's Arrow stream where it has a native one (a GeoPackage without filter), else feature by
// feature with the field indexes resolved once (1.1 M organizations × 20 fields by name was a
// second). Both read a field the same way: an unset text as "", an unset number as 0.
template <class F>
void read_orgs(OGRLayer* l, GDALDataset& ds, const std::string& filter, F visit, bool ledger = true) {
    struct IgnoreLedger {  // the ledger's fields left unread for planning, until the end
        OGRLayer* l;
        bool on;
        IgnoreLedger(OGRLayer* l, bool on) : l(l), on(on) {
            if (on) l->SetIgnoredFields(const_cast<const char**>(kLedgerFields));
        }
        ~IgnoreLedger() {
            if (on) l->SetIgnoredFields(nullptr);
        }
    } ignore(l, !ledger);
    Organization o;
    if (filter.empty()) {
        using K = ArrowField;
        std::vector<ArrowField> fields = {
            {"id", K::text},          {"name", K::text},           {"kind", K::text},
            {"credit_code", K::text}, {"industry", K::text},       {"employees", K::integer},
            {"party_members", K::integer}, {"status", K::text},    {"above_scale", K::integer},
            {"branch_id", K::integer}, {"instructor_id", K::text}, {"", K::geometry}};
        if (ledger)
            for (const char* name : {"version", "address", "person_in_charge", "phone", "no_branch_reason", "measure",
                                     "location_precision"})
                fields.push_back({name, std::string_view(name) == "version" ? K::integer : K::text});
        l->SetAttributeFilter(nullptr);
        l->ResetReading();
        bool read = read_arrow_rows(l, ds, fields, [&](const std::vector<ArrowColumn>& c, std::int64_t r) {
            o.id = c[0].bytes(r);
            o.name = c[1].bytes(r);
            o.kind = parse_org_kind(c[2].bytes(r)).value_or(OrgKind::enterprise);
            o.credit_code = c[3].bytes(r);
            o.industry = c[4].bytes(r);
            o.employees = static_cast<int>(c[5].integer(r));
            o.party_members = static_cast<int>(c[6].integer(r));
            o.status = parse_org_status(c[7].bytes(r)).value_or(OrgStatus::operating);
            o.above_scale = c[8].integer(r) != 0;
            o.branch_id = c[9].null(r) ? std::nullopt : std::optional<std::int64_t>(c[9].integer(r));
            o.instructor_id = c[10].null(r) ? std::nullopt : std::optional<Id>(std::string(c[10].bytes(r)));
            o.location = c[11].point(r);
            if (ledger) {
                o.version = c[12].integer(r);
                o.set_ledger({std::string(c[13].bytes(r)), std::string(c[14].bytes(r)), std::string(c[15].bytes(r)),
                              std::string(c[16].bytes(r)), std::string(c[17].bytes(r)), std::string(c[18].bytes(r))});
            }
            visit(o);
        });
        if (read) return;
    }
    Fields fx(l->GetLayerDefn());
    const int id = fx["id"], name = fx["name"], kind = fx["kind"], credit_code = fx["credit_code"],
              industry = fx["industry"], employees = fx["employees"], party_members = fx["party_members"],
              status = fx["status"], above_scale = fx["above_scale"], branch_id = fx["branch_id"],
              instructor_id = fx["instructor_id"], version = fx["version"], address = fx["address"],
              person_in_charge = fx["person_in_charge"], phone = fx["phone"], no_branch_reason = fx["no_branch_reason"],
              measure = fx["measure"], location_precision = fx["location_precision"];
    ScopedFilter filtered(l, filter);
    l->ResetReading();
    while (auto f = own(l->GetNextFeature())) {
        o.id = str(*f, id);
        o.name = str(*f, name);
        o.kind = parse_org_kind(str(*f, kind)).value_or(OrgKind::enterprise);
        o.credit_code = str(*f, credit_code);
        o.industry = str(*f, industry);
        o.employees = f->GetFieldAsInteger(employees);
        o.party_members = f->GetFieldAsInteger(party_members);
        o.status = parse_org_status(str(*f, status)).value_or(OrgStatus::operating);
        o.above_scale = f->GetFieldAsInteger(above_scale) != 0;
        o.branch_id = opt_id(*f, branch_id);
        o.instructor_id = opt_text(*f, instructor_id);
        o.location = point_of(*f);
        if (ledger) {
            o.version = f->GetFieldAsInteger64(version);
            o.set_ledger({str(*f, address), str(*f, person_in_charge), str(*f, phone), str(*f, no_branch_reason),
                          str(*f, measure), str(*f, location_precision)});
        }
        visit(o);
    }
}

}  // namespace

void Store::for_each_org(const std::function<void(const Organization&)>& visit, const std::string& filter) const {
    read_orgs(impl_->layer("orgs"), *impl_->ds, filter, [&](Organization& o) { visit(o); });
}

Dataset Store::load_areas() const { return load_parts(false); }

void Store::for_each_branch_type(const std::function<void(std::int64_t, BranchType)>& visit) const {
    OGRLayer* l = impl_->layer("branches");
    Fields fx(l->GetLayerDefn());
    l->ResetReading();
    while (auto f = own(l->GetNextFeature()))
        visit(f->GetFieldAsInteger64(fx["id"]),
              parse_branch_type(str(*f, fx["type"])).value_or(BranchType::standalone));
}

Dataset Store::load() const { return load_parts(true); }

Dataset Store::load_for_planning() const { return load_parts(true, false); }

namespace {

std::vector<Area> read_areas(OGRLayer* l) {
    std::vector<Area> out;
    Fields fx(l->GetLayerDefn());
    const int code = fx["code"], name = fx["name"], level = fx["level"], parent_code = fx["parent_code"];
    l->ResetReading();
    while (auto f = own(l->GetNextFeature())) {
        Area& a = out.emplace_back();
        a.code = str(*f, code);
        a.name = str(*f, name);
        a.level = parse_level(str(*f, level)).value_or(Level::grid);
        a.parent_code = str(*f, parent_code);
        a.shape = from_ogr_polygons(f->GetGeometryRef());
    }
    return out;
}

// Instructors as organizations are read: by the Arrow stream where the layer has one.
std::vector<Instructor> read_instructors(OGRLayer* l, GDALDataset& ds) {
    std::vector<Instructor> out;
    out.reserve(static_cast<std::size_t>(std::max<GIntBig>(0, l->GetFeatureCount(TRUE))));
    l->ResetReading();
    using K = ArrowField;
    bool read = read_arrow_rows(
        l, ds,
        {{"id", K::text}, {"name", K::text}, {"capacity", K::integer}, {"industries", K::text}, {"unit", K::text},
         {"", K::geometry}},
        [&](const std::vector<ArrowColumn>& c, std::int64_t r) {
            Instructor& in = out.emplace_back();
            in.id = c[0].bytes(r);
            in.name = c[1].bytes(r);
            in.capacity = static_cast<int>(c[2].integer(r));
            in.industries = c[3].bytes(r);
            in.unit = c[4].bytes(r);
            in.home = c[5].point(r);
        });
    if (read) return out;
    Fields fx(l->GetLayerDefn());
    const int id = fx["id"], name = fx["name"], capacity = fx["capacity"], industries = fx["industries"],
              unit = fx["unit"];
    l->ResetReading();
    while (auto f = own(l->GetNextFeature())) {
        Instructor& in = out.emplace_back();
        in.id = str(*f, id);
        in.name = str(*f, name);
        in.capacity = f->GetFieldAsInteger(capacity);
        in.industries = str(*f, industries);
        in.unit = str(*f, unit);
        in.home = point_of(*f);
    }
    return out;
}

// Branches as organizations are read: by the Arrow stream where the layer has one.
std::vector<Branch> read_branches(OGRLayer* l, GDALDataset& ds) {
    std::vector<Branch> out;
    out.reserve(static_cast<std::size_t>(std::max<GIntBig>(0, l->GetFeatureCount(TRUE))));
    l->ResetReading();
    using K = ArrowField;
    bool read = read_arrow_rows(
        l, ds,
        {{"id", K::integer}, {"name", K::text}, {"type", K::text}, {"members", K::integer}, {"org_ids", K::text}},
        [&](const std::vector<ArrowColumn>& c, std::int64_t r) {
            Branch& b = out.emplace_back();
            b.id = c[0].integer(r);
            b.name = c[1].bytes(r);
            b.type = parse_branch_type(c[2].bytes(r)).value_or(BranchType::standalone);
            b.members = static_cast<int>(c[3].integer(r));
            b.org_ids = split_ids(std::string(c[4].bytes(r)));
        });
    if (read) return out;
    Fields fx(l->GetLayerDefn());
    const int id = fx["id"], name = fx["name"], type = fx["type"], members = fx["members"], org_ids = fx["org_ids"];
    l->ResetReading();
    while (auto f = own(l->GetNextFeature())) {
        Branch& b = out.emplace_back();
        b.id = f->GetFieldAsInteger64(id);
        b.name = str(*f, name);
        b.type = parse_branch_type(str(*f, type)).value_or(BranchType::standalone);
        b.members = f->GetFieldAsInteger(members);
        b.org_ids = split_ids(str(*f, org_ids));
    }
    return out;
}

// Asks the kernel for 2 MB pages under a large fresh allocation (where transparent huge pages
// are "madvise", Debian's default): a million records touch half a gigabyte, and 4 KB page
// faults cost more than reading them (1.2 s of a 4 s load at scale 500).
void prefer_huge_pages(void* p, std::size_t bytes) {
    constexpr std::uintptr_t huge = 2 << 20;
    auto begin = (reinterpret_cast<std::uintptr_t>(p) + huge - 1) & ~(huge - 1);
    auto end = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(huge - 1);
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

// The integers of the first row a query in the store's own SQL returns (nothing for NULLs or no row).
std::vector<GIntBig> first_row(GDALDataset& ds, const std::string& sql) {
    std::vector<GIntBig> out;
    if (OGRLayer* r = ds.ExecuteSQL(sql.c_str(), nullptr, nullptr)) {
        if (auto f = own(r->GetNextFeature()))
            for (int i = 0; i < f->GetFieldCount() && f->IsFieldSetAndNotNull(i); ++i)
                out.push_back(f->GetFieldAsInteger64(i));
        ds.ReleaseResultSet(r);
    }
    return out;
}

// The FID range of a layer (GeoPackage and PostgreSQL both know MIN and MAX); nothing when the
// layer has no FID column or is empty.
std::optional<std::pair<GIntBig, GIntBig>> fid_range(GDALDataset& ds, OGRLayer* l) {
    if (!*l->GetFIDColumn()) return std::nullopt;
    // Two subqueries: SQLite answers a lone MIN or MAX of the rowid from the b-tree's ends, but
    // scans the whole table for both in one select (15 ms at scale 50, 150 ms at 500).
    std::string fid = l->GetFIDColumn(), table = l->GetName();
    auto v = first_row(
        ds, "SELECT (SELECT MIN(" + fid + ") FROM " + table + "), (SELECT MAX(" + fid + ") FROM " + table + ")");
    if (v.size() < 2) return std::nullopt;
    return std::make_pair(v[0], v[1]);
}

}  // namespace

// A large store is read by two threads, each through its own connection (a GDAL dataset is
// not shared between threads). The work is cut into tasks (areas, instructors, branches, and the
// organizations) that the two take in turn. A GeoPackage's organizations are one task, read
// through the layer's Arrow stream (GDAL fills its batches on a third thread); elsewhere OGR's
// time goes per feature, so they are read in FID ranges on both and the ranges joined in order.
Dataset Store::load_parts(bool with_orgs, bool ledger) const {
    Dataset d;
    if (!with_orgs) {  // areas only: organizations, instructors, branches are streamed
        d.areas = read_areas(impl_->layer("areas"));
        return d;
    }
    detail::ProfileLaps profile("load");
    OGRLayer* orgs = impl_->layer("orgs");
    const GIntBig count = orgs->GetFeatureCount(TRUE);
    profile.lap("count");
    // A GeoPackage's organizations come whole through its Arrow stream (read_orgs), which GDAL
    // fills on a thread of its own; other stores' are read feature by feature in FID ranges.
    const bool columnar = arrow_reads(*impl_->ds);
    const bool two = count >= 100000 && std::thread::hardware_concurrency() > 1;
    std::optional<std::pair<GIntBig, GIntBig>> range;
    if (two && !columnar) range = fid_range(*impl_->ds, orgs);
    // The organizations in FID ranges, each counted first so that every range is read straight
    // into its place in d.orgs (moving a million records afterwards costs as much as a range).
    const int parts = range ? 6 : 1;
    std::vector<std::string> filters(static_cast<std::size_t>(parts));
    std::vector<std::size_t> first(static_cast<std::size_t>(parts) + 1, 0);
    for (int k = 0; k < parts && range; ++k) {
        GIntBig span = range->second - range->first + 1, lo = range->first + span * k / parts,
                hi = range->first + span * (k + 1) / parts;
        std::string fid = orgs->GetFIDColumn();
        filters[static_cast<std::size_t>(k)] = "FID >= " + std::to_string(lo) + " AND FID < " + std::to_string(hi);
        GIntBig n = hi - lo;  // FIDs without gaps (the usual case): each range holds its span
        if (range->second - range->first + 1 != count) {
            auto counted =
                first_row(*impl_->ds, std::string("SELECT COUNT(*) FROM ") + orgs->GetName() + " WHERE " + fid +
                                          " >= " + std::to_string(lo) + " AND " + fid + " < " + std::to_string(hi));
            n = counted.empty() ? 0 : counted[0];
        }
        first[static_cast<std::size_t>(k) + 1] = first[static_cast<std::size_t>(k)] + static_cast<std::size_t>(n);
    }
    if (!range) first[1] = static_cast<std::size_t>(std::max<GIntBig>(count, 0));
    profile.lap("ranges");
    // The array's first touch (a fault per page: 0.5-1 s for a million records here) overlaps
    // other reading: where the organizations are one task beside the other connection (a
    // GeoPackage's Arrow read), that task makes it; else it is made here while the second
    // connection reads areas, instructors and branches (first in the queue, needing no
    // organization), and a range waits for it.
    const bool array_in_task = columnar && two;
    auto make_array = [&] {
        d.orgs.reserve(first.back());
        prefer_huge_pages(d.orgs.data(), d.orgs.capacity() * sizeof(Organization));
        d.orgs.resize(first.back());
    };
    std::promise<void> resized;
    std::shared_future<void> ready = resized.get_future().share();
    // What a range holds beyond its count (a writer between count and read) waits here.
    std::vector<std::vector<Organization>> beyond(static_cast<std::size_t>(parts));
    std::vector<std::size_t> filled(static_cast<std::size_t>(parts), 0);
    auto layer_of = [](GDALDataset& ds, const char* name) {
        OGRLayer* l = ds.GetLayerByName(name);
        if (!l) throw store_error(std::string("store has no layer '") + name + "'");
        return l;
    };
    std::vector<std::function<void(GDALDataset&)>> tasks;
    tasks.push_back([&](GDALDataset& ds) { d.areas = read_areas(layer_of(ds, "areas")); });
    tasks.push_back([&](GDALDataset& ds) { d.instructors = read_instructors(layer_of(ds, "instructors"), ds); });
    tasks.push_back([&](GDALDataset& ds) { d.branches = read_branches(layer_of(ds, "branches"), ds); });
    for (std::size_t k = 0; k < static_cast<std::size_t>(parts); ++k)
        tasks.push_back([&, k](GDALDataset& ds) {
            if (array_in_task)
                make_array();
            else
                ready.get();  // rethrows if the array could not be made
            std::size_t at = first[k];
            read_orgs(
                layer_of(ds, "orgs"), ds, filters[k],
                [&](Organization& o) {
                    if (at < first[k + 1])
                        d.orgs[at++] = std::move(o);
                    else
                        beyond[k].push_back(std::move(o));
                },
                ledger);
            filled[k] = at - first[k];
        });

    // Where the organizations are one task (array_in_task), it is the second connection's (read
    // only), begun at once: the first takes the others; it takes the organizations too when the
    // second connection cannot be opened.
    if (array_in_task) std::rotate(tasks.begin(), tasks.begin() + 3, tasks.end());
    std::atomic<std::size_t> next{array_in_task ? 1u : 0u};
    std::atomic<bool> orgs_taken{false};
    std::exception_ptr failed;
    std::mutex failed_mutex;
    auto run = [&](std::size_t t, GDALDataset& ds) {
        try {
            detail::ProfileLaps task("load");
            tasks[t](ds);
            task.lap("task " + std::to_string(t) + (&ds == impl_->ds.get() ? " (first connection)" : " (second)"));
            return true;
        } catch (...) {
            std::lock_guard lock(failed_mutex);
            if (!failed) failed = std::current_exception();
            next = tasks.size();
            return false;
        }
    };
    auto work = [&](GDALDataset& ds) {
        for (std::size_t t; (t = next.fetch_add(1)) < tasks.size();)
            if (!run(t, ds)) return;
    };
    std::thread other;
    if (two)
        other = std::thread([&] {
            DatasetPtr more(GDALDataset::FromHandle(
                GDALOpenEx(impl_->uri.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr)));
            if (!more) return;  // if a second connection fails, the first does all the work
            if (array_in_task && !orgs_taken.exchange(true) && !run(0, *more)) return;
            work(*more);
        });
    if (!array_in_task) {
        try {
            make_array();
            resized.set_value();
        } catch (...) {
            resized.set_exception(std::current_exception());
        }
        profile.lap("resize");
    }
    work(*impl_->ds);
    if (other.joinable()) other.join();
    if (array_in_task && !failed && !orgs_taken.exchange(true)) run(0, *impl_->ds);
    profile.lap("tasks");
    if (failed) std::rethrow_exception(failed);
    bool exact = true;
    for (std::size_t k = 0; k < filled.size(); ++k)
        exact = exact && filled[k] == first[k + 1] - first[k] && beyond[k].empty();
    if (!exact) {  // the counts were off: close the gaps, keep the order
        std::vector<Organization> all;
        for (std::size_t k = 0; k < filled.size(); ++k) {
            std::move(d.orgs.begin() + static_cast<std::ptrdiff_t>(first[k]),
                      d.orgs.begin() + static_cast<std::ptrdiff_t>(first[k] + filled[k]), std::back_inserter(all));
            std::move(beyond[k].begin(), beyond[k].end(), std::back_inserter(all));
        }
        d.orgs = std::move(all);
    }
    if (ledger) visit_marks(impl_->layer("visits"), nullptr, &d.ledger_verified, &d.branch_checks);
    return d;
}

void Store::replace(const Dataset& d) {
    impl_->transaction([&] {
        impl_->indexes(false);
        for (const char* name : {"areas", "orgs", "instructors", "branches"}) {
            OGRLayer* res = impl_->ds->ExecuteSQL((std::string("DELETE FROM ") + name).c_str(), nullptr, nullptr);
            if (res) impl_->ds->ReleaseResultSet(res);
        }
        impl_->write(d);
        impl_->indexes(true);  // a duplicate id fails here, and the whole replace rolls back
        impl_->notify({}, true);
    });
}

void Store::update_org(const Organization& after, std::int64_t expected_version, const AuditEntry& audit,
                       ChangeRow* change) {
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("orgs");
        Fields fx(l->GetLayerDefn());
        auto f = impl_->stored_org(l, fx, after.id, expected_version);
        GIntBig fid = f->GetFID();
        auto g = make_feature(l->GetLayerDefn());
        impl_->set_org(*g, fx, after);
        g->SetFID(fid);
        if (l->SetFeature(g.get()) != OGRERR_NONE)
            throw store_error("cannot update organization " + after.id + ": " + CPLGetLastErrorMsg());
        impl_->append_audit({audit});
        if (change) impl_->append_change(*change);
        impl_->notify({after.id}, false);
    });
}

void Store::replace_orgs(const std::vector<Organization>& orgs, const std::vector<AuditEntry>& audit,
                         ChangeRow* change) {
    impl_->transaction([&] {
        impl_->indexes(false);
        OGRLayer* res = impl_->ds->ExecuteSQL("DELETE FROM orgs", nullptr, nullptr);
        if (res) impl_->ds->ReleaseResultSet(res);
        Dataset d;
        d.orgs = orgs;
        impl_->write(d);
        impl_->indexes(true);
        impl_->append_audit(audit);
        if (change) impl_->append_change(*change);
        impl_->notify({}, true);
    });
}

void Store::commit_changes(const std::vector<OrgUpdate>& orgs, const std::vector<Branch>& new_branches,
                           const std::vector<AuditEntry>& audit, const std::vector<CapacityCheck>& capacity,
                           ChangeRow* change) {
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("orgs");
        Fields fx(l->GetLayerDefn());
        for (const auto& u : orgs) {
            auto f = impl_->stored_org(l, fx, u.id, u.expected_version);
            if (u.branch_id)
                f->SetField(fx["branch_id"], static_cast<GIntBig>(*u.branch_id));
            else
                f->SetFieldNull(fx["branch_id"]);
            if (u.instructor_id)
                f->SetField(fx["instructor_id"], u.instructor_id->c_str());
            else
                f->SetFieldNull(fx["instructor_id"]);
            f->SetField(fx["version"], static_cast<GIntBig>(u.version));
            if (l->SetFeature(f.get()) != OGRERR_NONE)
                throw store_error("cannot update organization " + u.id + ": " + CPLGetLastErrorMsg());
        }
        impl_->check_capacity(capacity);
        Dataset branches;
        branches.branches = new_branches;
        impl_->write(branches);
        impl_->append_audit(audit);
        if (change) impl_->append_change(*change);
        std::vector<Id> ids;
        for (const auto& u : orgs) ids.push_back(u.id);
        impl_->notify(ids, !new_branches.empty());
    });
}

std::vector<AuditEntry> Store::audit(const std::optional<Id>& org_id) const {
    std::vector<AuditEntry> out;
    OGRLayer* l = impl_->layer("audit");
    Fields fx(l->GetLayerDefn());
    l->SetAttributeFilter(org_id ? ("org_id = " + quoted(*org_id)).c_str() : nullptr);
    l->ResetReading();
    while (auto f = own(l->GetNextFeature()))
        out.push_back({str(*f, fx["time"]), str(*f, fx["token_name"]), str(*f, fx["action"]), str(*f, fx["org_id"]),
                       str(*f, fx["before"]), str(*f, fx["after"])});
    l->SetAttributeFilter(nullptr);
    return out;
}

void Store::append(const Dataset& d, ChangeRow* change) {
    impl_->transaction([&] {
        impl_->write(d);
        if (change) impl_->append_change(*change);
        impl_->notify({}, true);
    });
}

void Store::apply_records(const std::vector<std::pair<Organization, std::int64_t>>& orgs,
                          const std::vector<std::pair<Id, std::int64_t>>& orgs_gone,
                          const std::vector<Branch>& branches, const std::vector<std::int64_t>& branches_gone,
                          const std::vector<AuditEntry>& audit, const std::vector<CapacityCheck>& capacity,
                          ChangeRow& change) {
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("orgs");
        Fields fx(l->GetLayerDefn());
        auto sql = [&](const std::string& statement) {
            CPLErrorReset();
            OGRLayer* res = impl_->ds->ExecuteSQL(statement.c_str(), nullptr, nullptr);
            if (res) impl_->ds->ReleaseResultSet(res);
            if (CPLGetLastErrorType() == CE_Failure) throw store_error("cannot revert: " + std::string(CPLGetLastErrorMsg()));
        };
        std::vector<Id> ids;
        for (const auto& [id, expected] : orgs_gone) {
            impl_->stored_org(l, fx, id, expected);  // still as the change left it
            sql("DELETE FROM orgs WHERE id = " + quoted(id));
            ids.push_back(id);
        }
        Dataset created;
        for (const auto& [o, expected] : orgs) {
            ids.push_back(o.id);
            if (expected == 0) {
                l->SetAttributeFilter(("id = " + quoted(o.id)).c_str());
                bool exists = l->GetFeatureCount(TRUE) > 0;
                l->SetAttributeFilter(nullptr);
                if (exists)
                    throw conflict_error(conflict_error::Kind::stale_version, "organization " + o.id + " exists again");
                created.orgs.push_back(o);
                continue;
            }
            auto f = impl_->stored_org(l, fx, o.id, expected);
            GIntBig fid = f->GetFID();
            auto g = make_feature(l->GetLayerDefn());
            impl_->set_org(*g, fx, o);
            g->SetFID(fid);
            if (l->SetFeature(g.get()) != OGRERR_NONE)
                throw store_error("cannot update organization " + o.id + ": " + CPLGetLastErrorMsg());
        }
        for (auto id : branches_gone) sql("DELETE FROM branches WHERE id = " + std::to_string(id));
        for (const auto& b : branches) sql("DELETE FROM branches WHERE id = " + std::to_string(b.id));
        created.branches = branches;
        impl_->write(created);
        impl_->check_capacity(capacity);
        impl_->append_audit(audit);
        impl_->append_change(change);
        impl_->notify(ids, !branches.empty() || !branches_gone.empty() || !created.orgs.empty() || !orgs_gone.empty());
    });
}

namespace {

ChangeRow change_row(const OGRFeature& f, const Fields& fx, bool records) {
    ChangeRow c;
    c.id = f.GetFID();
    c.time = str(f, fx["time"]);
    c.token_name = str(f, fx["token_name"]);
    c.kind = str(f, fx["kind"]);
    c.summary = str(f, fx["summary"]);
    c.orgs = split_ids(str(f, fx["orgs"]));
    if (records) {
        c.orgs_before = str(f, fx["orgs_before"]);
        c.orgs_after = str(f, fx["orgs_after"]);
        c.branches_before = str(f, fx["branches_before"]);
        c.branches_after = str(f, fx["branches_after"]);
    }
    auto number = [&](const char* name) -> std::optional<std::int64_t> {
        int i = fx[name];
        if (!f.IsFieldSetAndNotNull(i)) return std::nullopt;
        return f.GetFieldAsInteger64(i);
    };
    c.reverts = number("reverts");
    c.reverted_by = number("reverted_by");
    return c;
}

}  // namespace

std::vector<ChangeRow> Store::changes(std::size_t limit) const {
    OGRLayer* l = impl_->layer("changes");
    Fields fx(l->GetLayerDefn());
    // Newest first: the store numbers rows in order, so the highest ids are the last ones.
    static const char* const kRecords[] = {"orgs_before", "orgs_after", "branches_before", "branches_after", nullptr};
    l->SetIgnoredFields(const_cast<const char**>(kRecords));
    std::vector<ChangeRow> out;
    l->ResetReading();
    while (auto f = own(l->GetNextFeature())) out.push_back(change_row(*f, fx, false));
    l->SetIgnoredFields(nullptr);
    std::sort(out.begin(), out.end(), [](const ChangeRow& a, const ChangeRow& b) { return a.id > b.id; });
    if (out.size() > limit) out.resize(limit);
    return out;
}

std::optional<ChangeRow> Store::change(std::int64_t id) const {
    OGRLayer* l = impl_->layer("changes");
    Fields fx(l->GetLayerDefn());
    auto f = own(l->GetFeature(id));
    if (!f) return std::nullopt;
    return change_row(*f, fx, true);
}

}  // namespace covermap::geo
