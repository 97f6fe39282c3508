#include "covermap/geo/store.hpp"

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
#include "covermap/geo/text.hpp"
#include "detail/ogr.hpp"
#include "detail/profile.hpp"

namespace covermap::geo {

using namespace detail;

namespace {

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

const std::vector<LayerSpec>& schema() {
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
        {"tokens",
         wkbNone,
         {{"name", OFTString},
          {"role", OFTString},
          {"hash", OFTString},
          {"created", OFTString},
          {"expires", OFTString},
          {"revoked", OFTString}}},
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
std::string join_ids(const std::vector<Id>& ids) { return dump_json(nlohmann::json(ids)); }

std::vector<Id> split_ids(const std::string& s) {
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
std::string quoted(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        q += c;
        if (c == '\'') q += '\'';
    }
    return q + "'";
}

}  // namespace

const std::string& change_origin() {
    static const std::string origin = [] {
        std::random_device rd;
        return std::to_string(::getpid()) + "-" + std::to_string(rd());
    }();
    return origin;
}

std::string change_channel(const std::string& uri) {
    // One channel per schema: stores in other schemas of the same database stay apart.
    std::string channel = "covermap";
    auto at = uri.find("active_schema=");
    if (at != std::string::npos)
        for (char c : uri.substr(at + 14, uri.find(' ', at) - at - 14))
            if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') channel += c;
    return channel;
}

namespace {

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

std::string str(const OGRFeature& f, int i) { return f.IsFieldSetAndNotNull(i) ? f.GetFieldAsString(i) : ""; }
std::optional<std::int64_t> opt_id(const OGRFeature& f, int i) {
    if (!f.IsFieldSetAndNotNull(i)) return std::nullopt;
    return f.GetFieldAsInteger64(i);
}
std::optional<Id> opt_text(const OGRFeature& f, int i) {
    if (!f.IsFieldSetAndNotNull(i)) return std::nullopt;
    return std::string(f.GetFieldAsString(i));
}
Point point_of(const OGRFeature& f) {
    const OGRGeometry* g = f.GetGeometryRef();
    if (!g || g->IsEmpty() || wkbFlatten(g->getGeometryType()) != wkbPoint) return {};
    auto* p = g->toPoint();
    return {p->getX(), p->getY()};
}

}  // namespace

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
            {"history_area_idx", "INDEX IF NOT EXISTS history_area_idx ON history(level, code)"}};
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
    void notify(const std::vector<Id>& ids, bool reload) const {
        if (!postgis()) return;
        nlohmann::json j = {{"origin", change_origin()}};
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

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;

const std::string& Store::uri() const { return impl_->uri; }
bool Store::is_postgis() const { return impl_->uri.rfind("PG:", 0) == 0; }

Store Store::open_existing(const std::string& uri) {
    if (uri.rfind("PG:", 0) != 0 && !std::filesystem::exists(uri))
        throw store_error("no store at " + uri + " (create one with `covermap demo` or `covermap import`)");
    return open(uri);
}

Store Store::open(const std::string& uri) {
    ensure_gdal();
    auto impl = std::make_unique<Impl>();
    impl->uri = uri;
    bool pg = uri.rfind("PG:", 0) == 0;
    if (pg || std::filesystem::exists(uri)) {
        const char* drivers[] = {pg ? "PostgreSQL" : "GPKG", nullptr};
        impl->ds.reset(GDALDataset::FromHandle(
            GDALOpenEx(uri.c_str(), GDAL_OF_VECTOR | GDAL_OF_UPDATE, drivers, nullptr, nullptr)));
        if (!impl->ds) {
            std::string why = CPLGetLastErrorMsg();
            if (why.empty() && !pg) {
                std::error_code ec;
                auto size = std::filesystem::file_size(uri, ec);
                if (::access(uri.c_str(), R_OK | W_OK) != 0)
                    why = std::string(std::strerror(errno)) + " (covermap needs to read and write it)";
                else if (std::filesystem::is_directory(uri))
                    why = "it is a folder, not a GeoPackage file";
                else
                    why = "not a GeoPackage (" + std::to_string(ec ? 0 : size) + " bytes, no SQLite header)";
            }
            throw store_error("cannot open store " + uri + ": " + (why.empty() ? "unknown reason" : why));
        }
    } else {
        auto* driver = GetGDALDriverManager()->GetDriverByName("GPKG");
        impl->ds.reset(driver->Create(uri.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
        if (!impl->ds) throw store_error("cannot create GeoPackage " + uri + ": " + CPLGetLastErrorMsg());
    }
    if (!pg) {
        // WAL lets the server read while a writer commits; a 64 MB page cache keeps a bulk
        // write from spilling pages to the WAL before its commit.
        impl->ds->ExecuteSQL("PRAGMA journal_mode=WAL", nullptr, nullptr);
        impl->ds->ExecuteSQL("PRAGMA cache_size=-65536", nullptr, nullptr);
    }
    impl->ensure_schema();
    return Store(std::move(impl));
}

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

// The organizations of a layer, in its order, each read into one reused record: the field
// indexes are resolved once (1.1 M organizations × 20 fields by name was a second).
template <class F>
void read_orgs(OGRLayer* l, const std::string& filter, F visit, bool ledger = true) {
    Fields fx(l->GetLayerDefn());
    const int id = fx["id"], name = fx["name"], kind = fx["kind"], credit_code = fx["credit_code"],
              industry = fx["industry"], employees = fx["employees"], party_members = fx["party_members"],
              status = fx["status"], above_scale = fx["above_scale"], branch_id = fx["branch_id"],
              instructor_id = fx["instructor_id"], version = fx["version"], address = fx["address"],
              person_in_charge = fx["person_in_charge"], phone = fx["phone"], no_branch_reason = fx["no_branch_reason"],
              measure = fx["measure"], location_precision = fx["location_precision"];
    l->SetAttributeFilter(filter.empty() ? nullptr : filter.c_str());
    if (!ledger) l->SetIgnoredFields(const_cast<const char**>(kLedgerFields));
    l->ResetReading();
    Organization o;
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
    l->SetAttributeFilter(nullptr);
    if (!ledger) l->SetIgnoredFields(nullptr);
}

}  // namespace

void Store::for_each_org(const std::function<void(const Organization&)>& visit, const std::string& filter) const {
    read_orgs(impl_->layer("orgs"), filter, [&](Organization& o) { visit(o); });
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

std::vector<Instructor> read_instructors(OGRLayer* l) {
    std::vector<Instructor> out;
    out.reserve(static_cast<std::size_t>(std::max<GIntBig>(0, l->GetFeatureCount(TRUE))));
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

std::vector<Branch> read_branches(OGRLayer* l) {
    std::vector<Branch> out;
    out.reserve(static_cast<std::size_t>(std::max<GIntBig>(0, l->GetFeatureCount(TRUE))));
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
// not shared between threads): OGR's time goes per feature, so both cores halve the wait for a
// million organizations. The work is cut into tasks (areas, instructors, branches, and the
// organizations in FID ranges) that the two take in turn; the ranges are joined in order.
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
    std::optional<std::pair<GIntBig, GIntBig>> range;
    if (count >= 100000 && std::thread::hardware_concurrency() > 1) range = fid_range(*impl_->ds, orgs);
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
    // the second connection's reading of areas, instructors and branches: those tasks come
    // first in the queue and need no organization; a range waits for the array.
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
    tasks.push_back([&](GDALDataset& ds) { d.instructors = read_instructors(layer_of(ds, "instructors")); });
    tasks.push_back([&](GDALDataset& ds) { d.branches = read_branches(layer_of(ds, "branches")); });
    for (std::size_t k = 0; k < static_cast<std::size_t>(parts); ++k)
        tasks.push_back([&, k](GDALDataset& ds) {
            ready.get();  // rethrows if the array could not be made
            std::size_t at = first[k];
            read_orgs(
                layer_of(ds, "orgs"), filters[k],
                [&](Organization& o) {
                    if (at < first[k + 1])
                        d.orgs[at++] = std::move(o);
                    else
                        beyond[k].push_back(std::move(o));
                },
                ledger);
            filled[k] = at - first[k];
        });

    std::atomic<std::size_t> next{0};
    std::exception_ptr failed;
    std::mutex failed_mutex;
    auto work = [&](GDALDataset& ds) {
        try {
            for (std::size_t t; (t = next.fetch_add(1)) < tasks.size();) {
                detail::ProfileLaps task("load");
                tasks[t](ds);
                task.lap("task " + std::to_string(t) + (&ds == impl_->ds.get() ? " (first connection)" : " (second)"));
            }
        } catch (...) {
            std::lock_guard lock(failed_mutex);
            if (!failed) failed = std::current_exception();
            next = tasks.size();
        }
    };
    std::thread other;
    if (range)
        other = std::thread([&] {
            DatasetPtr more(GDALDataset::FromHandle(
                GDALOpenEx(impl_->uri.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr)));
            if (more) work(*more);  // if a second connection fails, the first does all the work
        });
    try {
        d.orgs.reserve(first.back());
        prefer_huge_pages(d.orgs.data(), d.orgs.capacity() * sizeof(Organization));
        d.orgs.resize(first.back());
        resized.set_value();
    } catch (...) {
        resized.set_exception(std::current_exception());
    }
    profile.lap("resize");
    work(*impl_->ds);
    if (other.joinable()) other.join();
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

void Store::update_org(const Organization& after, std::int64_t expected_version, const AuditEntry& audit) {
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
        impl_->notify({after.id}, false);
    });
}

void Store::replace_orgs(const std::vector<Organization>& orgs, const std::vector<AuditEntry>& audit) {
    impl_->transaction([&] {
        impl_->indexes(false);
        OGRLayer* res = impl_->ds->ExecuteSQL("DELETE FROM orgs", nullptr, nullptr);
        if (res) impl_->ds->ReleaseResultSet(res);
        Dataset d;
        d.orgs = orgs;
        impl_->write(d);
        impl_->indexes(true);
        impl_->append_audit(audit);
        impl_->notify({}, true);
    });
}

void Store::commit_changes(const std::vector<OrgUpdate>& orgs, const std::vector<Branch>& new_branches,
                           const std::vector<AuditEntry>& audit, const std::vector<CapacityCheck>& capacity) {
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
        for (const auto& c : capacity) {
            impl_->lock_row("instructors", c.instructor_id);
            l->SetAttributeFilter(("instructor_id = " + quoted(c.instructor_id)).c_str());
            auto load = l->GetFeatureCount(TRUE);
            l->SetAttributeFilter(nullptr);
            if (load > c.capacity)
                throw conflict_error(conflict_error::Kind::over_capacity,
                                     "instructor " + c.instructor_id + " would cover " + std::to_string(load) +
                                         " organizations (capacity " + std::to_string(c.capacity) + ")");
        }
        Dataset branches;
        branches.branches = new_branches;
        impl_->write(branches);
        impl_->append_audit(audit);
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
                       str(*f, fx["expires"]), str(*f, fx["revoked"])});
    return out;
}

void Store::append(const Dataset& d) {
    impl_->transaction([&] {
        impl_->write(d);
        impl_->notify({}, true);
    });
}

}  // namespace covermap::geo

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

}  // namespace covermap::geo

namespace covermap::geo {

StoreLock StoreLock::acquire(const std::string& uri) {
    if (uri.rfind("PG:", 0) == 0) return StoreLock(-1);
    int fd = ::open(uri.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return StoreLock(-1);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        throw store_error(uri +
                          " is in use by another covermap process (a running server?): stop it first, or "
                          "make the change through the server's API");
    }
    return StoreLock(fd);
}

bool StoreLock::held_elsewhere(const std::string& uri) {
    try {
        acquire(uri);
        return false;
    } catch (const store_error&) {
        return true;
    }
}

StoreLock::~StoreLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace covermap::geo
