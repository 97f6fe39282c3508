// Demonstration sites (示范点), their quotas, and leaders' contact points (联系点).
#include "store_impl.hpp"

namespace covermap::geo {

namespace {

// Deletes the row with this FID in one of the small tables; false when it is not there.
bool delete_row(OGRLayer* l, std::int64_t id) {
    auto f = own(l->GetFeature(id));
    if (!f) return false;
    if (l->DeleteFeature(id) != OGRERR_NONE)
        throw store_error(std::string("cannot delete from ") + l->GetName() + ": " + CPLGetLastErrorMsg());
    return true;
}

}  // namespace

void Store::add_site(Site& site, ChangeRow* change) {
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("sites");
        Fields fx(l->GetLayerDefn());
        auto f = make_feature(l->GetLayerDefn());
        f->SetField(fx["org"], site.org.c_str());
        f->SetField(fx["level"], site.level.c_str());
        f->SetField(fx["year"], site.year);
        f->SetField(fx["since"], site.since.c_str());
        f->SetField(fx["by"], site.by.c_str());
        impl_->create(l, *f);
        site.id = f->GetFID();
        if (change) impl_->append_change(*change);
        impl_->notify({site.org}, false);
    });
}

bool Store::remove_site(std::int64_t id, ChangeRow& change) {
    bool gone = false;
    impl_->transaction([&] {
        if (!(gone = delete_row(impl_->layer("sites"), id))) return;
        impl_->append_change(change);
        impl_->notify(change.orgs, false);
    });
    return gone;
}

std::vector<Site> Store::sites() const {
    OGRLayer* l = impl_->layer("sites");
    Fields fx(l->GetLayerDefn());
    l->ResetReading();
    std::vector<Site> out;
    while (auto f = own(l->GetNextFeature()))
        out.push_back({f->GetFID(), str(*f, fx["org"]), str(*f, fx["level"]), f->GetFieldAsInteger(fx["year"]),
                       str(*f, fx["since"]), str(*f, fx["by"])});
    return out;
}

void Store::set_quota(const SiteQuota& q) {
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("site_quotas");
        Fields fx(l->GetLayerDefn());
        l->SetAttributeFilter(("area = " + quoted(q.area) + " AND level = " + quoted(q.level) +
                               " AND year = " + std::to_string(q.year))
                                  .c_str());
        l->ResetReading();
        std::vector<GIntBig> old;
        while (auto f = own(l->GetNextFeature())) old.push_back(f->GetFID());
        l->SetAttributeFilter(nullptr);
        for (auto fid : old)
            if (l->DeleteFeature(fid) != OGRERR_NONE)
                throw store_error(std::string("cannot replace a quota: ") + CPLGetLastErrorMsg());
        auto f = make_feature(l->GetLayerDefn());
        f->SetField(fx["area"], q.area.c_str());
        f->SetField(fx["level"], q.level.c_str());
        f->SetField(fx["year"], q.year);
        f->SetField(fx["count"], q.count);
        impl_->create(l, *f);
    });
}

std::vector<SiteQuota> Store::quotas() const {
    OGRLayer* l = impl_->layer("site_quotas");
    Fields fx(l->GetLayerDefn());
    l->ResetReading();
    std::vector<SiteQuota> out;
    while (auto f = own(l->GetNextFeature()))
        out.push_back({str(*f, fx["area"]), str(*f, fx["level"]), f->GetFieldAsInteger(fx["year"]),
                       f->GetFieldAsInteger(fx["count"])});
    return out;
}

void Store::add_contact_point(ContactPoint& p, ChangeRow* change) {
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("contact_points");
        Fields fx(l->GetLayerDefn());
        auto f = make_feature(l->GetLayerDefn());
        f->SetField(fx["leader"], p.leader.c_str());
        f->SetField(fx["post"], p.post.c_str());
        f->SetField(fx["liaison"], p.liaison.c_str());
        f->SetField(fx["org"], p.org.c_str());
        f->SetField(fx["since"], p.since.c_str());
        f->SetField(fx["by"], p.by.c_str());
        impl_->create(l, *f);
        p.id = f->GetFID();
        if (change) impl_->append_change(*change);
        impl_->notify({p.org}, false);
    });
}

bool Store::remove_contact_point(std::int64_t id, ChangeRow& change) {
    bool gone = false;
    impl_->transaction([&] {
        if (!(gone = delete_row(impl_->layer("contact_points"), id))) return;
        impl_->append_change(change);
        impl_->notify(change.orgs, false);
    });
    return gone;
}

std::vector<ContactPoint> Store::contact_points() const {
    OGRLayer* l = impl_->layer("contact_points");
    Fields fx(l->GetLayerDefn());
    l->ResetReading();
    std::vector<ContactPoint> out;
    while (auto f = own(l->GetNextFeature()))
        out.push_back({f->GetFID(), str(*f, fx["leader"]), str(*f, fx["post"]), str(*f, fx["liaison"]),
                       str(*f, fx["org"]), str(*f, fx["since"]), str(*f, fx["by"])});
    return out;
}

}  // namespace covermap::geo
