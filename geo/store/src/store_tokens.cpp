// API tokens in the store: only their hashes.
#include "store_impl.hpp"

namespace covermap::geo {

void Store::add_token(const TokenRow& t) {
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("tokens");
        Fields fx(l->GetLayerDefn());
        auto f = make_feature(l->GetLayerDefn());
        f->SetField(fx["name"], t.name.c_str());
        f->SetField(fx["role"], t.role.c_str());
        f->SetField(fx["hash"], t.hash.c_str());
        f->SetField(fx["created"], t.created.c_str());
        if (!t.expires.empty()) f->SetField(fx["expires"], t.expires.c_str());
        if (!t.area.empty()) f->SetField(fx["area"], t.area.c_str());
        if (!t.instructor.empty()) f->SetField(fx["instructor"], t.instructor.c_str());
        impl_->create(l, *f);
    });
}

int Store::revoke_tokens(const std::string& name, const std::string& when) {
    int n = 0;
    impl_->transaction([&] {
        OGRLayer* l = impl_->layer("tokens");
        Fields fx(l->GetLayerDefn());
        l->SetAttributeFilter(("name = " + quoted(name)).c_str());
        l->ResetReading();
        std::vector<FeaturePtr> rows;
        while (auto f = own(l->GetNextFeature())) rows.push_back(std::move(f));
        l->SetAttributeFilter(nullptr);
        for (auto& f : rows) {
            if (f->IsFieldSetAndNotNull(fx["revoked"]) && !str(*f, fx["revoked"]).empty()) continue;
            f->SetField(fx["revoked"], when.c_str());
            if (l->SetFeature(f.get()) != OGRERR_NONE)
                throw store_error("cannot revoke token " + name + ": " + CPLGetLastErrorMsg());
            ++n;
        }
    });
    return n;
}

std::vector<TokenRow> Store::tokens() const {
    std::vector<TokenRow> out;
    OGRLayer* l = impl_->layer("tokens");
    Fields fx(l->GetLayerDefn());
    l->ResetReading();
    while (auto f = own(l->GetNextFeature()))
        out.push_back({str(*f, fx["name"]), str(*f, fx["role"]), str(*f, fx["hash"]), str(*f, fx["created"]),
                       str(*f, fx["expires"]), str(*f, fx["revoked"]), str(*f, fx["area"]), str(*f, fx["instructor"])});
    return out;
}

std::string Store::area_level(const std::string& code) const {
    OGRLayer* l = impl_->layer("areas");
    Fields fx(l->GetLayerDefn());
    l->SetAttributeFilter(("code = " + quoted(code)).c_str());
    l->ResetReading();
    auto f = own(l->GetNextFeature());
    l->SetAttributeFilter(nullptr);
    return f ? str(*f, fx["level"]) : "";
}

bool Store::has_instructor(const std::string& id) const {
    OGRLayer* l = impl_->layer("instructors");
    l->SetAttributeFilter(("id = " + quoted(id)).c_str());
    l->ResetReading();
    bool found = own(l->GetNextFeature()) != nullptr;
    l->SetAttributeFilter(nullptr);
    return found;
}

}  // namespace covermap::geo
