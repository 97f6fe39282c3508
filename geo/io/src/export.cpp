#include "covermap/geo/export.hpp"

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <ogr_feature.h>
#include <zip.h>

#include <algorithm>
#include <numeric>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <unordered_map>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/text.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "covermap/geo/store.hpp"
#include "detail/enum_names.hpp"
#include "detail/ogr.hpp"

namespace covermap::geo {

using namespace detail;
namespace fs = std::filesystem;

namespace {
constexpr EnumName<ExportLayer> kLayers[] = {{ExportLayer::orgs, "orgs", "两新组织"},
                                             {ExportLayer::areas, "areas", "区域"},
                                             {ExportLayer::instructors, "instructors", "党建指导员"},
                                             {ExportLayer::branches, "branches", "党组织"},
                                             {ExportLayer::assignments, "assignments", "指派"}};
constexpr EnumName<ExportFormat> kFormats[] = {{ExportFormat::shp, "shp", "Shapefile"},
                                               {ExportFormat::gpkg, "gpkg", "GeoPackage"},
                                               {ExportFormat::geojson, "geojson", "GeoJSON"},
                                               {ExportFormat::csv, "csv", "CSV"},
                                               {ExportFormat::xlsx, "xlsx", "Excel"}};
}  // namespace

std::optional<ExportLayer> parse_export_layer(const std::string& s) { return value_of(kLayers, s); }
std::optional<ExportFormat> parse_export_format(const std::string& s) { return value_of(kFormats, s); }

int gauss_kruger_epsg(double longitude, bool zone_prefix) {
    // CGCS2000 3-degree zones 25 (75°E) … 45 (135°E): EPSG:4513–4533 carry the zone
    // number in the false easting, EPSG:4534–4554 do not.
    int zone = static_cast<int>(std::lround(longitude / 3.0));
    zone = std::max(25, std::min(45, zone));
    return (zone_prefix ? 4513 : 4534) + (zone - 25);
}

bool truncate_encoded(std::string& s, std::size_t max_bytes, bool gbk) {
    std::size_t bytes = 0, i = 0;
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 4;
        std::size_t encoded = gbk ? (c < 0x80 ? 1 : 2) : len;
        if (bytes + encoded > max_bytes) {
            s.resize(i);
            return true;
        }
        bytes += encoded;
        i += len;
    }
    return false;
}

