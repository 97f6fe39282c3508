#pragma once
// The store's internals, shared by its files (one per table group: store.cpp opens and locks,
// store_orgs.cpp the data set, store_tokens.cpp, store_plans.cpp, store_history.cpp): the
// schema, field access and the Impl every Store method works through. Not installed.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/store.hpp"
#include "covermap/geo/text.hpp"
#include "detail/ogr.hpp"
#include "detail/profile.hpp"

namespace covermap::geo {

using namespace detail;

namespace store_detail {

struct FieldSpec {
    const char* name;
    OGRFieldType type;
    OGRFieldSubType subtype = OFSTNone;
    int width = 0;
};

struct LayerSpec {
    const char* name;
    OGRwkbGeometryType geometry;
    std::vector<FieldSpec> fields;
};

inline const std::vector<LayerSpec>& schema() {
    static const std::vector<LayerSpec> layers = {
        {"areas",
         wkbMultiPolygon,
         {{"code", OFTString}, {"name", OFTString}, {"level", OFTString}, {"parent_code", OFTString}}},
        {"orgs",
         wkbPoint,
         {{"id", OFTString},
          {"name", OFTString},
          {"kind", OFTString},
          {"credit_code", OFTString, OFSTNone, 18},
          {"industry", OFTString},
          {"employees", OFTInteger},
          {"party_members", OFTInteger},
          {"status", OFTString},
          {"above_scale", OFTInteger},  // 0/1; a boolean subtype reads back wrong from a new PG table
          {"branch_id", OFTInteger64},
          {"instructor_id", OFTString},
          {"version", OFTInteger64},
          {"address", OFTString},
          {"person_in_charge", OFTString},
          {"phone", OFTString},
          {"no_branch_reason", OFTString},
          {"measure", OFTString},
          {"location_precision", OFTString}}},
        {"instructors",
         wkbPoint,
         {{"id", OFTString},
          {"name", OFTString},
          {"capacity", OFTInteger},
          {"industries", OFTString},
          {"unit", OFTString}}},
        {"branches",
         wkbNone,
         {{"id", OFTInteger64},
          {"name", OFTString},
          {"type", OFTString},
          {"members", OFTInteger},
          {"org_ids", OFTString}}},
        {"audit",
         wkbNone,
         {{"time", OFTString},
          {"token_name", OFTString},
          {"action", OFTString},
          {"org_id", OFTString},
          {"before", OFTString},
          {"after", OFTString}}},
        {"changes",
         wkbNone,
         {{"time", OFTString},
          {"token_name", OFTString},
          {"kind", OFTString},
          {"summary", OFTString},
          {"orgs", OFTString},
          {"orgs_before", OFTString},
          {"orgs_after", OFTString},
          {"branches_before", OFTString},
          {"branches_after", OFTString},
          {"reverts", OFTInteger64},
          {"reverted_by", OFTInteger64}}},
        {"tokens",
         wkbNone,
         {{"name", OFTString},
          {"role", OFTString},
          {"hash", OFTString},
          {"created", OFTString},
          {"expires", OFTString},
          {"revoked", OFTString},
          {"area", OFTString},
          {"instructor", OFTString}}},
        {"visits",
         wkbNone,
         {{"org", OFTString},
          {"date", OFTString},
          {"kind", OFTString},
          {"note", OFTString},
          {"ledger_confirmed", OFTInteger},
          {"by", OFTString},
          {"instructor", OFTString},
          {"time", OFTString},
          {"change_id", OFTInteger64},
          {"wuyou", OFTInteger},
          {"stars", OFTInteger},
          {"visit_key", OFTString}}},
        {"sites",
         wkbNone,
         {{"org", OFTString}, {"level", OFTString}, {"year", OFTInteger}, {"since", OFTString}, {"by", OFTString}}},
        {"site_quotas",
         wkbNone,
         {{"area", OFTString}, {"level", OFTString}, {"year", OFTInteger}, {"count", OFTInteger}}},
        {"contact_points",
         wkbNone,
         {{"leader", OFTString},
          {"post", OFTString},
          {"liaison", OFTString},
          {"org", OFTString},
          {"since", OFTString},
          {"by", OFTString}}},
        {"plans",
         wkbNone,
         {{"id", OFTString},
          {"name", OFTString},
          {"created", OFTString},
          {"token_name", OFTString},
          {"status", OFTString},
          {"body", OFTString}}},
        {"history",
         wkbNone,
         {{"date", OFTString},
          {"level", OFTString},
          {"code", OFTString},
          {"name", OFTString},
          {"scope", OFTString},
          {"orgs", OFTInteger64},
          {"operating", OFTInteger64},
          {"org_covered", OFTInteger64},
          {"standalone", OFTInteger64},
          {"work_covered", OFTInteger64},
          {"instructor_covered", OFTInteger64},
          {"with_members", OFTInteger64},
          {"branches_standalone", OFTInteger64},
          {"branches_joint", OFTInteger64},
          {"branches_affiliated", OFTInteger64},
          {"instructors", OFTInteger64}}},
        {"targets",
         wkbNone,
         {{"id", OFTString},
          {"metric", OFTString},
          {"scope", OFTString},
          {"level", OFTString},
          {"area", OFTString},
          {"value", OFTReal},
          {"baseline", OFTString},
          {"deadline", OFTString},
          {"note", OFTString}}},
    };
    return layers;
}

// A branch's organizations as a JSON array of ids (text ids may hold commas).
inline std::string join_ids(const std::vector<Id>& ids) { return dump_json(nlohmann::json(ids)); }

inline std::vector<Id> split_ids(const std::string& s) {
    auto j = nlohmann::json::parse(s, nullptr, false);
    std::vector<Id> ids;
    if (j.is_array()) {
        for (const auto& v : j) ids.push_back(v.is_string() ? v.get<std::string>() : v.dump());
        return ids;
    }
    // Stores written before text ids: "1,2,3".
    std::stringstream in(s);
    std::string part;
    while (std::getline(in, part, ','))
        if (!part.empty()) ids.push_back(part);
    return ids;
}

// SQL text literal for an attribute filter: quotes doubled.
inline std::string quoted(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        q += c;
        if (c == '\'') q += '\'';
    }
    return q + "'";
}

// Field access by name, resolved once per layer.
class Fields {
public:
    explicit Fields(OGRFeatureDefn* defn) {
        for (int i = 0; i < defn->GetFieldCount(); ++i) index_[defn->GetFieldDefn(i)->GetNameRef()] = i;
    }
    int operator[](const char* name) const {
        auto it = index_.find(name);
        if (it == index_.end()) throw store_error(std::string("store layer lacks field '") + name + "'");
        return it->second;
    }

private:
    std::unordered_map<std::string, int> index_;
};

inline std::string str(const OGRFeature& f, int i) { return f.IsFieldSetAndNotNull(i) ? f.GetFieldAsString(i) : ""; }
inline std::optional<std::int64_t> opt_id(const OGRFeature& f, int i) {
    if (!f.IsFieldSetAndNotNull(i)) return std::nullopt;
    return f.GetFieldAsInteger64(i);
}
inline std::optional<Id> opt_text(const OGRFeature& f, int i) {
    if (!f.IsFieldSetAndNotNull(i)) return std::nullopt;
    return std::string(f.GetFieldAsString(i));
}
inline Point point_of(const OGRFeature& f) {
    const OGRGeometry* g = f.GetGeometryRef();
    if (!g || g->IsEmpty() || wkbFlatten(g->getGeometryType()) != wkbPoint) return {};
    auto* p = g->toPoint();
    return {p->getX(), p->getY()};
}

/// A layer's attribute filter for one read (none when empty), cleared however the read ends:
/// the layer is the store's, shared by every later read.
class ScopedFilter {
public:
    ScopedFilter(OGRLayer* l, const std::string& filter) : l_(l) {
        l_->SetAttributeFilter(filter.empty() ? nullptr : filter.c_str());
    }
    ~ScopedFilter() { l_->SetAttributeFilter(nullptr); }
    ScopedFilter(const ScopedFilter&) = delete;
    ScopedFilter& operator=(const ScopedFilter&) = delete;

private:
    OGRLayer* l_;
};

/// The visits' marks on organizations in one scan of the visits layer (of those in `only`, when
/// given): the last day each ledger was confirmed into `verified`, the last 五有/星级 check into
/// `checks` (either may be null). A load takes both at once.
void visit_marks(OGRLayer* l, const std::vector<Id>* only, std::unordered_map<Id, std::string>* verified,
                 std::unordered_map<Id, BranchCheck>* checks);

}  // namespace store_detail

