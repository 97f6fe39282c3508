#include "covermap/geo/import.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <unordered_map>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/credit_code.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/gcj02.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/text.hpp"
#include "detail/enum_names.hpp"
#include "detail/ogr.hpp"

namespace covermap::geo {

using namespace detail;

namespace {
constexpr EnumName<ImportKind> kKinds[] = {{ImportKind::areas, "areas", "区域"},
                                           {ImportKind::orgs, "orgs", "两新组织"},
                                           {ImportKind::instructors, "instructors", "党建指导员"}};
}  // namespace

std::optional<ImportKind> parse_import_kind(const std::string& s) { return value_of(kKinds, s); }

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
// The column headings each field is read from: the contract name, the 10-byte shapefile
// alias, and the headings Chinese registry extracts use (market regulation for enterprises,
// civil affairs for social organizations) and district ledgers (台账).
const std::vector<std::pair<std::string, std::vector<std::string>>>& known_headings() {
    static const std::vector<std::pair<std::string, std::vector<std::string>>> h = {
        {"id", {"id", "编号", "组织编号", "登记编号", "注册号", "档案号"}},
        {"name", {"name", "企业名称", "单位名称", "组织名称", "社会组织名称", "机构名称", "名称", "姓名"}},
        {"kind", {"kind", "组织类型", "企业类型", "单位类型", "组织类别", "类型"}},
        {"credit_code", {"credit_code", "cred_code", "统一社会信用代码", "社会信用代码", "信用代码"}},
        {"industry", {"industry", "所属行业", "行业门类", "行业类别", "行业"}},
        {"employees", {"employees", "从业人员", "从业人员数", "从业人数", "职工人数", "员工人数"}},
        {"party_members", {"party_members", "party_mbr", "正式党员数", "党员人数", "党员数", "正式党员"}},
        {"status", {"status", "登记状态", "经营状态", "状态"}},
        {"above_scale", {"above_scale", "above_scl", "是否规模以上", "规模以上"}},
        {"address", {"address", "住所", "地址", "经营场所", "注册地址", "办公地址"}},
        {"lon", {"lon", "lng", "longitude", "x", "经度"}},
        {"lat", {"lat", "latitude", "y", "纬度"}},
        {"branch_id", {"branch_id", "所在党组织编号"}},
        {"instructor_id", {"instructor_id", "instr_id", "党建指导员编号", "指导员编号"}},
        {"person_in_charge", {"person_in_charge", "person", "出资人", "负责人", "法定代表人", "法人代表", "出资人/负责人"}},
        {"phone", {"phone", "联系电话", "电话", "手机"}},
        {"no_branch_reason", {"no_branch_reason", "no_br_rsn", "未建党组织原因", "未建原因"}},
        {"measure", {"measure", "一企一策", "一社一策", "工作措施", "措施", "一企一策措施"}},
        {"capacity", {"capacity", "最多联系组织数", "联系上限"}},
        {"industries", {"industries", "擅长行业"}},
        {"unit", {"unit", "派出单位编码", "派出单位"}},
        {"code", {"code", "区划编码", "编码", "代码"}},
        {"parent_code", {"parent_code", "parent_cd", "上级编码"}},
        {"level", {"level", "层级"}},
    };
    return h;
}

// A heading as compared: blanks, full-width blanks, '*' and ASCII case ignored.
std::string normal_heading(std::string s) {
    // An explanation after the name, "规模以上(1是0否)" or "类型（…）", is not part of it.
    for (const char* open : {"(", "\xEF\xBC\x88"})
        if (auto at = s.find(open); at != std::string::npos && at > 0) s.erase(at);
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s.compare(i, 3, "\xE3\x80\x80") == 0) {  // U+3000
            i += 2;
            continue;
        }
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '*' || c == '\r' || c == '\n') continue;
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

// Finds every "crs" member of a GeoJSON document (at any depth, keys decoded) and accepts only
// the named form {"type":"name","properties":{"name":"EPSG:n" | "urn:ogc:def:crs:…"}} or null:
// GDAL resolves a "link" crs (and URLs in a name) by fetching them, and an uploaded file must
// never make covermap open a URL or a path. A SAX pass: the document is not built in memory.
class CrsScan : public nlohmann::json::json_sax_t {
public:
    std::string bad;  // the first crs GDAL must not see, described

    bool key(string_t& key) override {
        // GDAL finds members ignoring case ("CRS", "Type"): so does the scan.
        std::string k = key;
        for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (capture_ == 0 && k == "crs") {
            capture_ = depth_ + 1;  // the crs value's objects are deeper than here
            pending_ = true;
            type_.clear(), name_.clear(), extra_.clear();
        } else if (capture_) {
            last_ = k;
            if (k != "type" && k != "properties" && k != "name") extra_ = k;
        }
        return true;
    }
    bool start_object(std::size_t) override {
        ++depth_;
        pending_ = false;
        return true;
    }
    bool end_object() override {
        --depth_;
        if (capture_ && depth_ < capture_) finish();
        return true;
    }
    bool start_array(std::size_t) override {
        ++depth_;
        if (pending_) extra_ = "an array";
        pending_ = false;
        return true;
    }
    bool end_array() override {
        --depth_;
        if (capture_ && depth_ < capture_) finish();
        return true;
    }
    bool string(string_t& v) override {
        if (pending_) {  // "crs": "…" is no form GeoJSON defines
            extra_ = "a string";
            return scalar();
        }
        if (capture_ && last_ == "type") type_ = v;
        if (capture_ && last_ == "name") name_ = v;
        return true;
    }
    bool null() override { return pending_ ? (capture_ = 0, pending_ = false, true) : true; }
    bool boolean(bool) override { return scalar(); }
    bool number_integer(number_integer_t) override { return scalar(); }
    bool number_unsigned(number_unsigned_t) override { return scalar(); }
    bool number_float(number_float_t, const string_t&) override { return scalar(); }
    bool binary(binary_t&) override { return scalar(); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;  // not JSON: GDAL's own error will say so
    }

private:
    bool scalar() {
        if (pending_) {
            if (extra_.empty()) extra_ = "a scalar";
            finish();
        }
        return true;
    }
    void finish() {
        static const std::regex named(R"((EPSG:\d{1,6})|(urn:ogc:def:crs:(EPSG|OGC):[0-9.]*:(\d{1,6}|CRS84)))",
                                      std::regex::icase);
        // Length first: libstdc++'s regex recurses per character, and the name is the file's.
        bool ok = extra_.empty() && type_ == "name" && name_.size() <= 64 && std::regex_match(name_, named);
        if (!ok && bad.empty())
            bad = "its crs " + (type_.empty() ? std::string() : "of type '" + replace_invalid_utf8(type_) + "' ") +
                  (extra_.empty() ? "" : "with " + replace_invalid_utf8(extra_) + " ") +
                  "is not a named EPSG or OGC CRS: remove it and give srs EPSG:n instead";
        capture_ = 0;
        pending_ = false;
    }
    std::size_t depth_ = 0, capture_ = 0;
    bool pending_ = false;
    std::string last_, type_, name_, extra_;
};