namespace {

struct FieldDef {
    const char* name;
    OGRFieldType type;
    int width;
    int precision;
    const char* zh;
    const char* en;
};

const std::vector<FieldDef>& fields_of(ExportLayer layer) {
    static const std::vector<FieldDef> orgs = {
        {"id", OFTString, 64, 0, "组织编号", "organization id (text)"},
        {"name", OFTString, 254, 0, "组织名称", "name"},
        {"kind", OFTString, 10, 0, "类型(enterprise非公企业/social社会组织)", "kind"},
        {"cred_code", OFTString, 18, 0, "统一社会信用代码", "unified social credit code"},
        {"industry", OFTString, 32, 0, "行业(GB/T 4754门类)", "industry (GB/T 4754 section)"},
        {"employees", OFTInteger, 9, 0, "从业人员数", "employees"},
        {"party_mbr", OFTInteger, 9, 0, "正式党员数", "formal party members"},
        {"status", OFTString, 12, 0, "经营状态", "status (operating/suspended/deregistered)"},
        {"above_scl", OFTInteger, 1, 0, "规模以上(1是0否)", "above scale (1/0)"},
        {"branch_id", OFTInteger64, 12, 0, "所在党组织编号", "branch id"},
        {"br_type", OFTString, 10, 0, "党组织类型(standalone单独/joint联合/affiliated挂靠)", "branch type"},
        {"instr_id", OFTString, 64, 0, "党建指导员编号", "instructor id (text)"},
        {"version", OFTInteger64, 12, 0, "版本号", "version"},
        {"grid_code", OFTString, 15, 0, "网格编码", "grid cell code"},
        {"comm_code", OFTString, 12, 0, "社区编码", "community code"},
        {"strt_code", OFTString, 9, 0, "街道(乡镇)编码", "street/town code"},
        {"dist_code", OFTString, 6, 0, "区县编码", "district code"},
        {"park_code", OFTString, 15, 0, "所在园区编码", "park code (empty outside parks)"},
        {"address", OFTString, 254, 0, "住所", "address"},
        {"person", OFTString, 64, 0, "出资人/负责人", "person in charge"},
        {"phone", OFTString, 32, 0, "联系电话", "phone"},
        {"no_br_rsn", OFTString, 254, 0, "未建党组织原因", "why no branch yet"},
        {"measure", OFTString, 254, 0, "一企一策措施", "measure decided"},
        {"loc_prec", OFTString, 10, 0, "定位精度(exact/community/street/district)", "location precision"},
    };
    static const std::vector<FieldDef> areas = {
        {"code", OFTString, 15, 0, "区划编码", "area code"},
        {"name", OFTString, 254, 0, "名称", "name"},
        {"level", OFTString, 10, 0, "层级(district/street/community/grid/park)", "level"},
        {"parent_cd", OFTString, 15, 0, "上级编码", "parent code"},
        {"orgs", OFTInteger, 9, 0, "组织总数", "organizations"},
        {"operating", OFTInteger, 9, 0, "在营组织数", "operating organizations"},
        {"org_cov", OFTInteger, 9, 0, "组织覆盖数", "organizationally covered"},
        {"standalone", OFTInteger, 9, 0, "单独组建数", "with a standalone branch"},
        {"work_cov", OFTInteger, 9, 0, "工作覆盖数", "work covered"},
        {"instr_cov", OFTInteger, 9, 0, "指导员覆盖数", "instructor covered"},
        {"org_rate", OFTReal, 8, 4, "组织覆盖率(0-1)", "organizational coverage (0-1)"},
        {"std_rate", OFTReal, 8, 4, "单独组建率(0-1)", "standalone rate (0-1)"},
        {"work_rate", OFTReal, 8, 4, "工作覆盖率(0-1)", "work coverage (0-1)"},
        {"instr_rate", OFTReal, 8, 4, "指导员覆盖率(0-1)", "instructor coverage (0-1)"},
    };
    static const std::vector<FieldDef> instructors = {
        {"id", OFTString, 64, 0, "指导员编号", "instructor id (text)"},
        {"name", OFTString, 64, 0, "姓名", "name"},
        {"capacity", OFTInteger, 4, 0, "最多联系组织数", "capacity"},
        {"load", OFTInteger, 6, 0, "已联系组织数", "organizations assigned"},
        {"industries", OFTString, 64, 0, "擅长行业", "industry speciality"},
        {"unit", OFTString, 15, 0, "派出单位编码", "sending street/park code"},
    };
    static const std::vector<FieldDef> branches = {
        {"id", OFTInteger64, 12, 0, "党组织编号", "branch id"},
        {"name", OFTString, 254, 0, "党组织名称", "name"},
        {"type", OFTString, 10, 0, "组建方式(standalone单独/joint联合/affiliated挂靠)", "type"},
        {"members", OFTInteger, 6, 0, "党员数", "members"},
        {"br_level", OFTString, 12, 0, "层级(支部/总支/基层党委)", "level by members"},
        {"n_orgs", OFTInteger, 6, 0, "覆盖组织数", "organizations covered"},
        {"org_ids", OFTString, 254, 0, "覆盖组织编号(逗号分隔)", "organization ids, comma-separated"},
    };
    static const std::vector<FieldDef> assignments = {
        {"instr_id", OFTString, 64, 0, "指导员编号", "instructor id (text)"},
        {"instr_name", OFTString, 64, 0, "指导员姓名", "instructor name"},
        {"org_id", OFTString, 64, 0, "组织编号", "organization id (text)"},
        {"org_name", OFTString, 254, 0, "组织名称", "organization name"},
        {"dist_m", OFTReal, 12, 1, "距离(米)", "great-circle distance, metres"},
    };
    switch (layer) {
        case ExportLayer::orgs:
            return orgs;
        case ExportLayer::areas:
            return areas;
        case ExportLayer::instructors:
            return instructors;
        case ExportLayer::branches:
            return branches;
        case ExportLayer::assignments:
            return assignments;
    }
    return orgs;
}

const char* layer_name(ExportLayer l) {
    switch (l) {
        case ExportLayer::orgs:
            return "orgs";
        case ExportLayer::areas:
            return "areas";
        case ExportLayer::instructors:
            return "instructors";
        case ExportLayer::branches:
            return "branches";
        case ExportLayer::assignments:
            return "assignments";
    }
    return "orgs";
}

OGRwkbGeometryType geometry_type(ExportLayer l) {
    switch (l) {
        case ExportLayer::orgs:
        case ExportLayer::instructors:
            return wkbPoint;
        case ExportLayer::areas:
            return wkbMultiPolygon;
        case ExportLayer::branches:
            return wkbMultiPoint;
        case ExportLayer::assignments:
            return wkbLineString;
    }
    return wkbPoint;
}

// One row to write: values by field index, and a geometry in EPSG:4490.
struct Row {
    std::vector<std::string> text;
    std::vector<std::optional<double>> number;  // numbers (integers too); nullopt = null
    std::unique_ptr<OGRGeometry> geometry;
};

// Produces the rows of a layer, one at a time (no second copy of the data set).
class RowSource {
public:
    RowSource(const Dataset& d, const ExportParams& p) : d_(d), p_(p) {}

    std::size_t size() const {
        switch (p_.layer) {
            case ExportLayer::orgs:
                return d_.orgs.size();
            case ExportLayer::areas:
                return d_.areas.size();
            case ExportLayer::instructors:
                return d_.instructors.size();
            case ExportLayer::branches:
                return d_.branches.size();
            case ExportLayer::assignments:
                return d_.orgs.size();
        }
        return 0;
    }