using namespace store_detail;

struct Store::Impl {
    std::string uri;
    DatasetPtr ds;

    OGRLayer* layer(const char* name) const {
        OGRLayer* l = ds->GetLayerByName(name);
        if (!l) throw store_error(std::string("store has no layer '") + name + "'");
        return l;
    }

    void ensure_schema() {
        for (const auto& spec : schema()) {
            if (OGRLayer* old = ds->GetLayerByName(spec.name)) {
                migrate(old, spec);
                add_missing_fields(ds->GetLayerByName(spec.name), spec);
                continue;
            }
            create_layer(spec);
        }
        indexes(true);
    }

    // Text ids are looked up by edits: one index each. A bulk replace drops them and builds
    // them once after the rows (much faster than keeping them up to date row by row).
    void indexes(bool create) {
        static const char* names[][2] = {
            {"orgs_id_idx", "UNIQUE INDEX IF NOT EXISTS orgs_id_idx ON orgs(id)"},
            {"instructors_id_idx", "UNIQUE INDEX IF NOT EXISTS instructors_id_idx ON instructors(id)"},
            {"orgs_instructor_idx", "INDEX IF NOT EXISTS orgs_instructor_idx ON orgs(instructor_id)"},
            {"history_date_idx", "INDEX IF NOT EXISTS history_date_idx ON history(date)"},
            {"history_area_idx", "INDEX IF NOT EXISTS history_area_idx ON history(level, code)"},
            {"visits_org_idx", "INDEX IF NOT EXISTS visits_org_idx ON visits(org)"},
            {"visits_date_idx", "INDEX IF NOT EXISTS visits_date_idx ON visits(date)"}};
        for (const auto& n : names) {
            auto sql = create ? std::string("CREATE ") + n[1] : std::string("DROP INDEX IF EXISTS ") + n[0];
            CPLErrorReset();
            OGRLayer* res = ds->ExecuteSQL(sql.c_str(), nullptr, nullptr);
            if (res) ds->ReleaseResultSet(res);
            if (create && CPLGetLastErrorType() == CE_Failure)
                throw store_error(std::string("cannot index the store: ") + CPLGetLastErrorMsg());
        }
    }

