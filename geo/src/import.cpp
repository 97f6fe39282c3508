#include "covermap/geo/import.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "covermap/geo/error.hpp"
#include "covermap/geo/gcj02.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/text.hpp"
#include "detail/ogr.hpp"

namespace covermap::geo {

using namespace detail;

std::optional<ImportKind> parse_import_kind(const std::string& s) {
    if (s == "areas") return ImportKind::areas;
    if (s == "orgs") return ImportKind::orgs;
    if (s == "instructors") return ImportKind::instructors;
    return std::nullopt;
}

namespace {

bool ends_with_ci(const std::string& s, const std::string& suffix) {
    if (s.size() < suffix.size()) return false;
    return std::equal(suffix.rbegin(), suffix.rend(), s.rbegin(),
                      [](char a, char b) { return std::tolower(a) == std::tolower(b); });
}

// The encodings a Chinese registry file comes in; anything else is refused (the name would
// otherwise reach iconv unchecked).
std::string cpl_encoding(const std::string& e) {
    std::string u;
    for (char c : e) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (u == "GBK" || u == "GB2312" || u == "CP936") return "CP936";
    if (u == "GB18030") return "GB18030";
    if (u == "UTF8" || u == "UTF-8") return "UTF-8";
    throw invalid_argument("encoding must be UTF-8, GBK (CP936) or GB18030, not '" + e + "'");
}

// A file's bytes are UTF-8 (with or without BOM), else taken as GBK: the two encodings
// Chinese registry extracts come in.
bool file_is_utf8(const std::string& path) {
    VSILFILE* f = VSIFOpenL(path.c_str(), "rb");
    if (!f) return true;  // OGR reports the open error
    std::string bytes;
    char buf[1 << 16];
    for (std::size_t n; (n = VSIFReadL(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, n);
    VSIFCloseL(f);
    return valid_utf8(bytes);
}

// One source being read: names the file and the current row in every error.
class Reader {
public:
    Reader(const ImportParams& p) : p_(p) {
        ensure_gdal();
        csv_ = ends_with_ci(p.source, ".csv");
        char** options = nullptr;
        std::string encoding = p.encoding.empty() ? "" : cpl_encoding(p.encoding);
        if (encoding.empty() && csv_ && !file_is_utf8(p.source)) {
            encoding = "CP936";
            detected_ = "the file is not UTF-8: read as GBK (pass --encoding to choose)";
        }
        GDALDriverH driver = GDALIdentifyDriverEx(p.source.c_str(), GDAL_OF_VECTOR, nullptr, nullptr);
        bool shapefile = driver && std::string(GDALGetDriverShortName(driver)) == "ESRI Shapefile";
        if (csv_) {
            options = CSLSetNameValue(options, "AUTODETECT_TYPE", "NO");
            options = CSLSetNameValue(options, "KEEP_GEOM_COLUMNS", "YES");
            options = CSLSetNameValue(options, "EMPTY_STRING_AS_NULL", "YES");
        }
        if (shapefile && !encoding.empty()) {
            options = CSLSetNameValue(options, "ENCODING", encoding.c_str());
        } else if (!encoding.empty() && encoding != "UTF-8") {
            recode_from_ = encoding;
        }
        std::vector<const char*> drivers;
        for (const auto& d : p.drivers) drivers.push_back(d.c_str());
        drivers.push_back(nullptr);
        CPLErrorReset();
        ds_.reset(GDALDataset::FromHandle(GDALOpenEx(p.source.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY,
                                                     p.drivers.empty() ? nullptr : drivers.data(), options, nullptr)));
        CSLDestroy(options);
        if (!ds_)
            fail("", std::string("cannot open: ") +
                         (CPLGetLastErrorMsg()[0] ? CPLGetLastErrorMsg() : "not a format OGR reads"));
        layer_ = p.layer.empty() ? ds_->GetLayer(0) : ds_->GetLayerByName(p.layer.c_str());
        if (!layer_) fail("", p.layer.empty() ? "has no layer" : "has no layer named '" + p.layer + "'");
        setup_crs();
    }

    [[noreturn]] void fail(const std::string& where, const std::string& problem) const {
        throw format_error(p_.source, where, problem);
    }

    std::string where(const OGRFeature& f) const {
        // OGR's CSV FIDs count data rows from 1: the file line is one more (the header).
        return csv_ ? "line " + std::to_string(f.GetFID() + 1) : "feature " + std::to_string(f.GetFID());
    }

    OGRLayer* layer() { return layer_; }
    bool csv() const { return csv_; }
    const std::string& detected_encoding() const { return detected_; }

    // A column by its contract name or its 10-byte shapefile alias (party_mbr…).
    int field(const char* name, bool required) const {
        static const std::map<std::string, std::string> alias = {{"credit_code", "cred_code"},
                                                                 {"party_members", "party_mbr"},
                                                                 {"above_scale", "above_scl"},
                                                                 {"instructor_id", "instr_id"},
                                                                 {"parent_code", "parent_cd"}};
        int i = layer_->GetLayerDefn()->GetFieldIndex(name);
        if (auto a = alias.find(name); i < 0 && a != alias.end())
            i = layer_->GetLayerDefn()->GetFieldIndex(a->second.c_str());
        if (i < 0 && required) fail("", std::string("missing required column '") + name + "'");
        return i;
    }
    int field_any(std::initializer_list<const char*> names) const {
        for (auto* n : names)
            if (int i = layer_->GetLayerDefn()->GetFieldIndex(n); i >= 0) return i;
        return -1;
    }

    std::string text(const OGRFeature& f, int i) const {
        if (i < 0 || !f.IsFieldSetAndNotNull(i)) return "";
        std::string s = f.GetFieldAsString(i);
        if (!recode_from_.empty()) {
            char* r = CPLRecode(s.c_str(), recode_from_.c_str(), CPL_ENC_UTF8);
            s = r;
            CPLFree(r);
        }
        if (!valid_utf8(s))
            fail(where(f), std::string("column '") + layer_->GetLayerDefn()->GetFieldDefn(i)->GetNameRef() +
                               "' is not valid UTF-8 text: pass --encoding GBK (or the file's encoding)");
        // Trim surrounding blanks, common in hand-made spreadsheets.
        auto b = s.find_first_not_of(" \t\r\n");
        auto e = s.find_last_not_of(" \t\r\n");
        return b == std::string::npos ? "" : s.substr(b, e - b + 1);
    }

    // A key (id, instructor_id): text as given. Spreadsheets and DBFs store numeric keys as
    // reals ("12.0"): an integral real is written as the integer it is.
    Id key(const OGRFeature& f, int i, const char* name) const {
        auto s = required_text(f, i, name);
        if (layer_->GetLayerDefn()->GetFieldDefn(i)->GetType() == OFTReal) {
            double d = f.GetFieldAsDouble(i);
            if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0) s = std::to_string(static_cast<long long>(d));
        }
        if (s.size() > 64) fail(where(f), std::string(name) + " is longer than 64 bytes");
        if (std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
            fail(where(f), std::string(name) + " contains control characters");
        return s;
    }

    std::string required_text(const OGRFeature& f, int i, const char* name) const {
        auto s = text(f, i);
        if (s.empty()) fail(where(f), std::string("empty ") + name);
        return s;
    }

    std::optional<long long> integer(const OGRFeature& f, int i, const char* name) const {
        auto s = text(f, i);
        if (s.empty()) return std::nullopt;
        long long v = 0;
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec == std::errc::result_out_of_range) fail(where(f), std::string(name) + " '" + s + "' is out of range");
        if (ec != std::errc() || ptr != s.data() + s.size()) {
            // Shapefiles and spreadsheets often write integers as "12.0".
            double d = 0;
            auto [p2, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
            if (ec2 != std::errc() || p2 != s.data() + s.size() || !std::isfinite(d) || d != std::floor(d))
                fail(where(f), std::string(name) + " '" + s + "' is not an integer");
            // Past 2^53 a double no longer holds every integer, and past 2^63 the cast is undefined.
            if (std::fabs(d) > 9007199254740992.0) fail(where(f), std::string(name) + " '" + s + "' is out of range");
            v = static_cast<long long>(d);
        }
        return v;
    }

    // An integer count within [lo, hi]; absent cells give def.
    int count(const OGRFeature& f, int i, const char* name, int def, long long hi) const {
        auto v = integer(f, i, name);
        if (!v) return def;
        if (*v < 0) fail(where(f), std::string(name) + " " + std::to_string(*v) + " is negative");
        if (*v > hi)
            fail(where(f), std::string(name) + " " + std::to_string(*v) + " is out of range (at most " +
                               std::to_string(hi) + ")");
        return static_cast<int>(*v);
    }

    double number(const OGRFeature& f, int i, const char* name) const {
        auto s = text(f, i);
        if (s.empty()) fail(where(f), std::string("empty ") + name);
        double d = 0;
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
        if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(d))
            fail(where(f), std::string(name) + " '" + s + "' is not a number");
        return d;
    }

    // Source coordinates to EPSG:4490 (and out of GCJ-02 when asked).
    Point to_store(Point p, const OGRFeature& f) const {
        if (transform_) {
            double x = p.x, y = p.y;
            if (!transform_->Transform(1, &x, &y)) fail(where(f), "cannot transform coordinates to EPSG:4490");
            p = {x, y};
        }
        if (!std::isfinite(p.x) || !std::isfinite(p.y) || std::fabs(p.x) > 180 || std::fabs(p.y) > 90)
            fail(where(f), "coordinates (" + std::to_string(p.x) + ", " + std::to_string(p.y) +
                               ") are not longitude/latitude after reprojection: wrong CRS? pass --srs EPSG:n");
        if (p_.gcj02) p = gcj02_to_wgs84(p);
        return p;
    }

    Point point(const OGRFeature& f) const {
        if (csv_ && x_ >= 0 && y_ >= 0) return to_store({number(f, x_, "longitude"), number(f, y_, "latitude")}, f);
        const OGRGeometry* g = f.GetGeometryRef();
        if (!g || g->IsEmpty()) fail(where(f), "no point geometry");
        auto type = wkbFlatten(g->getGeometryType());
        if (type == wkbMultiPoint && g->toMultiPoint()->getNumGeometries() == 1)
            g = g->toMultiPoint()->getGeometryRef(0);
        else if (type != wkbPoint)
            fail(where(f), std::string("expected a point, found ") + g->getGeometryName());
        return to_store({g->toPoint()->getX(), g->toPoint()->getY()}, f);
    }

    MultiPolygon polygons(const OGRFeature& f) const {
        const OGRGeometry* g = f.GetGeometryRef();
        if (!g) fail(where(f), "no geometry");
        auto type = wkbFlatten(g->getGeometryType());
        if (!g->IsEmpty() && type != wkbPolygon && type != wkbMultiPolygon && type != wkbGeometryCollection &&
            type != wkbCurvePolygon && type != wkbMultiSurface)
            fail(where(f), std::string("expected a polygon, found ") + g->getGeometryName());
        MultiPolygon mp = from_ogr_polygons(g);
        for (auto& poly : mp) {
            for (auto& p : poly.exterior) p = to_store(p, f);
            for (auto& h : poly.holes)
                for (auto& p : h) p = to_store(p, f);
        }
        return mp;
    }

    // Surfaces any read error OGR reported while iterating (truncated files…).
    void check_read_errors() const {
        if (CPLGetLastErrorType() == CE_Failure) fail("", std::string("read error: ") + CPLGetLastErrorMsg());
    }

private:
    void setup_crs() {
        OGRSpatialReference src;
        if (!p_.srs.empty()) {
            try {
                src = srs_from(p_.srs);
            } catch (const invalid_argument&) {
                fail("", "unknown CRS '" + p_.srs + "' (--srs)");
            }
        } else if (const OGRSpatialReference* s = layer_->GetSpatialRef()) {
            src = *s;
            src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        } else if (csv_) {
            src = cgcs2000();  // lon/lat columns: CGCS2000 (WGS84 differs by centimetres)
        } else {
            fail("", "no CRS (a shapefile without .prj?): pass --srs EPSG:n");
        }
        if (csv_) {
            x_ = field_any({"lon", "lng", "longitude", "x"});
            y_ = field_any({"lat", "latitude", "y"});
            if ((x_ < 0 || y_ < 0) && layer_->GetGeomType() == wkbNone)
                fail("", "missing coordinate columns 'lon,lat' (or 'x,y')");
        }
        if (!src.IsSame(&cgcs2000())) {
            transform_.reset(OGRCreateCoordinateTransformation(&src, &cgcs2000()));
            if (!transform_) fail("", "no transformation from the source CRS to EPSG:4490");
        }
    }

    const ImportParams& p_;
    bool csv_ = false;
    DatasetPtr ds_;
    OGRLayer* layer_ = nullptr;
    std::string recode_from_;
    std::string detected_;
    std::unique_ptr<OGRCoordinateTransformation> transform_;
    int x_ = -1, y_ = -1;
};

bool parse_bool(const std::string& s, bool* out) {
    static const std::set<std::string> yes = {"1", "true", "TRUE", "True", "yes", "Y", "y", "是", "T", "t"};
    static const std::set<std::string> no = {"0", "false", "FALSE", "False", "no", "N", "n", "否", "F", "f"};
    if (yes.count(s)) {
        *out = true;
        return true;
    }
    if (no.count(s)) {
        *out = false;
        return true;
    }
    return false;
}

void read_areas(Reader& r, const ImportParams& p, Dataset& d, ImportReport& report) {
    int code = r.field("code", true), name = r.field("name", true);
    int level = r.field("level", !p.level), parent = r.field("parent_code", false);
    std::set<std::string> codes;
    OGRLayer* layer = r.layer();
    layer->ResetReading();
    CPLErrorReset();
    while (auto f = own(layer->GetNextFeature())) {
        Area a;
        a.code = r.required_text(*f, code, "code");
        a.name = r.required_text(*f, name, "name");
        if (p.level) {
            a.level = *p.level;
        } else {
            auto l = parse_level(r.text(*f, level));
            if (!l) r.fail(r.where(*f), "unknown level '" + r.text(*f, level) + "'");
            a.level = *l;
        }
        a.parent_code = r.text(*f, parent);
        if (!codes.insert(a.code).second) r.fail(r.where(*f), "duplicate area code " + a.code);
        a.shape = r.polygons(*f);
        std::string reason;
        if (a.shape.empty() || !is_valid(a.shape, &reason)) {
            a.shape = make_valid(a.shape);
            report.repaired.push_back(r.where(*f) + " (code " + a.code +
                                      "): " + (reason.empty() ? "empty geometry" : reason) +
                                      (a.shape.empty() ? "; no area left after repair, kept without geometry"
                                                       : "; repaired with make-valid"));
        }
        d.areas.push_back(std::move(a));
    }
    r.check_read_errors();
}

void read_orgs(Reader& r, Dataset& d) {
    int id = r.field("id", false), name = r.field("name", true), kind = r.field("kind", true);
    int employees = r.field("employees", true), members = r.field("party_members", true);
    int status = r.field("status", true);
    int credit = r.field("credit_code", false), industry = r.field("industry", false);
    int above = r.field("above_scale", false), branch = r.field("branch_id", false);
    int instructor = r.field("instructor_id", false);
    if (id < 0 && credit < 0) r.fail("", "missing column 'id' (or 'credit_code', which then serves as the id)");
    std::set<Id> ids;
    OGRLayer* layer = r.layer();
    layer->ResetReading();
    CPLErrorReset();
    while (auto f = own(layer->GetNextFeature())) {
        Organization o;
        o.id = r.key(*f, id >= 0 ? id : credit, id >= 0 ? "id" : "credit_code");
        if (!ids.insert(o.id).second) r.fail(r.where(*f), "duplicate id " + o.id);
        o.name = r.required_text(*f, name, "name");
        auto k = parse_org_kind(r.text(*f, kind));
        if (!k) r.fail(r.where(*f), "kind '" + r.text(*f, kind) + "' is not enterprise or social");
        o.kind = *k;
        o.credit_code = r.text(*f, credit);
        o.industry = r.text(*f, industry);
        // Bounds a real organization stays far within (the largest employers have ~10^6).
        o.employees = r.count(*f, employees, "employees", 0, 100'000'000);
        o.party_members = r.count(*f, members, "party_members", 0, 10'000'000);
        auto st = parse_org_status(r.text(*f, status));
        if (!st) r.fail(r.where(*f), "status '" + r.text(*f, status) + "' is not operating, suspended or deregistered");
        o.status = *st;
        if (auto s = r.text(*f, above); !s.empty() && !parse_bool(s, &o.above_scale))
            r.fail(r.where(*f), "above_scale '" + s + "' is not a boolean");
        if (auto b = r.integer(*f, branch, "branch_id")) o.branch_id = *b;
        if (instructor >= 0 && !r.text(*f, instructor).empty())
            o.instructor_id = r.key(*f, instructor, "instructor_id");
        o.location = r.point(*f);
        d.orgs.push_back(std::move(o));
    }
    r.check_read_errors();
}

void read_instructors(Reader& r, Dataset& d) {
    int id = r.field("id", true), name = r.field("name", true);
    int capacity = r.field("capacity", false), industries = r.field("industries", false);
    int unit = r.field("unit", false);
    std::set<Id> ids;
    OGRLayer* layer = r.layer();
    layer->ResetReading();
    CPLErrorReset();
    while (auto f = own(layer->GetNextFeature())) {
        Instructor in;
        in.id = r.key(*f, id, "id");
        if (!ids.insert(in.id).second) r.fail(r.where(*f), "duplicate id " + in.id);
        in.name = r.required_text(*f, name, "name");
        in.capacity = r.count(*f, capacity, "capacity", 5, 10'000);
        in.industries = r.text(*f, industries);
        in.unit = r.text(*f, unit);
        in.home = r.point(*f);
        d.instructors.push_back(std::move(in));
    }
    r.check_read_errors();
}

}  // namespace

const std::vector<std::string>& upload_drivers() {
    static const std::vector<std::string> drivers = {"CSV", "GeoJSON", "GPKG", "ESRI Shapefile", "KML", "LIBKML"};
    return drivers;
}

Dataset read_source(const ImportParams& params, ImportReport& report) {
    Reader r(params);
    if (!r.detected_encoding().empty()) report.notes.push_back(r.detected_encoding());
    Dataset d;
    switch (params.kind) {
        case ImportKind::areas:
            read_areas(r, params, d, report);
            break;
        case ImportKind::orgs:
            read_orgs(r, d);
            break;
        case ImportKind::instructors:
            read_instructors(r, d);
            break;
    }
    return d;
}

ImportReport import_into(Store& store, const ImportParams& params) {
    ImportReport report;
    Dataset incoming = read_source(params, report);
    Dataset existing = store.load();

    switch (params.kind) {
        case ImportKind::areas: {
            std::set<std::string> codes;
            for (const auto& a : existing.areas) codes.insert(a.code);
            for (const auto& a : incoming.areas)
                if (codes.count(a.code))
                    throw format_error(params.source, "code " + a.code, "area already in the store");
            report.imported = incoming.areas.size();
            break;
        }
        case ImportKind::orgs: {
            std::set<Id> ids;
            for (const auto& o : existing.orgs) ids.insert(o.id);
            std::map<std::string, std::vector<Id>> by_code;
            for (const auto& o : existing.orgs)
                if (!o.credit_code.empty()) by_code[o.credit_code].push_back(o.id);
            for (const auto& o : incoming.orgs) {
                if (ids.count(o.id))
                    throw format_error(params.source, "id " + o.id, "organization already in the store");
                if (!o.credit_code.empty()) by_code[o.credit_code].push_back(o.id);
            }
            for (const auto& [code, owners] : by_code) {
                if (owners.size() < 2) continue;
                std::string line = code + ": ids";
                for (const auto& id : owners) line += " " + id;
                report.duplicate_credit_codes.push_back(line);
            }
            std::vector<const MultiPolygon*> grids;
            for (const auto& a : existing.areas)
                if (a.level == Level::grid) grids.push_back(&a.shape);
            if (grids.empty()) {
                report.notes.push_back("the store has no grid cells yet: organizations not checked against them");
            } else {
                std::vector<Point> pts;
                for (const auto& o : incoming.orgs) pts.push_back(o.location);
                auto hits = locate_points(grids, pts);
                for (std::size_t i = 0; i < hits.size(); ++i)
                    if (hits[i] < 0) report.outside_grid.push_back(incoming.orgs[i].id);
            }
            report.imported = incoming.orgs.size();
            break;
        }
        case ImportKind::instructors: {
            std::set<Id> ids;
            for (const auto& in : existing.instructors) ids.insert(in.id);
            for (const auto& in : incoming.instructors)
                if (ids.count(in.id))
                    throw format_error(params.source, "id " + in.id, "instructor already in the store");
            report.imported = incoming.instructors.size();
            break;
        }
    }
    store.append(incoming);
    return report;
}

}  // namespace covermap::geo