    void prepare() {
        for (std::size_t i = 0; i < d_.orgs.size(); ++i) org_index_[d_.orgs[i].id] = i;
        for (std::size_t i = 0; i < d_.instructors.size(); ++i) instructor_index_[d_.instructors[i].id] = i;
        if (p_.layer == ExportLayer::orgs) {
            for (const auto& b : d_.branches) branch_type_[b.id] = b.type;
            std::unordered_map<std::string, const Area*> by_code;
            for (const auto& a : d_.areas) by_code[a.code] = &a;
            grid_of_ = locate_orgs(d_, Level::grid);
            park_of_ = locate_orgs(d_, Level::park);
            area_by_code_ = std::move(by_code);
        }
        if (p_.layer == ExportLayer::areas && p_.coverage) {
            for (auto level : {Level::district, Level::street, Level::community, Level::grid, Level::park}) {
                if (p_.level && *p_.level != level) continue;
                for (auto& r : p_.coverage(d_, level)) coverage_[r.code] = r;
            }
        }
        if (p_.layer == ExportLayer::instructors)
            for (const auto& o : d_.orgs)
                if (o.instructor_id) ++load_[*o.instructor_id];
    }

    // Fills row i; false when row i is not part of the layer (another level, no link).
    bool fill(std::size_t i, Row& r) {
        r.text.assign(fields_of(p_.layer).size(), "");
        r.number.assign(fields_of(p_.layer).size(), std::nullopt);
        r.geometry.reset();
        switch (p_.layer) {
            case ExportLayer::orgs:
                return fill_org(d_.orgs[i], grid_of_[i], park_of_[i], r);
            case ExportLayer::areas:
                return fill_area(d_.areas[i], r);
            case ExportLayer::instructors:
                return fill_instructor(d_.instructors[i], r);
            case ExportLayer::branches:
                return fill_branch(d_.branches[i], r);
            case ExportLayer::assignments:
                return fill_assignment(d_.orgs[i], r);
        }
        return false;
    }

private:
    static std::optional<double> num(std::optional<std::int64_t> v) {
        return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
    }

public:
    /// For streaming: the lookups fill_org needs, without locating every organization.
    void prepare_streaming() {
        for (const auto& a : d_.areas) area_by_code_[a.code] = &a;
    }
    void add_branch_type(std::int64_t id, BranchType t) { branch_type_[id] = t; }

    /// Fills an organization's row; grid_area is its grid cell's index in the areas, or −1.
    bool fill_org(const Organization& o, int grid_area, int park_area, Row& r) {
        r.text.assign(fields_of(p_.layer).size(), "");
        r.number.assign(fields_of(p_.layer).size(), std::nullopt);
        r.geometry.reset();
        r.text[0] = o.id;
        r.text[1] = o.name;
        r.text[2] = std::string(to_string(o.kind));
        r.text[3] = o.credit_code;
        r.text[4] = o.industry;
        r.number[5] = o.employees;
        r.number[6] = o.party_members;
        r.text[7] = std::string(to_string(o.status));
        r.number[8] = o.above_scale ? 1 : 0;
        r.number[9] = num(o.branch_id);
        if (o.branch_id) {
            auto it = branch_type_.find(*o.branch_id);
            if (it != branch_type_.end()) r.text[10] = std::string(to_string(it->second));
        }
        r.text[11] = o.instructor_id.value_or("");
        r.number[12] = static_cast<double>(o.version);
        if (grid_area >= 0) {
            // Walk up from the grid cell: community, street, district.
            const Area* a = &d_.areas[static_cast<std::size_t>(grid_area)];
            r.text[13] = a->code;
            for (int slot : {14, 15, 16}) {
                auto it = area_by_code_.find(a->parent_code);
                if (it == area_by_code_.end()) break;
                a = it->second;
                r.text[static_cast<std::size_t>(slot)] = a->code;
            }
        }
        if (park_area >= 0) r.text[17] = d_.areas[static_cast<std::size_t>(park_area)].code;
        const Ledger& ledger = o.ledger();
        r.text[18] = ledger.address;
        r.text[19] = ledger.person_in_charge;
        r.text[20] = ledger.phone;
        r.text[21] = ledger.no_branch_reason;
        r.text[22] = ledger.measure;
        r.text[23] = ledger.location_precision.empty() ? "exact" : ledger.location_precision;
        r.geometry = to_ogr(o.location);
        return true;
    }

private:
    bool fill_area(const Area& a, Row& r) {
        if (p_.level && a.level != *p_.level) return false;
        r.text[0] = a.code;
        r.text[1] = a.name;
        r.text[2] = std::string(to_string(a.level));
        r.text[3] = a.parent_code;
        CoverageRow c;
        if (auto it = coverage_.find(a.code); it != coverage_.end()) c = it->second;
        r.number[4] = static_cast<double>(c.orgs);
        r.number[5] = static_cast<double>(c.operating);
        r.number[6] = static_cast<double>(c.org_covered);
        r.number[7] = static_cast<double>(c.standalone);
        r.number[8] = static_cast<double>(c.work_covered);
        r.number[9] = static_cast<double>(c.instructor_covered);
        r.number[10] = std::round(c.org_coverage() * 1e4) / 1e4;
        r.number[11] = std::round(c.standalone_rate() * 1e4) / 1e4;
        r.number[12] = std::round(c.work_coverage() * 1e4) / 1e4;
        r.number[13] = std::round(c.instructor_coverage() * 1e4) / 1e4;
        r.geometry = to_ogr(a.shape);
        return true;
    }