    void create_layer(const LayerSpec& spec) {
        {
            char** options = nullptr;
            options = CSLSetNameValue(options, "FID", "fid");
            if (spec.geometry != wkbNone) options = CSLSetNameValue(options, "GEOMETRY_NAME", "geom");
            OGRSpatialReference* srs = spec.geometry != wkbNone ? cgcs2000().Clone() : nullptr;
            OGRLayer* l = ds->CreateLayer(spec.name, srs, spec.geometry, options);
            if (srs) srs->Release();
            CSLDestroy(options);
            if (!l)
                throw store_error(std::string("cannot create layer '") + spec.name + "' in " + uri + ": " +
                                  CPLGetLastErrorMsg());
            for (const auto& f : spec.fields) {
                OGRFieldDefn defn(f.name, f.type);
                defn.SetSubType(f.subtype);
                if (f.width) defn.SetWidth(f.width);
                if (l->CreateField(&defn) != OGRERR_NONE)
                    throw store_error(std::string("cannot create field ") + f.name + ": " + CPLGetLastErrorMsg());
            }
        }
    }

    // Fields a newer covermap added (the ledger): created empty in an older store.
    void add_missing_fields(OGRLayer* l, const LayerSpec& spec) {
        for (const auto& f : spec.fields) {
            if (l->GetLayerDefn()->GetFieldIndex(f.name) >= 0) continue;
            OGRFieldDefn defn(f.name, f.type);
            if (l->CreateField(&defn) != OGRERR_NONE)
                throw store_error(std::string("cannot add field ") + f.name + " to " + spec.name + ": " +
                                  CPLGetLastErrorMsg());
        }
    }

