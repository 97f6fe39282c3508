// Plans in the store.
#include "store_impl.hpp"

namespace covermap::geo {

void Store::save_plan(const PlanRow& plan) {
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("plans");
        Fields fx(l->GetLayerDefn());
        l->SetAttributeFilter(("id = '" + plan.id + "'").c_str());  // ids are made by covermap: plan-N
        l->ResetReading();
        auto f = own(l->GetNextFeature());
        l->SetAttributeFilter(nullptr);
        bool exists = static_cast<bool>(f);
        if (!f) f = make_feature(l->GetLayerDefn());
        f->SetField(fx["id"], plan.id.c_str());
        f->SetField(fx["name"], plan.name.c_str());
        f->SetField(fx["created"], plan.created.c_str());
        f->SetField(fx["token_name"], plan.token_name.c_str());
        f->SetField(fx["status"], plan.status.c_str());
        f->SetField(fx["body"], plan.body.c_str());
        if (exists ? l->SetFeature(f.get()) != OGRERR_NONE : l->CreateFeature(f.get()) != OGRERR_NONE)
            throw store_error("cannot write plan " + plan.id + ": " + CPLGetLastErrorMsg());
    });
}

int Store::delete_plans(const std::vector<std::string>& ids) {
    int deleted = 0;
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("plans");
        for (const auto& id : ids) {
            if (id.empty() || !std::all_of(id.begin(), id.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
                }))
                continue;  // ids are made by covermap: plan-N
            l->SetAttributeFilter(("id = '" + id + "'").c_str());
            l->ResetReading();
            std::vector<GIntBig> fids;
            while (auto f = own(l->GetNextFeature())) fids.push_back(f->GetFID());
            l->SetAttributeFilter(nullptr);
            for (auto fid : fids) {
                if (l->DeleteFeature(fid) != OGRERR_NONE)
                    throw store_error("cannot delete plan " + id + ": " + CPLGetLastErrorMsg());
                ++deleted;
            }
        }
    });
    return deleted;
}

std::vector<PlanRow> Store::plans(const std::string& id, bool with_body) const {
    std::vector<PlanRow> out;
    OGRLayer* l = impl_->layer("plans");
    Fields fx(l->GetLayerDefn());
    if (!id.empty()) {
        for (char c : id)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return out;
        l->SetAttributeFilter(("id = '" + id + "'").c_str());
    }
    l->ResetReading();
    while (auto f = own(l->GetNextFeature()))
        out.push_back({str(*f, fx["id"]), str(*f, fx["name"]), str(*f, fx["created"]), str(*f, fx["token_name"]),
                       str(*f, fx["status"]), with_body ? str(*f, fx["body"]) : std::string()});
    l->SetAttributeFilter(nullptr);
    return out;
}

}  // namespace covermap::geo