    bool fill_instructor(const Instructor& in, Row& r) {
        r.text[0] = in.id;
        r.text[1] = in.name;
        r.number[2] = in.capacity;
        auto it = load_.find(in.id);
        r.number[3] = it == load_.end() ? 0 : it->second;
        r.text[4] = in.industries;
        r.text[5] = in.unit;
        r.geometry = to_ogr(in.home);
        return true;
    }

    bool fill_branch(const Branch& b, Row& r) {
        r.number[0] = static_cast<double>(b.id);
        r.text[1] = b.name;
        r.text[2] = std::string(to_string(b.type));
        r.number[3] = b.members;
        r.text[4] = std::string(branch_level(b.members));
        r.number[5] = static_cast<double>(b.org_ids.size());
        auto mp = std::make_unique<OGRMultiPoint>();
        for (const auto& id : b.org_ids) {
            if (!r.text[6].empty()) r.text[6] += ',';
            r.text[6] += id;
            if (auto it = org_index_.find(id); it != org_index_.end()) {
                const auto& loc = d_.orgs[it->second].location;
                mp->addGeometryDirectly(new OGRPoint(loc.x, loc.y));
            }
        }
        r.geometry = std::move(mp);
        return true;
    }

    bool fill_assignment(const Organization& o, Row& r) {
        if (!o.instructor_id) return false;
        auto it = instructor_index_.find(*o.instructor_id);
        if (it == instructor_index_.end()) return false;
        const auto& in = d_.instructors[it->second];
        r.text[0] = in.id;
        r.text[1] = in.name;
        r.text[2] = o.id;
        r.text[3] = o.name;
        r.number[4] = std::round(haversine_m(in.home, o.location) * 10) / 10;
        auto line = std::make_unique<OGRLineString>();
        line->addPoint(in.home.x, in.home.y);
        line->addPoint(o.location.x, o.location.y);
        r.geometry = std::move(line);
        return true;
    }

    const Dataset& d_;
    const ExportParams& p_;
    std::unordered_map<Id, std::size_t> org_index_, instructor_index_;
    std::unordered_map<std::int64_t, BranchType> branch_type_;
    std::unordered_map<std::string, const Area*> area_by_code_;
    std::unordered_map<std::string, CoverageRow> coverage_;
    std::unordered_map<Id, int> load_;
    std::vector<int> grid_of_, park_of_;
};

// Bytes a shapefile record adds to the .shp (record header + content).
std::uint64_t shp_record_bytes(const OGRGeometry* g) {
    if (!g || g->IsEmpty()) return 8 + 4;
    switch (wkbFlatten(g->getGeometryType())) {
        case wkbPoint:
            return 8 + 20;
        case wkbMultiPoint:
            return 8 + 40 + 16ULL * g->toMultiPoint()->getNumGeometries();
        case wkbLineString:
            return 8 + 44 + 4 + 16ULL * g->toLineString()->getNumPoints();
        default: {
            std::uint64_t parts = 0, points = 0;
            for (const auto* poly : g->toMultiPolygon()) {
                for (const auto* ring : poly) {
                    ++parts;
                    points += static_cast<std::uint64_t>(ring->getNumPoints());
                }
            }
            return 8 + 44 + 4 * parts + 16 * points;
        }
    }
}

// Files people open (Excel, CSV for Excel) speak Chinese: each heading is the field's Chinese
// name without an explanation holding English ("类型(enterprise非公企业/social社会组织)" is
// "类型"), each coded value its Chinese word; covermap's import reads both back.
bool for_people(const ExportParams& p) {
    return p.format == ExportFormat::xlsx || (p.format == ExportFormat::csv && p.excel);
}

std::string heading_of(const FieldDef& f) {
    std::string zh = f.zh;
    auto open = zh.find('(');
    if (open == std::string::npos) return zh;
    bool english = std::any_of(zh.begin() + static_cast<long>(open), zh.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    });
    return english ? zh.substr(0, open) : zh;
}