    // A store written by an older covermap (integer ids): the layer is rewritten with the
    // current field types, in one transaction; values are carried over as text.
    void migrate(OGRLayer* old, const LayerSpec& spec) {
        OGRFeatureDefn* defn = old->GetLayerDefn();
        bool stale = false;
        for (const auto& f : spec.fields) {
            int i = defn->GetFieldIndex(f.name);
            if (i >= 0 && defn->GetFieldDefn(i)->GetType() != f.type) stale = true;
        }
        if (!stale) return;
        struct Row {
            std::vector<std::pair<std::string, std::optional<std::string>>> values;
            std::unique_ptr<OGRGeometry> geometry;
        };
        std::vector<Row> rows;
        old->ResetReading();
        while (auto f = own(old->GetNextFeature())) {
            Row r;
            for (int i = 0; i < defn->GetFieldCount(); ++i)
                r.values.emplace_back(
                    defn->GetFieldDefn(i)->GetNameRef(),
                    f->IsFieldSetAndNotNull(i) ? std::optional<std::string>(f->GetFieldAsString(i)) : std::nullopt);
            if (f->GetGeometryRef()) r.geometry.reset(f->GetGeometryRef()->clone());
            rows.push_back(std::move(r));
        }
        transaction([&] {
            for (int i = 0; i < ds->GetLayerCount(); ++i)
                if (std::string(ds->GetLayer(i)->GetName()) == spec.name) {
                    if (ds->DeleteLayer(i) != OGRERR_NONE)
                        throw store_error(std::string("cannot migrate layer ") + spec.name + ": " +
                                          CPLGetLastErrorMsg());
                    break;
                }
            create_layer(spec);
            OGRLayer* l = layer(spec.name);
            for (auto& r : rows) {
                auto f = make_feature(l->GetLayerDefn());
                for (auto& [name, value] : r.values) {
                    int i = f->GetFieldIndex(name.c_str());
                    if (i < 0) continue;
                    if (value)
                        f->SetField(i, value->c_str());
                    else
                        f->SetFieldNull(i);
                }
                if (r.geometry) f->SetGeometryDirectly(r.geometry.release());
                create(l, *f);
            }
        });
    }

    // Runs body inside one transaction; rolls back and rethrows on any failure.
    template <class Body>
    void transaction(Body&& body) {
        if (ds->StartTransaction(TRUE) != OGRERR_NONE)
            throw store_error("cannot start a transaction on " + uri + ": " + CPLGetLastErrorMsg());
        try {
            body();
        } catch (...) {
            ds->RollbackTransaction();
            throw;
        }
        if (ds->CommitTransaction() != OGRERR_NONE)
            throw store_error("cannot commit to " + uri + ": " + CPLGetLastErrorMsg());
    }

    void create(OGRLayer* l, OGRFeature& f) {
        if (l->CreateFeature(&f) != OGRERR_NONE)
            throw store_error(std::string("cannot write to ") + l->GetName() + ": " + CPLGetLastErrorMsg());
    }

    // Every field of an organization's row, and its point: one place for every write.
    static void set_org(OGRFeature& f, const Fields& fx, const Organization& o) {
        f.SetField(fx["id"], o.id.c_str());
        f.SetField(fx["name"], o.name.c_str());
        f.SetField(fx["kind"], std::string(to_string(o.kind)).c_str());
        f.SetField(fx["credit_code"], o.credit_code.c_str());
        f.SetField(fx["industry"], o.industry.c_str());
        f.SetField(fx["employees"], o.employees);
        f.SetField(fx["party_members"], o.party_members);
        f.SetField(fx["status"], std::string(to_string(o.status)).c_str());
        f.SetField(fx["above_scale"], o.above_scale ? 1 : 0);
        if (o.branch_id)
            f.SetField(fx["branch_id"], static_cast<GIntBig>(*o.branch_id));
        else
            f.SetFieldNull(fx["branch_id"]);
        if (o.instructor_id)
            f.SetField(fx["instructor_id"], o.instructor_id->c_str());
        else
            f.SetFieldNull(fx["instructor_id"]);
        f.SetField(fx["version"], static_cast<GIntBig>(o.version));
        const Ledger& l = o.ledger();
        for (auto [name, value] : {std::pair<const char*, const std::string*>{"address", &l.address},
                                   {"person_in_charge", &l.person_in_charge},
                                   {"phone", &l.phone},
                                   {"no_branch_reason", &l.no_branch_reason},
                                   {"measure", &l.measure},
                                   {"location_precision", &l.location_precision}})
            f.SetField(fx[name], value->c_str());
        f.SetGeometryDirectly(to_ogr(o.location).release());
    }

