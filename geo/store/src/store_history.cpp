// History in the store: snapshots, targets and baselines.
#include "store_impl.hpp"

#include "covermap/geo/clock.hpp"

namespace covermap::geo {

namespace {

HistoryRow history_row(const OGRFeature& f, const Fields& fx) {
    HistoryRow r;
    r.date = str(f, fx["date"]);
    r.level = str(f, fx["level"]);
    r.scope = parse_scope(str(f, fx["scope"])).value_or(Scope::all);
    r.figures.code = str(f, fx["code"]);
    r.figures.name = str(f, fx["name"]);
    auto n = [&](const char* name) { return static_cast<long long>(f.GetFieldAsInteger64(fx[name])); };
    r.figures.orgs = n("orgs");
    r.figures.operating = n("operating");
    r.figures.org_covered = n("org_covered");
    r.figures.standalone = n("standalone");
    r.figures.work_covered = n("work_covered");
    r.figures.instructor_covered = n("instructor_covered");
    r.with_members = n("with_members");
    r.branches_standalone = n("branches_standalone");
    r.branches_joint = n("branches_joint");
    r.branches_affiliated = n("branches_affiliated");
    r.instructors = n("instructors");
    return r;
}

// Runs a statement that returns no rows (DELETE); throws with GDAL's message on failure.
void execute(GDALDataset& ds, const std::string& sql) {
    CPLErrorReset();
    OGRLayer* res = ds.ExecuteSQL(sql.c_str(), nullptr, nullptr);
    if (res) ds.ReleaseResultSet(res);
    if (CPLGetLastErrorType() == CE_Failure) throw store_error("cannot run '" + sql + "': " + CPLGetLastErrorMsg());
}

}  // namespace

void Store::save_snapshot(const Snapshot& snap) {
    checked_date(snap.date);  // also what makes the date safe inside the SQL below
    impl_->transaction([&] {
        execute(*impl_->ds, "DELETE FROM history WHERE date = '" + snap.date + "'");
        OGRLayer* l = impl_->layer("history");
        Fields fx(l->GetLayerDefn());
        for (const auto& r : snap.rows) {
            auto f = make_feature(l->GetLayerDefn());
            f->SetField(fx["date"], snap.date.c_str());
            f->SetField(fx["level"], r.level.c_str());
            f->SetField(fx["code"], r.figures.code.c_str());
            f->SetField(fx["name"], r.figures.name.c_str());
            f->SetField(fx["scope"], std::string(to_string(r.scope)).c_str());
            auto n = [&](const char* name, long long v) { f->SetField(fx[name], static_cast<GIntBig>(v)); };
            n("orgs", r.figures.orgs);
            n("operating", r.figures.operating);
            n("org_covered", r.figures.org_covered);
            n("standalone", r.figures.standalone);
            n("work_covered", r.figures.work_covered);
            n("instructor_covered", r.figures.instructor_covered);
            n("with_members", r.with_members);
            n("branches_standalone", r.branches_standalone);
            n("branches_joint", r.branches_joint);
            n("branches_affiliated", r.branches_affiliated);
            n("instructors", r.instructors);
            impl_->create(l, *f);
        }
    });
}

std::vector<Snapshot> baseline_snapshots(const Store& store, const std::vector<Target>& targets) {
    std::vector<Snapshot> out;
    for (const auto& t : targets)
        if (t.relative() &&
            std::none_of(out.begin(), out.end(), [&](const Snapshot& s) { return s.date == t.baseline; }))
            out.push_back(store.snapshot(t.baseline));
    return out;
}

std::vector<std::string> Store::snapshot_dates() const {
    std::vector<std::string> dates;
    OGRLayer* res = impl_->ds->ExecuteSQL("SELECT DISTINCT date FROM history ORDER BY date", nullptr, nullptr);
    if (!res) throw store_error(std::string("cannot read the history: ") + CPLGetLastErrorMsg());
    while (auto f = own(res->GetNextFeature())) dates.push_back(str(*f, 0));
    impl_->ds->ReleaseResultSet(res);
    return dates;
}

Snapshot Store::snapshot(const std::string& date) const {
    Snapshot snap;
    snap.date = checked_date(date);
    OGRLayer* l = impl_->layer("history");
    Fields fx(l->GetLayerDefn());
    l->SetAttributeFilter(("date = '" + snap.date + "'").c_str());
    l->ResetReading();
    while (auto f = own(l->GetNextFeature())) snap.rows.push_back(history_row(*f, fx));
    l->SetAttributeFilter(nullptr);
    snap.index();
    return snap;
}

std::vector<HistoryRow> Store::history(const std::string& level, const std::string& code, Scope scope) const {
    std::vector<HistoryRow> rows;
    OGRLayer* l = impl_->layer("history");
    Fields fx(l->GetLayerDefn());
    l->SetAttributeFilter(("level = " + quoted(level) + " AND code = " + quoted(code) + " AND scope = '" +
                           std::string(to_string(scope)) + "'")
                              .c_str());
    l->ResetReading();
    while (auto f = own(l->GetNextFeature())) rows.push_back(history_row(*f, fx));
    l->SetAttributeFilter(nullptr);
    std::sort(rows.begin(), rows.end(), [](const HistoryRow& a, const HistoryRow& b) { return a.date < b.date; });
    return rows;
}

std::string Store::add_target(Target t) {
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("targets");
        Fields fx(l->GetLayerDefn());
        long long next = 1;
        l->ResetReading();
        while (auto f = own(l->GetNextFeature())) {
            std::string id = str(*f, fx["id"]);
            if (id.rfind("t-", 0) == 0) next = std::max(next, std::atoll(id.c_str() + 2) + 1);
        }
        t.id = "t-" + std::to_string(next);
        auto f = make_feature(l->GetLayerDefn());
        f->SetField(fx["id"], t.id.c_str());
        f->SetField(fx["metric"], std::string(to_string(t.metric)).c_str());
        f->SetField(fx["scope"], std::string(to_string(t.scope)).c_str());
        f->SetField(fx["level"], t.level.c_str());
        f->SetField(fx["area"], t.area.c_str());
        f->SetField(fx["value"], t.value);
        f->SetField(fx["baseline"], t.baseline.c_str());
        f->SetField(fx["deadline"], t.deadline.c_str());
        f->SetField(fx["note"], t.note.c_str());
        impl_->create(l, *f);
    });
    return t.id;
}

