#include "covermap/geo/model.hpp"

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "covermap/geo/text.hpp"
#include "detail/enum_names.hpp"

namespace covermap::geo {

void BBox::expand(Point p) {
    minx = std::min(minx, p.x);
    miny = std::min(miny, p.y);
    maxx = std::max(maxx, p.x);
    maxy = std::max(maxy, p.y);
}

void BBox::expand(const BBox& b) {
    if (b.empty()) return;
    expand(Point{b.minx, b.miny});
    expand(Point{b.maxx, b.maxy});
}

bool BBox::intersects(const BBox& b) const {
    return !(b.minx > maxx || b.maxx < minx || b.miny > maxy || b.maxy < miny);
}

bool BBox::contains(Point p) const { return p.x >= minx && p.x <= maxx && p.y >= miny && p.y <= maxy; }

BBox bounds(const MultiPolygon& shape) {
    BBox b;
    for (const auto& poly : shape)
        for (const auto& p : poly.exterior) b.expand(p);
    return b;
}

namespace {

using detail::EnumName;
constexpr EnumName<Level> kLevels[] = {{Level::district, "district", "区县"},
                                       {Level::street, "street", "街道"},
                                       {Level::community, "community", "社区"},
                                       {Level::grid, "grid", "网格"},
                                       {Level::park, "park", "园区"}};
constexpr EnumName<OrgKind> kKinds[] = {{OrgKind::enterprise, "enterprise", "非公企业"},
                                        {OrgKind::social, "social", "社会组织"}};
constexpr EnumName<OrgStatus> kStatuses[] = {{OrgStatus::operating, "operating", "存续"},
                                             {OrgStatus::suspended, "suspended", "停业"},
                                             {OrgStatus::deregistered, "deregistered", "注销"}};
constexpr EnumName<BranchType> kBranchTypes[] = {{BranchType::standalone, "standalone", "单独组建"},
                                                 {BranchType::joint, "joint", "联合组建"},
                                                 {BranchType::affiliated, "affiliated", "挂靠"}};

}  // namespace

std::string_view to_string(Level v) { return detail::name_of(kLevels, v); }
std::string_view to_string(OrgKind v) { return detail::name_of(kKinds, v); }
std::string_view to_string(OrgStatus v) { return detail::name_of(kStatuses, v); }
std::string_view to_string(BranchType v) { return detail::name_of(kBranchTypes, v); }
std::string_view chinese_name(Level v) { return detail::chinese_of(kLevels, v); }
std::string_view chinese_name(OrgKind v) { return detail::chinese_of(kKinds, v); }
std::string_view chinese_name(OrgStatus v) { return detail::chinese_of(kStatuses, v); }
std::string_view chinese_name(BranchType v) { return detail::chinese_of(kBranchTypes, v); }

std::optional<Level> parse_level(std::string_view s) {
    if (auto v = detail::value_of(kLevels, s)) return v;
    if (s == "乡镇") return Level::street;
    if (s == "村") return Level::community;
    return std::nullopt;
}

namespace {
bool has(std::string_view s, std::string_view word) { return s.find(word) != std::string_view::npos; }
}  // namespace

// Registry words as the registries write them ("有限责任公司（自然人投资或控股）", "民办非企业单位").
std::optional<OrgKind> parse_org_kind(std::string_view s) {
    if (auto v = detail::value_of(kKinds, s)) return v;
    for (auto w : {"社会组织", "社会团体", "社团", "民办非企业", "社会服务机构", "基金会"})
        if (has(s, w)) return OrgKind::social;
    for (auto w : {"企业", "公司", "合伙", "个体", "个人独资", "农民专业合作社"})
        if (has(s, w)) return OrgKind::enterprise;
    return std::nullopt;
}

// The registries' status words: 存续/在营/在业/开业/在册 operating; 停业/歇业 suspended;
// 注销/吊销 deregistered ("吊销，未注销" too: it may not operate).
std::optional<OrgStatus> parse_org_status(std::string_view s) {
    if (auto v = detail::value_of(kStatuses, s)) return v;
    if (has(s, "注销") || has(s, "吊销")) return OrgStatus::deregistered;
    if (has(s, "停业") || has(s, "歇业")) return OrgStatus::suspended;
    for (auto w : {"存续", "在营", "在业", "开业", "在册", "正常"})
        if (has(s, w)) return OrgStatus::operating;
    return std::nullopt;
}

std::optional<BranchType> parse_branch_type(std::string_view s) { return detail::value_of(kBranchTypes, s); }

bool operator==(const Ledger& a, const Ledger& b) {
    return a.address == b.address && a.person_in_charge == b.person_in_charge && a.phone == b.phone &&
           a.no_branch_reason == b.no_branch_reason && a.measure == b.measure &&
           a.location_precision == b.location_precision;
}

const Ledger& Organization::no_ledger() {
    static const Ledger empty;
    return empty;
}

void Organization::set_ledger(Ledger ledger) {
    ledger_ = ledger == no_ledger() ? nullptr : std::make_shared<Ledger>(std::move(ledger));
}

Ledger& Organization::edit_ledger() {
    // A ledger another organization holds too (a copy of this one) is copied before a change.
    if (!ledger_)
        ledger_ = std::make_shared<Ledger>();
    else if (ledger_.use_count() > 1)
        ledger_ = std::make_shared<Ledger>(*ledger_);
    return *ledger_;
}

std::string_view branch_level(int members) {
    if (members >= 100) return "基层党委";
    if (members >= 50) return "总支";
    return "支部";
}

namespace {

std::optional<TextProblem> first_problem(std::initializer_list<std::pair<const char*, const std::string*>> fields) {
    for (const auto& [field, value] : fields)
        if (auto why = text_problem(field, *value)) return TextProblem{field, *why};
    return std::nullopt;
}

}  // namespace

std::optional<TextProblem> text_problem(const Organization& o) {
    const Ledger& l = o.ledger();
    return first_problem({{"id", &o.id},
                          {"name", &o.name},
                          {"credit_code", &o.credit_code},
                          {"industry", &o.industry},
                          {"address", &l.address},
                          {"person_in_charge", &l.person_in_charge},
                          {"phone", &l.phone},
                          {"no_branch_reason", &l.no_branch_reason},
                          {"measure", &l.measure}});
}

std::optional<TextProblem> text_problem(const Instructor& in) {
    return first_problem({{"id", &in.id}, {"name", &in.name}, {"industries", &in.industries}, {"unit", &in.unit}});
}

std::optional<TextProblem> text_problem(const Area& a) {
    return first_problem({{"code", &a.code}, {"name", &a.name}, {"parent_code", &a.parent_code}});
}

std::string branch_name(BranchType type, const std::string& first_org, std::size_t orgs) {
    switch (type) {
        case BranchType::standalone:
            return first_org + "党支部";
        case BranchType::joint:
            return first_org + "等联合党支部";
        case BranchType::affiliated:
            return first_org + (orgs > 1 ? "等挂靠党支部" : "挂靠党支部");
    }
    return first_org + "党支部";
}

std::string industry_name(const std::string& industry) {
    static const char* const kSections[] = {"农、林、牧、渔业",
                                            "采矿业",
                                            "制造业",
                                            "电力、热力、燃气及水生产和供应业",
                                            "建筑业",
                                            "批发和零售业",
                                            "交通运输、仓储和邮政业",
                                            "住宿和餐饮业",
                                            "信息传输、软件和信息技术服务业",
                                            "金融业",
                                            "房地产业",
                                            "租赁和商务服务业",
                                            "科学研究和技术服务业",
                                            "水利、环境和公共设施管理业",
                                            "居民服务、修理和其他服务业",
                                            "教育",
                                            "卫生和社会工作",
                                            "文化、体育和娱乐业",
                                            "公共管理、社会保障和社会组织",
                                            "国际组织"};
    if (industry.size() == 1 && industry[0] >= 'A' && industry[0] <= 'T') return kSections[industry[0] - 'A'];
    return industry;
}

std::string city_code(const std::vector<Area>& areas) {
    std::string parent, prefix;
    bool first = true, same_parent = true, same_prefix = true;
    for (const auto& a : areas) {
        if (a.level != Level::district) continue;
        auto p4 = a.code.size() == 6 ? a.code.substr(0, 4) : std::string();
        if (first) parent = a.parent_code, prefix = p4, first = false;
        same_parent = same_parent && a.parent_code == parent;
        same_prefix = same_prefix && p4 == prefix;
    }
    if (first) return "";
    if (same_parent && !parent.empty()) return parent;
    return same_prefix && !prefix.empty() ? prefix + "00" : "";
}

}  // namespace covermap::geo