    // Compare-and-swap inside a transaction: the organization's row as stored now (not as a
    // process remembers it), if its version is `expected`; else conflict_error.
    bool postgis() const { return uri.rfind("PG:", 0) == 0; }

    // PostGIS: the row is locked until the transaction ends (SELECT … FOR UPDATE), so two
    // processes comparing the same version or counting the same instructor's load take turns;
    // the comparison that follows reads the row as the other committed it. A GeoPackage has one
    // writer at a time anyway.
    void lock_row(const char* table, const Id& id) const {
        if (!postgis()) return;
        auto sql = std::string("SELECT id FROM ") + table + " WHERE id = " + quoted(id) + " FOR UPDATE";
        OGRLayer* r = ds->ExecuteSQL(sql.c_str(), nullptr, nullptr);
        if (!r) throw store_error("cannot lock " + std::string(table) + " " + id + ": " + CPLGetLastErrorMsg());
        while (auto f = own(r->GetNextFeature())) {
        }
        ds->ReleaseResultSet(r);
    }

    // PostGIS: tells the other processes on this database what changed, delivered when the
    // transaction commits (pg_notify is transactional): {"origin", "orgs": [ids]} or
    // {"origin", "reload": true}.
    mutable std::int64_t last_change = 0;  // set by append_change, sent and cleared by notify
    void notify(const std::vector<Id>& ids, bool reload) const {
        if (!postgis()) return;
        nlohmann::json j = {{"origin", change_origin()}};
        if (last_change) j["change"] = last_change;  // the change row this transaction wrote
        last_change = 0;
        if (reload || ids.size() > 200)
            j["reload"] = true;
        else
            j["orgs"] = ids;
        auto sql = "SELECT pg_notify(" + quoted(change_channel(uri)) + ", " + quoted(dump_json(j)) + ")";
        OGRLayer* r = ds->ExecuteSQL(sql.c_str(), nullptr, nullptr);
        if (r) {
            while (auto f = own(r->GetNextFeature())) {
            }
            ds->ReleaseResultSet(r);
        }
    }

    FeaturePtr stored_org(OGRLayer* l, const Fields& fx, const Id& id, std::int64_t expected) const {
        lock_row("orgs", id);
        l->SetAttributeFilter(("id = " + quoted(id)).c_str());
        l->ResetReading();
        auto f = own(l->GetNextFeature());
        l->SetAttributeFilter(nullptr);
        if (!f) throw conflict_error(conflict_error::Kind::missing, "no organization " + id + " in the store");
        auto stored = f->GetFieldAsInteger64(fx["version"]);
        if (stored != expected)
            throw conflict_error(conflict_error::Kind::stale_version, "organization " + id + " is at version " +
                                                                          std::to_string(stored) + ", not " +
                                                                          std::to_string(expected));
        return f;
    }

    // Inside a transaction: each instructor's load, as the store now has it, within capacity.
    void check_capacity(const std::vector<CapacityCheck>& capacity) {
        OGRLayer* l = layer("orgs");
        for (const auto& c : capacity) {
            lock_row("instructors", c.instructor_id);
            l->SetAttributeFilter(("instructor_id = " + quoted(c.instructor_id)).c_str());
            auto load = l->GetFeatureCount(TRUE);
            l->SetAttributeFilter(nullptr);
            if (load > c.capacity)
                throw conflict_error(conflict_error::Kind::over_capacity,
                                     "instructor " + c.instructor_id + " would cover " + std::to_string(load) +
                                         " organizations (capacity " + std::to_string(c.capacity) + ")");
        }
    }

    void append_audit(const std::vector<AuditEntry>& audit) {
        OGRLayer* a = layer("audit");
        Fields ax(a->GetLayerDefn());
        for (const auto& e : audit) {
            auto f = make_feature(a->GetLayerDefn());
            f->SetField(ax["time"], e.time.c_str());
            f->SetField(ax["token_name"], e.token_name.c_str());
            f->SetField(ax["action"], e.action.c_str());
            f->SetField(ax["org_id"], e.org_id.c_str());
            f->SetField(ax["before"], e.before.c_str());
            f->SetField(ax["after"], e.after.c_str());
            create(a, *f);
        }
    }