// The Chinese word of a coded value, or the value as it is.
std::string value_for_people(std::string_view field, const std::string& v) {
    if (field == "kind")
        if (auto k = parse_org_kind(v)) return std::string(chinese_name(*k));
    if (field == "status")
        if (auto s = parse_org_status(v)) return std::string(chinese_name(*s));
    if (field == "br_type" || field == "type")
        if (auto b = parse_branch_type(v)) return std::string(chinese_name(*b));
    if (field == "level")
        if (auto l = parse_level(v)) return std::string(chinese_name(*l));
    if (field == "loc_prec") {
        if (v == "exact") return "精确";
        if (auto l = parse_level(v)) return std::string(chinese_name(*l));
    }
    return v;
}

class Writer {
public:
    Writer(const ExportParams& p, const OGRSpatialReference& srs, std::string dir, bool gbk)
        : p_(p), srs_(srs), dir_(std::move(dir)), gbk_(gbk) {}

    ~Writer() { close(); }

    OGRLayer* layer() { return layer_; }

    // Opens the first or the next part.
    void open_part() {
        close();
        ++part_;
        std::string base = layer_name(p_.layer);
        if (part_ > 1) base += "_" + std::to_string(part_);
        std::string path, driver;
        char** dsco = nullptr;
        char** lco = nullptr;
        switch (p_.format) {
            case ExportFormat::shp:
                driver = "ESRI Shapefile";
                path = dir_ + "/" + base + ".shp";
                lco = CSLSetNameValue(lco, "ENCODING", gbk_ ? "CP936" : "UTF-8");
                break;
            case ExportFormat::gpkg:
                driver = "GPKG";
                path = p_.out;
                break;
            case ExportFormat::geojson:
                driver = "GeoJSON";
                path = p_.out;
                lco = CSLSetNameValue(lco, "RFC7946", "YES");
                lco = CSLSetNameValue(lco, "COORDINATE_PRECISION", "7");
                break;
            case ExportFormat::csv:
                driver = "CSV";
                path = p_.out;
                lco = CSLSetNameValue(lco, "WRITE_BOM", "YES");
                lco = CSLSetNameValue(lco, "GEOMETRY", geometry_type(p_.layer) == wkbPoint ? "AS_XY" : "AS_WKT");
                break;
            case ExportFormat::xlsx:
                // Text fields become text cells: credit codes and area codes stay codes, never
                // 9.12E+17. Points get lon/lat columns; other geometries are left out.
                driver = "XLSX";
                path = p_.out;
                break;
        }
        auto* drv = GetGDALDriverManager()->GetDriverByName(driver.c_str());
        ds_.reset(drv->Create(path.c_str(), 0, 0, 0, GDT_Unknown, dsco));
        if (!ds_) throw error("cannot create " + path + ": " + CPLGetLastErrorMsg());
        bool sheet = p_.format == ExportFormat::xlsx;
        layer_ = ds_->CreateLayer(base.c_str(), sheet ? nullptr : const_cast<OGRSpatialReference*>(&srs_),
                                  sheet ? wkbNone : geometry_type(p_.layer), lco);
        CSLDestroy(lco);
        if (!layer_) throw error("cannot create layer " + base + ": " + CPLGetLastErrorMsg());
        for (const auto& f : fields_of(p_.layer)) {
            OGRFieldDefn defn(for_people(p_) ? heading_of(f).c_str() : f.name, f.type);
            if (p_.format == ExportFormat::shp || f.type == OFTReal) {
                defn.SetWidth(f.width);
                defn.SetPrecision(f.precision);
            }
            if (layer_->CreateField(&defn) != OGRERR_NONE)
                throw error(std::string("cannot create field ") + f.name + ": " + CPLGetLastErrorMsg());
        }
        if (sheet && geometry_type(p_.layer) == wkbPoint)
            for (const char* name : {"经度", "纬度"}) {
                OGRFieldDefn defn(name, OFTReal);
                layer_->CreateField(&defn);
            }
        shp_bytes_ = 100;
        dbf_record_ = 1;
        for (const auto& f : fields_of(p_.layer)) dbf_record_ += static_cast<std::uint64_t>(f.width);
        dbf_bytes_ = 32 + 32ULL * fields_of(p_.layer).size() + 1;
        bases_.push_back(base);
        if (p_.format == ExportFormat::gpkg) ds_->StartTransaction();
    }

    // Starts a new part when this record would push a file past the limit.
    void make_room(const OGRGeometry* g) {
        if (p_.format != ExportFormat::shp) return;
        auto add = shp_record_bytes(g);
        if ((shp_bytes_ + add > p_.max_file_bytes || dbf_bytes_ + dbf_record_ > p_.max_file_bytes) && records_ > 0) {
            open_part();
            records_ = 0;
        }
        if (shp_bytes_ + add > p_.max_file_bytes || dbf_bytes_ + dbf_record_ > p_.max_file_bytes)
            throw error("one record is larger than the " + std::to_string(p_.max_file_bytes) + "-byte file limit");
        shp_bytes_ += add;
        dbf_bytes_ += dbf_record_;
        ++records_;
    }

    void write(OGRFeature& f) {
        if (layer_->CreateFeature(&f) != OGRERR_NONE) throw error(std::string("cannot write: ") + CPLGetLastErrorMsg());
    }

