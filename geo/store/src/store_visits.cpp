// Visits to organizations (the field loop) and the day each ledger was last confirmed.
#include <algorithm>

#include "store_impl.hpp"

namespace covermap::geo {

namespace {

void write_visit(OGRLayer* l, const Fields& fx, const Visit& v, GIntBig* fid) {
    auto f = make_feature(l->GetLayerDefn());
    f->SetField(fx["org"], v.org.c_str());
    f->SetField(fx["date"], v.date.c_str());
    f->SetField(fx["kind"], v.kind.c_str());
    f->SetField(fx["note"], v.note.c_str());
    f->SetField(fx["ledger_confirmed"], v.ledger_confirmed ? 1 : 0);
    f->SetField(fx["by"], v.by.c_str());
    if (!v.instructor.empty()) f->SetField(fx["instructor"], v.instructor.c_str());
    f->SetField(fx["time"], v.time.c_str());
    if (v.change_id) f->SetField(fx["change_id"], static_cast<GIntBig>(v.change_id));
    if (v.wuyou >= 0) f->SetField(fx["wuyou"], v.wuyou);
    if (v.stars > 0) f->SetField(fx["stars"], v.stars);
    if (!v.visit_key.empty()) f->SetField(fx["visit_key"], v.visit_key.c_str());
    if (l->CreateFeature(f.get()) != OGRERR_NONE)
        throw store_error(std::string("cannot write a visit: ") + CPLGetLastErrorMsg());
    if (fid) *fid = f->GetFID();
}

}  // namespace

void Store::add_visits(const std::vector<Visit>& visits) {
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("visits");
        Fields fx(l->GetLayerDefn());
        for (const auto& v : visits) write_visit(l, fx, v, nullptr);
    });
}

void Store::add_visit(Visit& v, const Organization* corrected, std::int64_t expected_version,
                      const std::vector<AuditEntry>& audit, ChangeRow& change) {
    impl_->transaction([&] {
        if (corrected) {
            OGRLayer* l = impl_->layer("orgs");
            Fields fx(l->GetLayerDefn());
            auto f = impl_->stored_org(l, fx, corrected->id, expected_version);
            GIntBig fid = f->GetFID();
            auto g = make_feature(l->GetLayerDefn());
            impl_->set_org(*g, fx, *corrected);
            g->SetFID(fid);
            if (l->SetFeature(g.get()) != OGRERR_NONE)
                throw store_error("cannot update organization " + corrected->id + ": " + CPLGetLastErrorMsg());
        }
        impl_->append_audit(audit);
        impl_->append_change(change);
        v.change_id = change.id;
        OGRLayer* l = impl_->layer("visits");
        Fields fx(l->GetLayerDefn());
        GIntBig fid = 0;
        write_visit(l, fx, v, &fid);
        v.id = fid;
        impl_->notify({v.org}, false);
    });
}

std::vector<Visit> Store::visits(const VisitQuery& q) const {
    OGRLayer* l = impl_->layer("visits");
    Fields fx(l->GetLayerDefn());
    std::vector<std::string> where;
    if (!q.org.empty()) where.push_back("org = " + quoted(q.org));
    if (!q.instructor.empty()) where.push_back("instructor = " + quoted(q.instructor));
    if (!q.from.empty()) where.push_back("date >= " + quoted(q.from));
    if (!q.to.empty()) where.push_back("date <= " + quoted(q.to));
    if (!q.visit_key.empty()) where.push_back("visit_key = " + quoted(q.visit_key));
    std::string filter;
    for (const auto& w : where) filter += (filter.empty() ? "" : " AND ") + w;
    std::vector<Visit> out;
    ScopedFilter filtered(l, filter);
    l->ResetReading();
    while (auto f = own(l->GetNextFeature())) {
        Visit v;
        v.id = f->GetFID();
        v.org = str(*f, fx["org"]);
        v.date = str(*f, fx["date"]);
        v.kind = str(*f, fx["kind"]);
        v.note = str(*f, fx["note"]);
        v.ledger_confirmed = f->GetFieldAsInteger(fx["ledger_confirmed"]) != 0;
        v.by = str(*f, fx["by"]);
        v.instructor = str(*f, fx["instructor"]);
        v.time = str(*f, fx["time"]);
        v.change_id = opt_id(*f, fx["change_id"]).value_or(0);
        v.wuyou = f->IsFieldSetAndNotNull(fx["wuyou"]) ? f->GetFieldAsInteger(fx["wuyou"]) : -1;
        v.stars = f->IsFieldSetAndNotNull(fx["stars"]) ? f->GetFieldAsInteger(fx["stars"]) : 0;
        v.visit_key = str(*f, fx["visit_key"]);
        out.push_back(std::move(v));
    }
    std::sort(out.begin(), out.end(), [](const Visit& a, const Visit& b) { return std::tie(a.date, a.id) < std::tie(b.date, b.id); });
    return out;
}

namespace {

// An attribute filter on visits of these organizations: "org IN ('1','2')".
std::string of_orgs(const std::vector<Id>& ids) {
    std::string in;
    for (const auto& id : ids) in += (in.empty() ? "" : ",") + quoted(id);
    return "org IN (" + in + ")";
}

}  // namespace

namespace store_detail {

void visit_marks(OGRLayer* l, const std::vector<Id>* only, std::unordered_map<Id, std::string>* verified,
                 std::unordered_map<Id, BranchCheck>* checks) {
    if ((!verified && !checks) || (only && only->empty())) return;
    Fields fx(l->GetLayerDefn());
    const int org = fx["org"], date = fx["date"], confirmed = fx["ledger_confirmed"], wuyou = fx["wuyou"],
              stars = fx["stars"];
    std::string filter = verified && checks ? "(ledger_confirmed = 1 OR wuyou IS NOT NULL)"
                         : verified         ? "ledger_confirmed = 1"
                                            : "wuyou IS NOT NULL";
    if (only) filter += " AND " + of_orgs(*only);
    ScopedFilter filtered(l, filter);
    l->ResetReading();
    while (auto f = own(l->GetNextFeature())) {
        const std::string id = str(*f, org), day = str(*f, date);
        if (verified && f->GetFieldAsInteger(confirmed) == 1) {
            auto& last = (*verified)[id];
            last = std::max(last, day);
        }
        if (checks && f->IsFieldSetAndNotNull(wuyou)) {
            auto& c = (*checks)[id];
            if (day >= c.date)
                c = {day, f->GetFieldAsInteger(wuyou), f->IsFieldSetAndNotNull(stars) ? f->GetFieldAsInteger(stars) : 0};
        }
    }
}

}  // namespace store_detail

std::unordered_map<Id, std::string> Store::ledger_verified(const std::vector<Id>* only) const {
    std::unordered_map<Id, std::string> last;
    visit_marks(impl_->layer("visits"), only, &last, nullptr);
    return last;
}

std::unordered_map<Id, BranchCheck> Store::branch_checks(const std::vector<Id>* only) const {
    std::unordered_map<Id, BranchCheck> last;
    visit_marks(impl_->layer("visits"), only, nullptr, &last);
    return last;
}

}  // namespace covermap::geo