    // The change row (its id is the row's FID, which the store numbers: unique across processes).
    void append_change(ChangeRow& c) {
        OGRLayer* l = layer("changes");
        Fields fx(l->GetLayerDefn());
        auto f = make_feature(l->GetLayerDefn());
        f->SetField(fx["time"], c.time.c_str());
        f->SetField(fx["token_name"], c.token_name.c_str());
        f->SetField(fx["kind"], c.kind.c_str());
        f->SetField(fx["summary"], c.summary.c_str());
        f->SetField(fx["orgs"], join_ids(c.orgs).c_str());
        f->SetField(fx["orgs_before"], c.orgs_before.c_str());
        f->SetField(fx["orgs_after"], c.orgs_after.c_str());
        f->SetField(fx["branches_before"], c.branches_before.c_str());
        f->SetField(fx["branches_after"], c.branches_after.c_str());
        if (c.reverts) f->SetField(fx["reverts"], static_cast<GIntBig>(*c.reverts));
        create(l, *f);
        c.id = f->GetFID();
        last_change = c.id;
        if (c.reverts) {  // the change it undoes says so
            auto old = own(l->GetFeature(*c.reverts));
            if (!old) throw conflict_error(conflict_error::Kind::missing, "no change " + std::to_string(*c.reverts));
            if (!old->IsFieldNull(fx["reverted_by"]) && old->IsFieldSet(fx["reverted_by"]))
                throw conflict_error(conflict_error::Kind::stale_version,
                                     "change " + std::to_string(*c.reverts) + " was already reverted");
            old->SetField(fx["reverted_by"], static_cast<GIntBig>(c.id));
            if (l->SetFeature(old.get()) != OGRERR_NONE)
                throw store_error("cannot mark change " + std::to_string(*c.reverts) + ": " + CPLGetLastErrorMsg());
        }
    }

    void write(const Dataset& d) {
        {
            OGRLayer* l = layer("areas");
            Fields fx(l->GetLayerDefn());
            for (const auto& a : d.areas) {
                auto f = make_feature(l->GetLayerDefn());
                f->SetField(fx["code"], a.code.c_str());
                f->SetField(fx["name"], a.name.c_str());
                f->SetField(fx["level"], std::string(to_string(a.level)).c_str());
                if (!a.parent_code.empty()) f->SetField(fx["parent_code"], a.parent_code.c_str());
                f->SetGeometryDirectly(to_ogr(a.shape).release());
                create(l, *f);
            }
        }
        {
            OGRLayer* l = layer("orgs");
            Fields fx(l->GetLayerDefn());
            for (const auto& o : d.orgs) {
                auto f = make_feature(l->GetLayerDefn());
                set_org(*f, fx, o);  // the FID stays the store's own
                create(l, *f);
            }
        }
        {
            OGRLayer* l = layer("instructors");
            Fields fx(l->GetLayerDefn());
            for (const auto& in : d.instructors) {
                auto f = make_feature(l->GetLayerDefn());
                f->SetField(fx["id"], in.id.c_str());
                f->SetField(fx["name"], in.name.c_str());
                f->SetField(fx["capacity"], in.capacity);
                f->SetField(fx["industries"], in.industries.c_str());
                f->SetField(fx["unit"], in.unit.c_str());
                f->SetGeometryDirectly(to_ogr(in.home).release());
                create(l, *f);
            }
        }
        {
            OGRLayer* l = layer("branches");
            Fields fx(l->GetLayerDefn());
            for (const auto& b : d.branches) {
                auto f = make_feature(l->GetLayerDefn());
                f->SetFID(b.id);
                f->SetField(fx["id"], static_cast<GIntBig>(b.id));
                f->SetField(fx["name"], b.name.c_str());
                f->SetField(fx["type"], std::string(to_string(b.type)).c_str());
                f->SetField(fx["members"], b.members);
                f->SetField(fx["org_ids"], join_ids(b.org_ids).c_str());
                create(l, *f);
            }
        }
    }
};

}  // namespace covermap::geo