    void close() {
        if (!ds_) return;
        if (p_.format == ExportFormat::gpkg) ds_->CommitTransaction();
        ds_.reset();
        layer_ = nullptr;
        if (p_.format == ExportFormat::shp) {
            // GDAL writes the language driver id (0x4D = CP936) in the DBF; the .cpg
            // names the same encoding in the spelling every reader knows (shpjs's
            // TextDecoder accepts "GBK", not "CP936").
            VSILFILE* f = VSIFOpenL((dir_ + "/" + bases_.back() + ".cpg").c_str(), "wb");
            if (f) {
                const char* name = gbk_ ? "GBK" : "UTF-8";
                VSIFWriteL(name, 1, std::strlen(name), f);
                VSIFCloseL(f);
            }
            // GDAL 3.6 leaves the language driver id at 0 for CP936; 0x4D is GBK's.
            VSILFILE* dbf = VSIFOpenL((dir_ + "/" + bases_.back() + ".dbf").c_str(), "r+b");
            if (dbf) {
                unsigned char ldid = gbk_ ? 0x4D : 0x00;
                VSIFSeekL(dbf, 29, SEEK_SET);
                VSIFWriteL(&ldid, 1, 1, dbf);
                VSIFCloseL(dbf);
            }
        }
    }

    const std::vector<std::string>& bases() const { return bases_; }
    int parts() const { return part_; }

private:
    const ExportParams& p_;
    const OGRSpatialReference& srs_;
    std::string dir_;
    bool gbk_;
    DatasetPtr ds_;
    OGRLayer* layer_ = nullptr;
    int part_ = 0;
    std::uint64_t shp_bytes_ = 0, dbf_bytes_ = 0, dbf_record_ = 0, records_ = 0;
    std::vector<std::string> bases_;
};

// libzip rather than GDAL's CPLCreateZip: it lets us pick the deflate level. Level 1 is
// about 2.5 times faster than the default 6 on a padded DBF, for a zip 20 % larger.
void zip_folder(const std::string& dir, const std::vector<std::string>& names, const std::string& zip_path) {
    fs::remove(zip_path);
    int err = 0;
    zip_t* zip = zip_open(zip_path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!zip) throw error("cannot create " + zip_path);
    for (const auto& name : names) {
        zip_source_t* src = zip_source_file(zip, (dir + "/" + name).c_str(), 0, -1);
        zip_int64_t idx = src ? zip_file_add(zip, name.c_str(), src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE) : -1;
        if (idx < 0) {
            if (src) zip_source_free(src);
            std::string msg = zip_strerror(zip);
            zip_discard(zip);
            throw error("cannot add " + name + " to " + zip_path + ": " + msg);
        }
        zip_set_file_compression(zip, static_cast<zip_uint64_t>(idx), ZIP_CM_DEFLATE, 1);
    }
    if (zip_close(zip) != 0) {
        std::string msg = zip_strerror(zip);
        zip_discard(zip);
        throw error("cannot write " + zip_path + ": " + msg);
    }
}

std::string readme(const ExportParams& p, const ExportReport& r) {
    std::string s = "covermap export / covermap 导出\n";
    s += "layer 图层: " + std::string(layer_name(p.layer)) + "\n";
    s += "created 生成时间: " + iso8601_utc_now() + "\n";
    s += "CRS 坐标系: " + r.srs + "\n";
    s += "encoding 编码: " + std::string(p.encoding == "UTF-8" ? "UTF-8" : "GBK (CP936)") + " (.cpg, DBF LDID)\n";
    s += "features 要素数: " + std::to_string(r.features) + "\n";
    if (r.parts > 1) s += "parts 分卷: " + std::to_string(r.parts) + " (2 GB per file 单文件上限)\n";
    if (r.truncated) s += "truncated text values 截断文本数: " + std::to_string(r.truncated) + " (254 bytes 字节)\n";
    s += "\nfields 字段:\n";
    for (const auto& f : fields_of(p.layer)) s += std::string(f.name) + "\t" + f.zh + "\t" + f.en + "\n";
    return s;
}

}  // namespace

std::vector<ExportField> export_fields(ExportLayer layer) {
    std::vector<ExportField> out;
    for (const auto& f : fields_of(layer)) out.push_back({f.name, f.zh, f.en});
    return out;
}

