#include "covermap/geo/figures.hpp"

#include "detail/enum_names.hpp"

namespace covermap::geo {

namespace {
enum : std::uint8_t { kCounted = 1, kOperating = 2, kBranch = 4, kStandalone = 8, kInstructor = 16, kVerified = 32 };
}

std::uint8_t CoverageRow::signature(const Organization& o, bool standalone_branch, bool verified) {
    std::uint8_t s = kCounted;
    if (!o.operating()) return s;
    s |= kOperating;
    if (o.branch_id) s |= kBranch | (standalone_branch ? kStandalone : 0);
    if (o.instructor_id) s |= kInstructor;
    if (verified) s |= kVerified;
    return s;
}

void CoverageRow::add(std::uint8_t s, int sign) {
    if (!(s & kCounted)) return;
    orgs += sign;
    if (!(s & kOperating)) return;
    operating += sign;
    if (s & kBranch) org_covered += sign;
    if (s & kStandalone) standalone += sign;
    if (s & (kBranch | kInstructor)) work_covered += sign;
    if (s & kInstructor) instructor_covered += sign;
    if (s & kVerified) ledger_verified += sign;
}

void CoverageRow::count(const Organization& o, bool standalone_branch, bool verified) {
    add(signature(o, standalone_branch, verified), 1);
}

BranchTypes branch_types(const Dataset& d) {
    BranchTypes types;
    for (const auto& b : d.branches) types[b.id] = b.type;
    return types;
}

bool in_standalone_branch(const Organization& o, const BranchTypes& types) {
    if (!o.branch_id) return false;
    auto it = types.find(*o.branch_id);
    return it != types.end() && it->second == BranchType::standalone;
}

const std::vector<Scope> kScopes = {Scope::all, Scope::enterprise, Scope::social, Scope::above_scale,
                                    Scope::employees50};
const std::vector<Metric> kMetrics = {Metric::org_coverage, Metric::standalone_rate, Metric::work_coverage,
                                      Metric::instructor_coverage, Metric::member_rate};

namespace {

using detail::EnumName;
constexpr EnumName<Scope> kScopeNames[] = {{Scope::all, "all", "全部"},
                                           {Scope::enterprise, "enterprise", "非公企业"},
                                           {Scope::social, "social", "社会组织"},
                                           {Scope::above_scale, "above_scale", "规模以上企业"},
                                           {Scope::employees50, "employees50", "50人以上"}};
constexpr EnumName<Metric> kMetricNames[] = {{Metric::org_coverage, "org_coverage", "组织覆盖率"},
                                             {Metric::standalone_rate, "standalone_rate", "单独组建率"},
                                             {Metric::work_coverage, "work_coverage", "工作覆盖率"},
                                             {Metric::instructor_coverage, "instructor_coverage", "指导员覆盖率"},
                                             {Metric::member_rate, "member_rate", "有党员比例"}};

}  // namespace

std::string_view to_string(Scope s) { return detail::name_of(kScopeNames, s); }
std::string_view to_string(Metric m) { return detail::name_of(kMetricNames, m); }
std::string_view chinese_name(Scope s) { return detail::chinese_of(kScopeNames, s); }
std::string_view chinese_name(Metric m) { return detail::chinese_of(kMetricNames, m); }

std::optional<Scope> parse_scope(std::string_view s) {
    if (auto v = detail::value_of(kScopeNames, s)) return v;
    if (s == "规模以上" || s == "规上") return Scope::above_scale;
    return std::nullopt;
}

std::optional<Metric> parse_metric(std::string_view s) { return detail::value_of(kMetricNames, s); }

bool in_scope(const Organization& o, Scope s) {
    switch (s) {
        case Scope::all:
            return true;
        case Scope::enterprise:
            return o.kind == OrgKind::enterprise;
        case Scope::social:
            return o.kind == OrgKind::social;
        case Scope::above_scale:
            return o.kind == OrgKind::enterprise && o.above_scale;
        case Scope::employees50:
            return o.employees >= 50;
    }
    return false;
}

double HistoryRow::rate(Metric m) const {
    switch (m) {
        case Metric::org_coverage:
            return figures.org_coverage();
        case Metric::standalone_rate:
            return figures.standalone_rate();
        case Metric::work_coverage:
            return figures.work_coverage();
        case Metric::instructor_coverage:
            return figures.instructor_coverage();
        case Metric::member_rate:
            return figures.operating ? static_cast<double>(with_members) / figures.operating : 0.0;
    }
    return 0;
}

namespace {
std::string row_key(std::string_view level, std::string_view code, Scope scope) {
    std::string k(level);
    k += '/';
    k += code;
    k += '/';
    k += to_string(scope);
    return k;
}
}  // namespace

void Snapshot::index() {
    index_.clear();
    index_.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
        index_[row_key(rows[i].level, rows[i].figures.code, rows[i].scope)] = i;
}

const HistoryRow* Snapshot::find(std::string_view level, std::string_view code, Scope scope) const {
    if (!index_.empty()) {
        auto it = index_.find(row_key(level, code, scope));
        return it == index_.end() ? nullptr : &rows[it->second];
    }
    for (const auto& r : rows)
        if (r.scope == scope && r.level == level && r.figures.code == code) return &r;
    return nullptr;
}

bool Target::applies_to(std::string_view lvl, std::string_view code) const {
    if (!area.empty()) return area == code;
    if (level.empty() || level == "total") return lvl == "total";
    return level == lvl;
}

}  // namespace covermap::geo