// Refuses a GeoJSON source whose crs GDAL would resolve by opening a URL or a file.
void check_geojson_crs(const std::string& path) {
    VSILFILE* f = VSIFOpenL(path.c_str(), "rb");
    if (!f) return;  // OGR reports the open error
    std::string bytes;
    char buf[1 << 16];
    for (std::size_t n; (n = VSIFReadL(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, n);
    VSIFCloseL(f);
    CrsScan scan;
    // A document the scan cannot read whole is refused too: GDAL's own reader is more lenient,
    // and a crs behind a byte the scan stops at must not reach it.
    if (!nlohmann::json::sax_parse(bytes, &scan, nlohmann::json::input_format_t::json, false, true))
        throw format_error(path, "", "not valid JSON text (UTF-8, no raw control characters in strings)");
    if (!scan.bad.empty()) throw format_error(path, "", scan.bad);
}

bool is_spreadsheet(const std::string& path) {
    return ends_with_ci(path, ".xlsx") || ends_with_ci(path, ".xls") || ends_with_ci(path, ".ods");
}

// One source being read: names the file and the current row in every error.
class Reader {
public:
    Reader(const ImportParams& p) : p_(p) {
        ensure_gdal();
        for (const auto& [heading, target] : p.map)
            if (std::none_of(known_headings().begin(), known_headings().end(),
                             [&, field = target](const auto& k) { return k.first == field; }))
                throw invalid_argument(
                    "--map " + heading + "=" + target + ": no field '" + target +
                    "' (fields: id, name, kind, credit_code, industry, employees, party_members, "
                    "status, above_scale, address, lon, lat, instructor_id, person_in_charge, phone, "
                    "no_branch_reason, measure, …)");
        csv_ = ends_with_ci(p.source, ".csv");
        tabular_ = csv_ || is_spreadsheet(p.source);
        char** options = nullptr;
        std::string encoding = p.encoding.empty() ? "" : cpl_encoding(p.encoding);
        if (encoding.empty() && csv_ && !file_is_utf8(p.source)) {
            encoding = "CP936";
            detected_ = "the file is not UTF-8: read as GBK (an encoding chooses another)";
        }
        GDALDriverH driver = GDALIdentifyDriverEx(p.source.c_str(), GDAL_OF_VECTOR, nullptr, nullptr);
        bool shapefile = driver && std::string(GDALGetDriverShortName(driver)) == "ESRI Shapefile";
        if ((driver && std::string(GDALGetDriverShortName(driver)) == "GeoJSON") ||
            ends_with_ci(p.source, ".geojson") || ends_with_ci(p.source, ".json"))
            check_geojson_crs(p.source);
        if (csv_) {
            // Every cell as text and no header taken for granted: the heading row is found below.
            options = CSLSetNameValue(options, "AUTODETECT_TYPE", "NO");
            options = CSLSetNameValue(options, "KEEP_GEOM_COLUMNS", "YES");
            options = CSLSetNameValue(options, "EMPTY_STRING_AS_NULL", "YES");
            options = CSLSetNameValue(options, "HEADERS", "NO");
        }
        if (tabular_ && !csv_)
            for (const char* drv : {"XLSX", "ODS", "XLS"}) {
                CPLSetThreadLocalConfigOption((std::string("OGR_") + drv + "_HEADERS").c_str(), "DISABLE");
                CPLSetThreadLocalConfigOption((std::string("OGR_") + drv + "_FIELD_TYPES").c_str(), "STRING");
            }
        if (shapefile) {
            // The DBF's raw bytes: recoded in text() with a round trip, so that bytes the
            // encoding cannot decode are a row error (GDAL's own recoding drops them silently).
            options = CSLSetNameValue(options, "ENCODING", "");
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
        if (!layer_) {
            std::string names;
            for (int i = 0; i < ds_->GetLayerCount(); ++i)
                names += (i ? ", " : "") + std::string(ds_->GetLayer(i)->GetName());
            fail("", p.layer.empty() ? "has no layer"
                                     : "has no layer or sheet named '" + p.layer + "' (it has: " + names + ")");
        }
        if (shapefile) {
            // The named encoding, else the .cpg's, else the DBF's language id, as GDAL reads them;
            // none: UTF-8 (a cell that is not is a row error naming the encoding to give).
            std::string e = encoding;
            for (const char* item : {"ENCODING_FROM_CPG", "ENCODING_FROM_LDID"})
                if (const char* v = layer_->GetMetadataItem(item, "SHAPEFILE"); e.empty() && v && *v) e = v;
            std::string upper;
            for (char c : e) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            if (!upper.empty() && upper != "UTF-8" && upper != "UTF8") recode_from_ = e;
        }
        find_headings();
        setup_crs();
    }

    [[noreturn]] void fail(const std::string& where, const std::string& problem) const {
        throw format_error(p_.source, where, problem);
    }

    std::string where(const OGRFeature& f) const {
        // Tabular sources: the row as a spreadsheet program numbers it (heading rows included).
        return tabular_ ? "line " + std::to_string(line_) : "feature " + std::to_string(f.GetFID());
    }

    /// The next data row (after the heading, skipping blank rows), or null at the end.
    FeaturePtr next() {
        while (auto f = own(layer_->GetNextFeature())) {
            ++line_;
            if (p_.cancelled && line_ % 1024 == 0 && p_.cancelled())
                throw cancelled_error("import stopped, nothing written");
            if (static_cast<std::size_t>(line_) > p_.max_features + static_cast<std::size_t>(heading_line_))
                fail("", "more than " + std::to_string(p_.max_features) +
                             " rows or features: split the file");
            if (tabular_ && line_ <= heading_line_) continue;
            if (tabular_) {
                bool blank = true;
                // Raw cells: a cell that is not text is a row error for the row's reader, not here.
                for (int i = 0; i < f->GetFieldCount() && blank; ++i)
                    blank = !f->IsFieldSetAndNotNull(i) ||
                            std::string_view(f->GetFieldAsString(i)).find_first_not_of(" \t\r\n") == std::string_view::npos;
                if (blank) continue;
            }
            return f;
        }
        return own(nullptr);
    }

    /// Back to the first data row.
    void rewind() {
        layer_->ResetReading();
        line_ = 0;
    }

    OGRLayer* layer() { return layer_; }
    bool csv() const { return csv_; }
    const std::string& detected_encoding() const { return detected_; }
    const std::vector<std::string>& headings() const { return headings_; }

    /// The column a field is read from (its name, an alias, a registry heading, or --map), or −1.
    int field(const char* name, bool required) const {
        for (const auto& [heading, target] : p_.map)
            if (target == name)
                for (std::size_t i = 0; i < headings_.size(); ++i)
                    if (normal_heading(headings_[i]) == normal_heading(heading)) return mark(static_cast<int>(i));
        for (const auto& [field_name, aliases] : known_headings()) {
            if (field_name != name) continue;
            for (const auto& alias : aliases)
                for (std::size_t i = 0; i < headings_.size(); ++i)
                    if (normal_heading(headings_[i]) == normal_heading(alias)) return mark(static_cast<int>(i));
        }
        if (required)
            fail("", std::string("missing required column '") + name + "' (or a heading such as " + example(name) +
                         "; a mapping 表头=" + name + " names another)");
        return -1;
    }

    /// Headings no field was read from (after every field() call).
    std::vector<std::string> unused_headings() const {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < headings_.size(); ++i)
            if (!used_.count(static_cast<int>(i)) && !headings_[i].empty()) out.push_back(headings_[i]);
        return out;
    }

    std::string text(const OGRFeature& f, int i) const {
        if (i < 0 || !f.IsFieldSetAndNotNull(i)) return "";
        std::string s = f.GetFieldAsString(i);
        if (!recode_from_.empty()) {
            // CPLRecode drops bytes the encoding cannot decode: recoding back must give the cell
            // again, or the cell held such bytes and is a row error, not silently shortened text.
            char* r = CPLRecode(s.c_str(), recode_from_.c_str(), CPL_ENC_UTF8);
            std::string decoded = r;
            CPLFree(r);
            char* back = CPLRecode(decoded.c_str(), CPL_ENC_UTF8, recode_from_.c_str());
            bool same = s == back;
            CPLFree(back);
            if (!same)
                fail(where(f), "column '" + column_name(i) + "' is " +
                                   (detected_.empty() ? "not " + recode_from_ + " text"
                                                      : std::string("neither UTF-8 nor GBK text (give its encoding "
                                                                    "if the file is in another encoding)")));
            s = std::move(decoded);
        }
        if (!valid_utf8(s))
            fail(where(f), "column '" + column_name(i) +
                               "' is not valid UTF-8 text: give the file's encoding (GBK?)");
        // Trim surrounding blanks, common in hand-made spreadsheets.
        auto b = s.find_first_not_of(" \t\r\n");
        auto e = s.find_last_not_of(" \t\r\n");
        s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
        // '=…, '+…: a cell covermap's own CSV writers guarded against formulas (csv_guard) reads
        // back as it was.
        if (csv_ && s.size() > 1 && s[0] == '\'' && std::string_view("=+-@\t\r").find(s[1]) != std::string_view::npos)
            s.erase(0, 1);
        // ="0123…", the way a CSV keeps a long code text for spreadsheet programs (export --excel).
        if (s.size() > 3 && s.compare(0, 2, "=\"") == 0 && s.back() == '"') s = s.substr(2, s.size() - 3);
        return s;
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

    /// The column's heading as the source writes it (OGR's own field name before headings are found).
    std::string column_name(int i) const {
        if (i >= 0 && static_cast<std::size_t>(i) < headings_.size() && !headings_[i].empty())
            return replace_invalid_utf8(headings_[i]);
        return replace_invalid_utf8(layer_->GetLayerDefn()->GetFieldDefn(i)->GetNameRef());
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
                               ") are not longitude/latitude after reprojection: wrong CRS? give srs EPSG:n");
        if (p_.gcj02) p = gcj02_to_wgs84(p);
        if (p_.bd09) p = bd09_to_wgs84(p);
        return p;
    }

    bool has_coordinates(const OGRFeature& f) const {
        if (tabular_) return x_ >= 0 && y_ >= 0 && !text(f, x_).empty() && !text(f, y_).empty();
        return f.GetGeometryRef() && !f.GetGeometryRef()->IsEmpty();
    }

    Point point(const OGRFeature& f) const {
        if (tabular_) {
            if (x_ < 0 || y_ < 0)
                fail(where(f), "no coordinates: no lon/lat (经度/纬度) columns and no address to place it by");
            return to_store({number(f, x_, "longitude"), number(f, y_, "latitude")}, f);
        }
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
        if (auto n = vertices(g); n > p_.max_vertices)
            fail(where(f), "geometry has " + std::to_string(n) + " vertices, more than " +
                               std::to_string(p_.max_vertices) + ": simplify it");
        MultiPolygon mp = from_ogr_polygons(g);
        for (auto& poly : mp) {
            for (auto& p : poly.exterior) p = to_store(p, f);
            for (auto& h : poly.holes)
                for (auto& p : h) p = to_store(p, f);
        }
        return mp;
    }

    // Vertices of a geometry, every ring and part counted.
    static std::size_t vertices(const OGRGeometry* g) {
        if (!g) return 0;
        if (auto* curve = dynamic_cast<const OGRSimpleCurve*>(g)) return static_cast<std::size_t>(curve->getNumPoints());
        if (auto* poly = dynamic_cast<const OGRCurvePolygon*>(g)) {
            std::size_t n = 0;
            for (const auto* ring : *poly) n += vertices(ring);
            return n;
        }
        if (auto* coll = dynamic_cast<const OGRGeometryCollection*>(g)) {
            std::size_t n = 0;
            for (const auto* part : *coll) n += vertices(part);
            return n;
        }
        if (auto* cc = dynamic_cast<const OGRCompoundCurve*>(g)) {
            std::size_t n = 0;
            for (const auto* part : *cc) n += vertices(part);
            return n;
        }
        return 1;
    }

    // Surfaces any read error OGR reported while iterating (truncated files…).
    void check_read_errors() const {
        if (CPLGetLastErrorType() == CE_Failure) fail("", std::string("read error: ") + CPLGetLastErrorMsg());
    }

private:
    int mark(int i) const {
        used_.insert(i);
        return i;
    }

    static std::string example(const char* name) {
        for (const auto& [field_name, aliases] : known_headings())
            if (field_name == name && aliases.size() > 1) return aliases[aliases.size() > 2 ? 2 : 1];
        return name;
    }

    // Spreadsheets and CSVs often start with a title row ("银州区两新组织台账") above the
    // headings: the heading row is the first of the first 15 rows naming two known fields.
    void find_headings() {
        if (!tabular_) {
            for (int i = 0; i < layer_->GetLayerDefn()->GetFieldCount(); ++i)
                headings_.push_back(layer_->GetLayerDefn()->GetFieldDefn(i)->GetNameRef());
            return;
        }
        std::set<std::string> known;
        for (const auto& [field_name, aliases] : known_headings())
            for (const auto& a : aliases) known.insert(normal_heading(a));
        for (const auto& [heading, target] : p_.map) known.insert(normal_heading(heading));
        layer_->ResetReading();
        int line = 0;
        while (auto f = own(layer_->GetNextFeature())) {
            if (++line > 15) break;
            std::vector<std::string> cells;
            int hits = 0;
            for (int i = 0; i < f->GetFieldCount(); ++i) {
                cells.push_back(text(*f, i));
                hits += known.count(normal_heading(cells.back())) ? 1 : 0;
            }
            if (hits >= 2) {
                headings_ = std::move(cells);
                heading_line_ = line;
                break;
            }
        }
        if (heading_line_ == 0)
            fail("",
                 "no heading row in the first 15 rows: expected headings such as id, name or 企业名称, "
                 "统一社会信用代码 (a mapping 表头=field names others)");
        rewind();
    }

    void setup_crs() {
        OGRSpatialReference src;
        if (!p_.srs.empty()) {
            try {
                src = srs_from(p_.srs);
            } catch (const invalid_argument&) {
                fail("", "unknown CRS '" + p_.srs + "' (srs)");
            }
        } else if (const OGRSpatialReference* s = layer_->GetSpatialRef()) {
            src = *s;
            src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        } else if (tabular_) {
            src = cgcs2000();  // lon/lat columns: CGCS2000 (WGS84 differs by centimetres)
        } else {
            fail("", "no CRS (a shapefile without .prj?): give srs EPSG:n");
        }
        if (tabular_) {
            // Without coordinates a row is placed by its address (import_into), if it has one.
            x_ = field("lon", false);
            y_ = field("lat", false);
        }
        if (!src.IsSame(&cgcs2000())) {
            transform_.reset(OGRCreateCoordinateTransformation(&src, &cgcs2000()));
            if (!transform_) fail("", "no transformation from the source CRS to EPSG:4490");
        }
    }

    const ImportParams& p_;
    bool csv_ = false;
    bool tabular_ = false;  // CSV or spreadsheet: headings found in the rows
    std::vector<std::string> headings_;
    int heading_line_ = 0;
    int line_ = 0;
    mutable std::set<int> used_;
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
    r.rewind();
    CPLErrorReset();
    while (auto f = r.next()) {
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
        if (auto bad = text_problem(a)) r.fail(r.where(*f), bad->field + " is " + bad->reason);
        if (!codes.insert(a.code).second) r.fail(r.where(*f), "duplicate area code " + a.code);
        a.shape = r.polygons(*f);
        std::string reason;
        if (a.shape.empty() || !is_valid(a.shape, &reason)) {
            a.shape = make_valid(a.shape, p.cancelled);
            report.repaired.push_back(r.where(*f) + " (code " + a.code +
                                      "): " + (reason.empty() ? "empty geometry" : reason) +
                                      (a.shape.empty() ? "; no area left after repair, kept without geometry"
                                                       : "; repaired with make-valid"));
        }
        d.areas.push_back(std::move(a));
    }
    r.check_read_errors();
}

// Rows that cannot be used: kept out with where, column and why (--skip-bad), or all named
// in one error (all or nothing).
struct RowErrors {
    const ImportParams& p;
    ImportReport& report;
    std::vector<std::vector<std::string>> rows;  // the bad rows' cells, for --rejects
    void add(const format_error& e, const OGRFeature& f, const Reader& r) {
        // The column: the field the problem names, as the source heads it.
        std::string column;
        for (const auto& [field_name, aliases] : known_headings())
            if (e.problem.rfind(field_name + " ", 0) == 0 || e.problem.rfind("empty " + field_name, 0) == 0 ||
                e.problem.rfind("duplicate " + field_name, 0) == 0) {
                int i = r.field(field_name.c_str(), false);
                column = i >= 0 ? r.headings()[static_cast<std::size_t>(i)] : field_name;
                break;
            }
        std::string id;
        for (const char* key : {"id", "credit_code"}) {
            int i = id.empty() ? r.field(key, false) : -1;
            if (i < 0) continue;
            try {
                id = r.text(f, i);
            } catch (const format_error&) {  // not text: no id to spare
            }
        }
        report.rejected.push_back({e.where, column, e.problem, id});
        std::vector<std::string> cells;
        for (int i = 0; i < f.GetFieldCount(); ++i) {
            try {
                cells.push_back(r.text(f, i));
            } catch (const format_error&) {  // the cell that is not text: kept, marked
                cells.push_back(replace_invalid_utf8(f.GetFieldAsString(i)));
            }
        }
        cells.push_back(e.where + ": " + e.problem);
        rows.push_back(std::move(cells));
    }
    void finish(const Reader& r) {
        if (report.rejected.empty()) return;
        if (!p.skip_bad) {
            // One line, as every error: the row, or each row (the first 20).
            if (report.rejected.size() == 1)
                throw format_error(p.source, report.rejected[0].where, report.rejected[0].reason);
            std::string msg = std::to_string(report.rejected.size()) +
                              " bad rows, nothing imported: ";
            for (std::size_t i = 0; i < report.rejected.size() && i < 20; ++i)
                msg += (i ? "; " : "") + report.rejected[i].where + ": " + report.rejected[i].reason;
            if (report.rejected.size() > 20) msg += "; …";
            throw format_error(p.source, "", msg);
        }
        if (!p.rejects_out.empty()) write_rejects(r);
    }
    // The bad rows with the original headings and a reason column, UTF-8 with a BOM so that
    // spreadsheet programs read the Chinese right; fixed, the file imports as it is.
    void write_rejects(const Reader& r) const {
        VSILFILE* out = VSIFOpenL(p.rejects_out.c_str(), "wb");
        if (!out) throw invalid_argument("cannot write " + p.rejects_out);
        auto line = [&](const std::vector<std::string>& cells) {
            std::string l;
            for (std::size_t i = 0; i < cells.size(); ++i) l += (i ? "," : "") + csv_field(cells[i]);
            l += "\r\n";
            VSIFWriteL(l.data(), 1, l.size(), out);
        };
        VSIFWriteL("\xEF\xBB\xBF", 1, 3, out);
        auto head = r.headings();
        head.push_back("错误原因 reason");
        line(head);
        for (const auto& row : rows) line(row);
        VSIFCloseL(out);
    }
};

void read_orgs(Reader& r, const ImportParams& p, Dataset& d, ImportReport& report) {
    int id = r.field("id", false), name = r.field("name", true), kind = r.field("kind", false);
    int employees = r.field("employees", false), members = r.field("party_members", false);
    int status = r.field("status", false);
    int credit = r.field("credit_code", false), industry = r.field("industry", false);
    int above = r.field("above_scale", false), branch = r.field("branch_id", false);
    int instructor = r.field("instructor_id", false), address = r.field("address", false);
    int person = r.field("person_in_charge", false), phone = r.field("phone", false);
    int reason = r.field("no_branch_reason", false), measure = r.field("measure", false);
    if (id < 0 && credit < 0) r.fail("", "missing column 'id' (or 'credit_code', which then serves as the id)");
    if (id < 0) report.notes.push_back("no id column: the credit code is the id");
    if (employees < 0) report.notes.push_back("no employees column: taken as 0");
    if (members < 0) report.notes.push_back("no party_members column: taken as 0");
    if (status < 0) report.notes.push_back("no status column: every organization taken as operating");
    report.unknown_columns = r.unused_headings();
    for (const auto& [field_name, column] : std::vector<std::pair<const char*, int>>{{"credit_code", credit},
                                                                                     {"industry", industry},
                                                                                     {"employees", employees},
                                                                                     {"party_members", members},
                                                                                     {"status", status},
                                                                                     {"above_scale", above},
                                                                                     {"address", address},
                                                                                     {"person_in_charge", person},
                                                                                     {"phone", phone},
                                                                                     {"no_branch_reason", reason},
                                                                                     {"measure", measure},
                                                                                     {"instructor_id", instructor},
                                                                                     {"branch_id", branch}})
        if (column >= 0) report.fields_read.push_back(field_name);
    std::set<Id> ids;
    RowErrors errors{p, report, {}};
    r.rewind();
    CPLErrorReset();
    while (auto f = r.next()) {
        try {
            Organization o;
            o.id = r.key(*f, id >= 0 ? id : credit, id >= 0 ? "id" : "credit_code");
            if (!ids.insert(o.id).second) r.fail(r.where(*f), "duplicate id " + o.id);
            o.name = r.required_text(*f, name, "name");
            o.credit_code = r.text(*f, credit);
            if (kind >= 0) {
                auto k = parse_org_kind(r.text(*f, kind));
                if (!k) r.fail(r.where(*f), "kind '" + r.text(*f, kind) + "' is not enterprise or social");
                o.kind = *k;
            } else if (!o.credit_code.empty() && (o.credit_code[0] == '9' || o.credit_code[0] == '5')) {
                // The credit code's first character is the registering authority: 9 market
                // regulation (enterprises), 5 civil affairs (social organizations).
                o.kind = o.credit_code[0] == '9' ? OrgKind::enterprise : OrgKind::social;
            } else {
                r.fail(r.where(*f),
                       "no kind column, and no credit code starting 9 or 5 to tell enterprise from social");
            }
            o.industry = r.text(*f, industry);
            // Bounds a real organization stays far within (the largest employers have ~10^6).
            o.employees = r.count(*f, employees, "employees", 0, 100'000'000);
            o.party_members = r.count(*f, members, "party_members", 0, 10'000'000);
            if (status >= 0) {
                auto st = parse_org_status(r.text(*f, status));
                if (!st)
                    r.fail(r.where(*f), "status '" + r.text(*f, status) +
                                            "' is not operating/存续/在营, suspended/停业 or deregistered/注销");
                o.status = *st;
            }
            if (auto s = r.text(*f, above); !s.empty() && !parse_bool(s, &o.above_scale))
                r.fail(r.where(*f), "above_scale '" + s + "' is not a boolean");
            if (auto b = r.integer(*f, branch, "branch_id")) o.branch_id = *b;
            if (instructor >= 0 && !r.text(*f, instructor).empty())
                o.instructor_id = r.key(*f, instructor, "instructor_id");
            Ledger ledger{r.text(*f, address), r.text(*f, person),  r.text(*f, phone),
                          r.text(*f, reason),  r.text(*f, measure), ""};
            if (r.has_coordinates(*f))
                o.location = r.point(*f);
            else if (!ledger.address.empty())
                ledger.location_precision = "unplaced";  // placed by its address in import_into
            else
                o.location = r.point(*f);  // fails: no coordinates, no address
            o.set_ledger(std::move(ledger));
            if (auto bad = text_problem(o)) r.fail(r.where(*f), bad->field + " is " + bad->reason);
            d.orgs.push_back(std::move(o));
        } catch (const format_error& e) {
            errors.add(e, *f, r);
        }
    }
    r.check_read_errors();
    errors.finish(r);
}

void read_instructors(Reader& r, Dataset& d) {
    int id = r.field("id", true), name = r.field("name", true);
    int capacity = r.field("capacity", false), industries = r.field("industries", false);
    int unit = r.field("unit", false);
    std::set<Id> ids;
    r.rewind();
    CPLErrorReset();
    while (auto f = r.next()) {
        Instructor in;
        in.id = r.key(*f, id, "id");
        if (!ids.insert(in.id).second) r.fail(r.where(*f), "duplicate id " + in.id);
        in.name = r.required_text(*f, name, "name");
        in.capacity = r.count(*f, capacity, "capacity", 5, 10'000);
        in.industries = r.text(*f, industries);
        in.unit = r.text(*f, unit);
        in.home = r.point(*f);
        if (auto bad = text_problem(in)) r.fail(r.where(*f), bad->field + " is " + bad->reason);
        d.instructors.push_back(std::move(in));
    }
    r.check_read_errors();
}

}  // namespace

namespace {

bool same_record(const Organization& a, const Organization& b) {
    return a.name == b.name && a.kind == b.kind && a.credit_code == b.credit_code && a.industry == b.industry &&
           a.employees == b.employees && a.party_members == b.party_members && a.status == b.status &&
           a.above_scale == b.above_scale && std::fabs(a.location.x - b.location.x) < 1e-9 &&
           std::fabs(a.location.y - b.location.y) < 1e-9 && a.ledger() == b.ledger() &&
           a.instructor_id == b.instructor_id;  // an extract's instr_id column may assign: a change like any
}

// The fields an import may change, as the preview names them.
constexpr std::pair<const char*, const char*> kFieldNames[] = {
    {"id", "编号"},           {"name", "名称"},          {"kind", "类型"},          {"credit_code", "统一社会信用代码"},
    {"industry", "行业"},     {"employees", "从业人员数"}, {"party_members", "党员人数"}, {"status", "登记状态"},
    {"above_scale", "规模以上"}, {"address", "地址"},     {"lon", "经度"},           {"lat", "纬度"},
    {"longitude", "经度"},    {"latitude", "纬度"},      {"person_in_charge", "负责人"}, {"phone", "联系电话"},
    {"no_branch_reason", "未建党组织原因"}, {"measure", "一企一策措施"}, {"instructor_id", "指导员编号"},
    {"location", "位置"},     {"capacity", "联系上限"},   {"unit", "派出单位"},      {"code", "区划编码"},
    {"level", "层级"}};

std::string field_zh(const std::string& field) {
    for (const auto& [f, zh] : kFieldNames)
        if (field == f) return zh;
    return field;
}

std::vector<FieldChange> field_changes(const Organization& a, const Organization& b) {
    std::vector<FieldChange> out;
    auto add = [&](const char* field, const std::string& x, const std::string& y) {
        if (x != y) out.push_back({field, field_zh(field), x, y});
    };
    add("name", a.name, b.name);
    add("kind", std::string(chinese_name(a.kind)), std::string(chinese_name(b.kind)));
    add("credit_code", a.credit_code, b.credit_code);
    add("industry", a.industry, b.industry);
    add("employees", std::to_string(a.employees), std::to_string(b.employees));
    add("party_members", std::to_string(a.party_members), std::to_string(b.party_members));
    add("status", std::string(chinese_name(a.status)), std::string(chinese_name(b.status)));
    add("above_scale", a.above_scale ? "是" : "否", b.above_scale ? "是" : "否");
    add("address", a.ledger().address, b.ledger().address);
    add("person_in_charge", a.ledger().person_in_charge, b.ledger().person_in_charge);
    add("phone", a.ledger().phone, b.ledger().phone);
    add("instructor_id", a.instructor_id.value_or(""), b.instructor_id.value_or(""));
    if (haversine_m(a.location, b.location) > 1) {
        char x[64], y[64];
        std::snprintf(x, sizeof x, "%.6f, %.6f", a.location.x, a.location.y);
        std::snprintf(y, sizeof y, "%.6f, %.6f", b.location.x, b.location.y);
        add("location", x, y);
    }
    return out;
}

}  // namespace

std::string where_zh(const std::string& where) {
    std::smatch m;
    if (std::regex_match(where, m, std::regex(R"(line (\d+))"))) return "第 " + m[1].str() + " 行";
    if (std::regex_match(where, m, std::regex(R"(feature (-?\d+))"))) return "第 " + m[1].str() + " 个要素";
    if (std::regex_match(where, m, std::regex(R"(id (.+))"))) return "编号 " + m[1].str();
    return where;
}

// The reasons read_source gives, by their English shape (the command line's and the log's
// words), in Chinese; one not known here is kept as it is after "数据有误：".
std::string reason_zh(const std::string& reason) {
    struct Rule {
        std::regex pattern;
        std::function<std::string(const std::smatch&)> say;
    };
    auto f = [](const std::smatch& m, int i) { return field_zh(m[i].str()); };
    static const std::vector<Rule> rules = [&] {
        std::vector<Rule> r;
        r.push_back({std::regex(R"((\w+) '(.*)' is not a number)"), [=](const std::smatch& m) { return f(m, 1) + "「" + m[2].str() + "」不是数字"; }});
        r.push_back({std::regex(R"((\w+) '(.*)' is not an integer)"), [=](const std::smatch& m) { return f(m, 1) + "「" + m[2].str() + "」不是整数"; }});
        r.push_back({std::regex(R"((\w+) '(.*)' is out of range)"), [=](const std::smatch& m) { return f(m, 1) + "「" + m[2].str() + "」超出范围"; }});
        r.push_back({std::regex(R"((\w+) (-?\d+) is negative)"), [=](const std::smatch& m) { return f(m, 1) + " " + m[2].str() + " 不能为负数"; }});
        r.push_back({std::regex(R"((\w+) (-?\d+) is out of range \(at most (\d+)\))"),
                     [=](const std::smatch& m) { return f(m, 1) + " " + m[2].str() + " 超出范围（最多 " + m[3].str() + "）"; }});
        r.push_back({std::regex(R"(empty (\w+))"), [=](const std::smatch& m) { return f(m, 1) + "为空"; }});
        r.push_back({std::regex(R"((\w+) is longer than 64 bytes)"), [=](const std::smatch& m) { return f(m, 1) + "超过 64 字节"; }});
        r.push_back({std::regex(R"((\w+) contains control characters)"), [=](const std::smatch& m) { return f(m, 1) + "含有控制字符"; }});
        r.push_back({std::regex(R"(duplicate (\w+) (.*))"), [=](const std::smatch& m) { return f(m, 1) + " " + m[2].str() + " 重复"; }});
        r.push_back({std::regex(R"(kind '(.*)' is not enterprise or social)"), [](const std::smatch& m) { return "类型「" + m[1].str() + "」应为企业或社会组织"; }});
        r.push_back({std::regex(R"(status '(.*)' is not .*)"), [](const std::smatch& m) { return "登记状态「" + m[1].str() + "」应为存续、停业或注销"; }});
        r.push_back({std::regex(R"(above_scale '(.*)' is not a boolean)"), [](const std::smatch& m) { return "规模以上「" + m[1].str() + "」应为是或否"; }});
        r.push_back({std::regex(R"(address '(.*)' matches no area name)"), [](const std::smatch& m) { return "地址「" + m[1].str() + "」找不到对应的区域，无法定位"; }});
        r.push_back({std::regex(R"(coordinates .* are not longitude/latitude.*)"), [](const std::smatch&) { return std::string("坐标不是经纬度，坐标系可能不对"); }});
        r.push_back({std::regex(R"(no coordinates.*)"), [](const std::smatch&) { return std::string("没有坐标：既无经度、纬度列，也无可定位的地址"); }});
        r.push_back({std::regex(R"(no kind column.*)"), [](const std::smatch&) { return std::string("没有类型列，信用代码也不以 9 或 5 开头，无法区分企业和社会组织"); }});
        r.push_back({std::regex(R"(column '(.*)' is not .*text.*)"), [](const std::smatch& m) { return "「" + m[1].str() + "」列的文字编码无法识别"; }});
        r.push_back({std::regex(R"(cannot open: .*)"), [](const std::smatch&) { return std::string("无法打开：不是可读的表格或数据文件"); }});
        r.push_back({std::regex(R"(missing required column '(\w+)'.*)"), [=](const std::smatch& m) { return "缺少必需的列「" + f(m, 1) + "」"; }});
        r.push_back({std::regex(R"(missing column 'id'.*)"), [](const std::smatch&) { return std::string("缺少编号列（或统一社会信用代码列）"); }});
        r.push_back({std::regex(R"(has no layer.*)"), [](const std::smatch&) { return std::string("文件里没有可读的工作表或图层"); }});
        r.push_back({std::regex(R"(more than (\d+) .*)"), [](const std::smatch& m) { return "超过 " + m[1].str() + " 行，超出上限"; }});
        return r;
    }();
    std::smatch m;
    for (const auto& rule : rules)
        if (std::regex_match(reason, m, rule.pattern)) return rule.say(m);
    return "数据有误：" + reason;
}

namespace {

nlohmann::json record_json(const Organization& o) {
    return {{"name", o.name},
            {"status", std::string(to_string(o.status))},
            {"employees", o.employees},
            {"party_members", o.party_members},
            {"credit_code", o.credit_code},
            {"industry", o.industry},
            {"lon", o.location.x},
            {"lat", o.location.y},
            {"version", o.version}};
}

// Rows with an address and no coordinates, placed offline: the longest area name found in
// the address, most specific level first (community, street, district; parks too), at a point
// inside that area; location_precision says which level it came from. Rows matching nothing
// are left out and named.
void place_by_address(const Dataset& areas, std::vector<Organization>& orgs, ImportReport& report,
                      const std::function<bool()>& cancelled) {
    struct Named {
        const Area* area;
        int rank;  // community 0, park 1, street 2, district 3
    };
    std::vector<Named> named;
    for (const auto& a : areas.areas) {
        int rank = a.level == Level::community  ? 0
                   : a.level == Level::park     ? 1
                   : a.level == Level::street   ? 2
                   : a.level == Level::district ? 3
                                                : -1;
        if (rank >= 0 && a.name.size() >= 6) named.push_back({&a, rank});  // two characters at least
    }
    std::map<std::string, const Area*> by_code;
    for (const auto& a : areas.areas) by_code[a.code] = &a;
    std::vector<Organization> kept;
    std::size_t seen = 0;
    for (auto& o : orgs) {
        if (cancelled && ++seen % 1024 == 0 && cancelled())
            throw cancelled_error("import stopped, nothing written");
        if (o.ledger().location_precision != "unplaced") {
            kept.push_back(std::move(o));
            continue;
        }
        const Named* best = nullptr;
        for (const auto& n : named) {
            if (o.ledger().address.find(n.area->name) == std::string::npos) continue;
            // A community's match must sit in a street or district the address also names, if any.
            if (!best || n.rank < best->rank || (n.rank == best->rank && n.area->name.size() > best->area->name.size()))
                best = &n;
        }
        if (!best || best->area->shape.empty()) {
            report.rejected.push_back(
                {"id " + o.id, "address", "address '" + o.ledger().address + "' matches no area name", o.id});
            continue;
        }
        o.location = interior_point(best->area->shape);
        o.edit_ledger().location_precision = best->rank == 0   ? "community"
                                             : best->rank == 1 ? "street"
                                             : best->rank == 2 ? "street"
                                                               : "district";
        kept.push_back(std::move(o));
    }
    orgs = std::move(kept);
}

}  // namespace

std::string summary_json(const ImportReport& r) {
    nlohmann::json by = nlohmann::json::object();
    for (const auto& [street, c] : r.by_street)
        by[street] = {{"added", c.added}, {"updated", c.updated}, {"deregistered", c.deregistered}};
    return dump_json(nlohmann::json{{"imported", r.imported},
                          {"added", r.total.added},
                          {"updated", r.total.updated},
                          {"unchanged", r.total.unchanged},
                          {"deregistered", r.total.deregistered},
                          {"rejected", r.rejected.size()},
                          {"invalid_credit_codes", r.invalid_credit_codes.size()},
                          {"duplicate_credit_codes", r.duplicate_credit_codes.size()},
                          {"written", r.written},
                          {"by_street", by}});
}

namespace {

// The upsert's result and audit rows into `out`, its counts into report; writes nothing.
void upsert_orgs(const ImportParams& params, const std::string& who, const Dataset& existing, Dataset& incoming,
                 ImportReport& report, PreparedImport& out) {
    auto check_cancel = [&](std::size_t i) {
        if (params.cancelled && i % 4096 == 0 && params.cancelled())
            throw cancelled_error("import stopped, nothing written");
    };
    place_by_address(existing, incoming.orgs, report, params.cancelled);
    if (!report.rejected.empty() && !params.skip_bad)
        throw format_error(params.source, report.rejected.front().where, report.rejected.front().reason);
    // Credit codes: checked (GB 32100-2015) and kept; bad and duplicate ones are flagged.
    std::map<std::string, std::vector<Id>> by_code;
    std::set<Id> incoming_ids;
    for (const auto& o : incoming.orgs) incoming_ids.insert(o.id);
    for (const auto& o : existing.orgs)
        if (!o.credit_code.empty() && !incoming_ids.count(o.id)) by_code[o.credit_code].push_back(o.id);
    for (const auto& o : incoming.orgs) {
        if (o.credit_code.empty()) continue;
        by_code[o.credit_code].push_back(o.id);
        if (auto why = credit_code_problem(o.credit_code))
            report.invalid_credit_codes.push_back(o.id + ": " + o.credit_code + ": " + *why);
    }
    for (const auto& [code, owners] : by_code) {
        if (owners.size() < 2) continue;
        std::string line = code + ": ids";
        for (const auto& id : owners) line += " " + id;
        report.duplicate_credit_codes.push_back(line);
    }
    // The upsert: by id; branch, instructor and version kept; a change bumps the version.
    std::map<Id, const Organization*> incoming_by_id;
    for (const auto& o : incoming.orgs) incoming_by_id[o.id] = &o;
    std::vector<Organization> result;
    std::vector<AuditEntry> audit;
    auto now = iso8601_utc_now();
    std::vector<std::pair<Point, int>> changed;  // location, 0 added 1 updated 2 deregistered
    std::vector<OrgDiff> diffs;
    std::set<Id> seen;
    // An extract speaks for the kinds it lists: market regulation's for enterprises, civil
    // affairs' for social organizations. Only those of its kinds can be missing from it.
    std::set<OrgKind> kinds;
    for (const auto& o : incoming.orgs) kinds.insert(o.kind);
    if (params.missing_deregister && kinds.size() == 1)
        report.notes.push_back(std::string("the extract lists ") +
                               (*kinds.begin() == OrgKind::enterprise ? "enterprises" : "social organizations") +
                               " only: only those absent from it are marked deregistered");
    // Rows left out (skip_bad) are not missing: their organizations are never deregistered.
    std::set<Id> left_out;
    for (const auto& r : report.rejected)
        if (!r.id.empty()) left_out.insert(r.id);
    std::size_t spared = 0;
    std::size_t visited = 0;
    for (const auto& old : existing.orgs) {
        check_cancel(++visited);
        seen.insert(old.id);
        auto it = incoming_by_id.find(old.id);
        if (it == incoming_by_id.end()) {
            Organization o = old;
            bool bad_row = left_out.count(o.id) || (!o.credit_code.empty() && left_out.count(o.credit_code));
            if (params.missing_deregister && bad_row && o.status != OrgStatus::deregistered) ++spared;
            if (params.missing_deregister && !bad_row && kinds.count(o.kind) && o.status != OrgStatus::deregistered) {
                o.status = OrgStatus::deregistered;
                ++o.version;
                ++report.total.deregistered;
                changed.push_back({o.location, 2});
                diffs.push_back({o.id, o.name, "deregistered", field_changes(old, o)});
                audit.push_back({now, who, "import_deregister", o.id, dump_json(record_json(old)), dump_json(record_json(o))});
            }
            result.push_back(std::move(o));
            continue;
        }
        Organization o = *it->second;
        // What the source has no column for stays as stored: a market-regulation extract has no
        // party members, a survey no registry status; neither may erase the other's figures.
        auto keep = [&](const char* field) {
            return std::find(report.fields_read.begin(), report.fields_read.end(), field) == report.fields_read.end();
        };
        if (keep("credit_code")) o.credit_code = old.credit_code;
        if (keep("industry")) o.industry = old.industry;
        if (keep("employees")) o.employees = old.employees;
        if (keep("party_members")) o.party_members = old.party_members;
        if (keep("status")) o.status = old.status;
        if (keep("above_scale")) o.above_scale = old.above_scale;
        Ledger ledger = o.ledger();
        const Ledger& was = old.ledger();
        if (keep("address")) ledger.address = was.address;
        if (keep("person_in_charge")) ledger.person_in_charge = was.person_in_charge;
        if (keep("phone")) ledger.phone = was.phone;
        if (keep("no_branch_reason") || ledger.no_branch_reason.empty()) ledger.no_branch_reason = was.no_branch_reason;
        if (keep("measure") || ledger.measure.empty()) ledger.measure = was.measure;
        if (ledger.location_precision == "unplaced" ||
            (ledger.location_precision.empty() && !was.location_precision.empty() &&
             std::fabs(o.location.x - old.location.x) < 1e-9))
            ledger.location_precision = was.location_precision;
        o.set_ledger(std::move(ledger));
        // Assignments are covermap's: the registry's extract never takes them away.
        o.branch_id = old.branch_id;
        if (!o.instructor_id || keep("instructor_id")) o.instructor_id = old.instructor_id;
        o.version = old.version;
        if (same_record(o, old)) {
            ++report.total.unchanged;
        } else {
            ++o.version;
            ++report.total.updated;
            changed.push_back({o.location, 1});
            diffs.push_back({o.id, o.name, "updated", field_changes(old, o)});
            audit.push_back({now, who, "import_update", o.id, dump_json(record_json(old)), dump_json(record_json(o))});
        }
        result.push_back(std::move(o));
    }
    for (const auto& o : incoming.orgs)
        if (!seen.count(o.id)) {
            ++report.total.added;
            changed.push_back({o.location, 0});
            diffs.push_back({o.id, o.name, "added", {}});
            result.push_back(o);
        }
    report.imported = incoming.orgs.size();
    if (spared)
        report.notes.push_back(std::to_string(spared) +
                               " organizations whose rows were left out as bad are not marked deregistered");
    // The preview's list: the first diff_limit by id.
    if (params.diff_limit > 0) {
        std::sort(diffs.begin(), diffs.end(), [](const OrgDiff& a, const OrgDiff& b) { return a.id < b.id; });
        if (diffs.size() > params.diff_limit) {
            report.diff_more = diffs.size() - params.diff_limit;
            diffs.resize(params.diff_limit);
        }
        report.diff = std::move(diffs);
    }
    // Per street, by where each changed organization is.
    std::vector<const MultiPolygon*> streets;
    std::vector<const Area*> street_areas;
    std::vector<const MultiPolygon*> grids;
    for (const auto& a : existing.areas) {
        if (a.level == Level::street) {
            streets.push_back(&a.shape);
            street_areas.push_back(&a);
        }
        if (a.level == Level::grid) grids.push_back(&a.shape);
    }
    if (!streets.empty()) {
        std::vector<Point> pts;
        for (const auto& c : changed) pts.push_back(c.first);
        auto hits = locate_points(streets, pts);
        for (std::size_t i = 0; i < hits.size(); ++i) {
            std::string key = hits[i] < 0 ? "(no street)"
                                          : street_areas[static_cast<std::size_t>(hits[i])]->name + " (" +
                                                street_areas[static_cast<std::size_t>(hits[i])]->code + ")";
            auto& c = report.by_street[key];
            (changed[i].second == 0 ? c.added : changed[i].second == 1 ? c.updated : c.deregistered)++;
        }
    }
    if (grids.empty()) {
        report.notes.push_back("the store has no grid cells yet: organizations not checked against them");
    } else {
        std::vector<Point> pts;
        for (const auto& o : incoming.orgs) pts.push_back(o.location);
        auto hits = locate_points(grids, pts);
        for (std::size_t i = 0; i < hits.size(); ++i)
            if (hits[i] < 0) report.outside_grid.push_back(incoming.orgs[i].id);
    }
    if (params.dry_run) return;
    audit.push_back({now, who, "import", "", "", summary_json(report)});
    out.orgs = std::move(result);
    out.audit = std::move(audit);
}

}  // namespace

const std::vector<std::string>& upload_drivers() {
    // Not LIBKML: it can follow a NetworkLink to a URL; the KML driver reads placemarks only.
    static const std::vector<std::string> drivers = {"CSV", "GeoJSON", "GPKG", "ESRI Shapefile", "KML"};
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
            read_orgs(r, params, d, report);
            break;
        case ImportKind::instructors:
            read_instructors(r, d);
            break;
    }
    return d;
}

PreparedImport prepare_import(const Dataset& existing, Dataset incoming, ImportReport report,
                              const ImportParams& params, const std::string& who) {
    PreparedImport out;
    out.kind = params.kind;
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
        case ImportKind::orgs:
            upsert_orgs(params, who, existing, incoming, report, out);
            break;
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
    if (params.kind != ImportKind::orgs) out.incoming = std::move(incoming);
    out.report = std::move(report);
    return out;
}

void commit_import(Store& store, PreparedImport& prepared, const ImportParams& params, ChangeRow* change) {
    if (params.cancelled && params.cancelled())
        throw cancelled_error("import stopped, nothing written");
    if (params.dry_run) return;  // every kind: a dry run writes nothing
    if (prepared.kind == ImportKind::orgs) {
        store.replace_orgs(prepared.orgs, prepared.audit, change);
    } else {
        store.append(prepared.incoming, change);
    }
    prepared.report.written = true;
    if (change) prepared.report.change_id = change->id;
}

ImportReport import_into(Store& store, const ImportParams& params, const std::string& who) {
    ImportReport report;
    Dataset incoming = read_source(params, report);
    auto prepared = prepare_import(store.load(), std::move(incoming), std::move(report), params, who);
    commit_import(store, prepared, params);
    return std::move(prepared.report);
}

}  // namespace covermap::geo