std::vector<Target> Store::targets() const {
    std::vector<Target> out;
    OGRLayer* l = impl_->layer("targets");
    Fields fx(l->GetLayerDefn());
    l->ResetReading();
    while (auto f = own(l->GetNextFeature())) {
        auto metric = parse_metric(str(*f, fx["metric"]));
        auto scope = parse_scope(str(*f, fx["scope"]));
        if (!metric || !scope) continue;  // written by a newer covermap
        out.push_back({str(*f, fx["id"]), *metric, *scope, str(*f, fx["level"]), str(*f, fx["area"]),
                       f->GetFieldAsDouble(fx["value"]), str(*f, fx["baseline"]), str(*f, fx["deadline"]),
                       str(*f, fx["note"])});
    }
    return out;
}

bool Store::remove_target(const std::string& id) {
    bool found = false;
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("targets");
        l->SetAttributeFilter(("id = " + quoted(id)).c_str());
        l->ResetReading();
        std::vector<GIntBig> fids;
        while (auto f = own(l->GetNextFeature())) fids.push_back(f->GetFID());
        l->SetAttributeFilter(nullptr);
        for (auto fid : fids)
            if (l->DeleteFeature(fid) != OGRERR_NONE)
                throw store_error("cannot remove target " + id + ": " + CPLGetLastErrorMsg());
        found = !fids.empty();
    });
    return found;
}

void check_target(Target& t, const Store& store) {
    t.deadline = checked_date(t.deadline);
    if (!t.baseline.empty()) t.baseline = checked_date(t.baseline);
    if (t.relative() ? !(t.value > 0 && t.value <= 100) : !(t.value >= 0 && t.value <= 1))
        throw invalid_argument(t.relative() ? "a factor is above 0" : "a rate is between 0% and 100%");
    if (!t.area.empty()) {
        auto d = store.load_areas();
        if (std::none_of(d.areas.begin(), d.areas.end(), [&](const Area& a) { return a.code == t.area; }))
            throw invalid_argument("no area with code " + t.area);
        t.level.clear();
    } else if (t.level.empty()) {
        t.level = "total";
    } else if (t.level != "total" && !parse_level(t.level)) {
        throw invalid_argument("no level " + t.level);
    }
    if (t.relative()) {
        auto dates = store.snapshot_dates();
        if (std::find(dates.begin(), dates.end(), t.baseline) == dates.end())
            throw invalid_argument("no snapshot dated " + t.baseline + " to be the baseline");
    }
}

}  // namespace covermap::geo