namespace {

bool gbk_of(const ExportParams& p) {
    if (p.encoding == "GBK" || p.encoding == "gbk" || p.encoding == "CP936") return p.format == ExportFormat::shp;
    if (p.encoding == "UTF-8" || p.encoding == "utf-8" || p.encoding == "UTF8") return false;
    throw invalid_argument("encoding must be GBK or UTF-8, not '" + p.encoding + "'");
}

// Writes what produce emits, row by row: the part of an export that does not depend on where
// rows come from (a Dataset in memory, or organizations streamed from the store).
ExportReport write_rows(const ExportParams& p, const BBox& data_box, std::size_t total,
                        const std::function<void(const std::function<void(Row&)>&)>& produce) {
    ensure_gdal();
    if (p.out.empty()) throw invalid_argument("no output file (--out)");
    bool gbk = gbk_of(p);
    // OGR's LIKE backtracks on every '%': a pattern with many of them costs the row length
    // to that power. Two per filter cover every real use; a cancel callback bounds the rest.
    if (p.where.size() > 1000 || std::count(p.where.begin(), p.where.end(), '%') > 2)
        throw invalid_argument("where is limited to 1000 characters and two '%' wildcards");

    ExportReport report;
    // The target CRS.
    OGRSpatialReference srs;
    std::string srs_text = p.srs.empty() ? "EPSG:4490" : p.srs;
    if (auto code = parse_epsg(srs_text)) srs_text = "EPSG:" + std::to_string(*code);  // any case: epsg:4490
    if (p.format == ExportFormat::geojson) {
        if (srs_text != "EPSG:4490" && srs_text != "EPSG:4326")
            throw invalid_argument("GeoJSON (RFC 7946) is always WGS84 longitude/latitude: leave srs out");
        srs_text = "EPSG:4326";
    }
    if (srs_text == "auto-gk") {
        const BBox& box = data_box;
        if (box.empty()) throw invalid_argument("auto-gk: no data to take the centre of");
        srs_text = "EPSG:" + std::to_string(gauss_kruger_epsg((box.minx + box.maxx) / 2));
    }
    try {
        srs = srs_from(srs_text);
    } catch (const invalid_argument&) {
        throw invalid_argument("unknown CRS '" + srs_text + "' (srs)");
    }
    if (srs_text.rfind("EPSG:", 0) != 0) throw invalid_argument("srs must be EPSG:n or auto-gk");
    report.srs = srs_text;
    std::unique_ptr<OGRCoordinateTransformation> ct;
    if (!srs.IsSame(&cgcs2000())) {
        ct.reset(OGRCreateCoordinateTransformation(&cgcs2000(), &srs));
        if (!ct) throw invalid_argument("no transformation from EPSG:4490 to " + srs_text);
    }

    // Where the files go: shapefiles into a scratch folder, zipped at the end.
    std::string dir;
    if (p.format == ExportFormat::shp) {
        dir = p.out + ".parts";
        fs::remove_all(dir);
        fs::create_directories(dir);
    } else {
        fs::remove(p.out);
    }

    Writer writer(p, srs, dir, gbk);
    writer.open_part();

    // --where is OGR SQL over the exported field names, checked before writing anything.
    // Always over the English field names, whatever the file's headings.
    OGRFeatureQuery query;
    bool filtered = !p.where.empty();
    auto* names = new OGRFeatureDefn("where");
    names->Reference();
    for (const auto& f : fields_of(p.layer)) {
        OGRFieldDefn defn(f.name, f.type);
        names->AddFieldDefn(&defn);
    }
    std::unique_ptr<OGRFeatureDefn, void (*)(OGRFeatureDefn*)> where_defn(names, [](OGRFeatureDefn* d) { d->Release(); });
    if (filtered && query.Compile(where_defn.get(), p.where.c_str()) != OGRERR_NONE) {
        writer.close();
        if (!dir.empty())
            fs::remove_all(dir);
        else
            fs::remove(p.out);
        throw invalid_argument("bad where '" + p.where + "': " + CPLGetLastErrorMsg());
    }

    const auto& defs = fields_of(p.layer);
    std::vector<int> identity(defs.size());
    std::iota(identity.begin(), identity.end(), 0);
    const bool people = for_people(p);
    std::size_t seen = 0;
    produce([&](Row& row) {
        std::size_t i = seen++;
        if (p.cancelled && p.cancelled()) throw cancelled_error("export stopped after " + std::to_string(i) + " rows");
        if (p.progress && i % 2048 == 0) p.progress("export", double(i) / std::max<std::size_t>(1, total));
        auto f = make_feature(where_defn.get());  // the English names and raw values `where` reads
        for (std::size_t k = 0; k < defs.size(); ++k) {
            int idx = static_cast<int>(k);
            if (defs[k].type == OFTString) {
                if (row.text[k].empty()) continue;
                if (p.format == ExportFormat::shp && truncate_encoded(row.text[k], 254, gbk)) ++report.truncated;
                f->SetField(idx, row.text[k].c_str());
            } else if (row.number[k]) {
                if (defs[k].type == OFTReal)
                    f->SetField(idx, *row.number[k]);
                else
                    f->SetField(idx, static_cast<GIntBig>(*row.number[k]));
            } else {
                f->SetFieldNull(idx);
            }
        }
        if (filtered && !query.Evaluate(f.get())) return;
        {
            auto g = make_feature(writer.layer()->GetLayerDefn());
            g->SetFrom(f.get(), identity.data(), TRUE);
            f = std::move(g);
        }
        if (people)
            for (std::size_t k = 0; k < defs.size(); ++k)
                if (defs[k].type == OFTString && !row.text[k].empty())
                    f->SetField(static_cast<int>(k), value_for_people(defs[k].name, row.text[k]).c_str());
        if (p.format == ExportFormat::csv)
            for (std::size_t k = 0; k < defs.size(); ++k) {
                const auto& v = row.text[k];
                if (defs[k].type != OFTString || v.empty()) continue;
                if (p.excel && v.size() >= 11 &&
                    std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
                    f->SetField(static_cast<int>(k), ("=\"" + v + "\"").c_str());  // a long code kept as text
                else if (auto guarded = csv_guard(v); guarded.size() != v.size())
                    f->SetField(static_cast<int>(k), guarded.c_str());  // never a formula
            }
        if (row.geometry) {
            row.geometry->assignSpatialReference(nullptr);
            if (ct && row.geometry->transform(ct.get()) != OGRERR_NONE)
                throw error("cannot transform feature " + std::to_string(i) + " to " + srs_text);
            writer.make_room(row.geometry.get());
            if (p.format == ExportFormat::xlsx && wkbFlatten(row.geometry->getGeometryType()) == wkbPoint) {
                f->SetField(f->GetFieldIndex("经度"), row.geometry->toPoint()->getX());
                f->SetField(f->GetFieldIndex("纬度"), row.geometry->toPoint()->getY());
            }
            f->SetGeometryDirectly(row.geometry.release());
        } else {
            writer.make_room(nullptr);
        }
        // make_room may have opened a new part: rebuild the feature on its definition.
        if (f->GetDefnRef() != writer.layer()->GetLayerDefn()) {
            auto g = make_feature(writer.layer()->GetLayerDefn());
            g->SetFrom(f.get());
            f = std::move(g);
        }
        writer.write(*f);
        ++report.features;
    });
    writer.close();
    report.parts = writer.parts();
    if (p.progress) p.progress("export", 1);

    if (p.format == ExportFormat::shp) {
        std::vector<std::string> names;
        for (const auto& base : writer.bases())
            for (const char* ext : {".shp", ".shx", ".dbf", ".prj", ".cpg"}) names.push_back(base + ext);
        {
            VSILFILE* f = VSIFOpenL((dir + "/README.txt").c_str(), "wb");
            auto text = readme(p, report);
            VSIFWriteL(text.data(), 1, text.size(), f);
            VSIFCloseL(f);
        }
        names.push_back("README.txt");
        zip_folder(dir, names, p.out);
        fs::remove_all(dir);
        report.files = names;
    } else {
        report.files = {fs::path(p.out).filename().string()};
    }
    return report;
}

}  // namespace

ExportReport export_layer(const Dataset& d, const ExportParams& p) {
    gbk_of(p);  // bad parameters fail before the work
    BBox box;
    for (const auto& o : d.orgs) box.expand(o.location);
    for (const auto& a : d.areas) box.expand(bounds(a.shape));
    RowSource rows(d, p);
    rows.prepare();
    return write_rows(p, box, rows.size(), [&](const std::function<void(Row&)>& emit) {
        Row row;
        for (std::size_t i = 0; i < rows.size(); ++i)
            if (rows.fill(i, row)) emit(row);
    });
}

ExportReport export_layer(const Store& store, const ExportParams& p) {
    if (p.layer != ExportLayer::orgs) return export_layer(store.load(), p);
    gbk_of(p);
    // Organizations stream from the store: memory holds the areas and a branch-type map, never
    // all organizations (nor branches, nor instructors) at once.
    Dataset d = store.load_areas();
    BBox box;
    for (const auto& a : d.areas) box.expand(bounds(a.shape));
    if (box.empty()) store.for_each_org([&](const Organization& o) { box.expand(o.location); });
    std::vector<const MultiPolygon*> grids, parks;
    std::vector<int> grid_area, park_area;
    for (std::size_t a = 0; a < d.areas.size(); ++a) {
        if (d.areas[a].level == Level::park) {
            parks.push_back(&d.areas[a].shape);
            park_area.push_back(static_cast<int>(a));
        }
        if (d.areas[a].level == Level::grid) {
            grids.push_back(&d.areas[a].shape);
            grid_area.push_back(static_cast<int>(a));
        }
    }
    PolygonIndex index(grids), park_index(parks);
    RowSource rows(d, p);
    rows.prepare_streaming();
    store.for_each_branch_type([&](std::int64_t id, BranchType t) { rows.add_branch_type(id, t); });
    auto total = static_cast<std::size_t>(std::max(0LL, store.count("orgs")));
    return write_rows(p, box, total, [&](const std::function<void(Row&)>& emit) {
        Row row;
        store.for_each_org([&](const Organization& o) {
            auto hit = index.locate(o.location);
            auto in_park = park_index.locate(o.location);
            if (rows.fill_org(o, hit ? grid_area[*hit] : -1, in_park ? park_area[*in_park] : -1, row)) emit(row);
        });
    });
}

}  // namespace covermap::geo
