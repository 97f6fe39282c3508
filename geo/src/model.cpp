#include "covermap/geo/model.hpp"

#include <algorithm>

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

std::string_view to_string(Level v) {
    switch (v) {
        case Level::district:
            return "district";
        case Level::street:
            return "street";
        case Level::community:
            return "community";
        case Level::grid:
            return "grid";
        case Level::park:
            return "park";
    }
    return "grid";
}

std::string_view to_string(OrgKind v) { return v == OrgKind::enterprise ? "enterprise" : "social"; }

std::string_view to_string(OrgStatus v) {
    switch (v) {
        case OrgStatus::operating:
            return "operating";
        case OrgStatus::suspended:
            return "suspended";
        case OrgStatus::deregistered:
            return "deregistered";
    }
    return "operating";
}

std::string_view to_string(BranchType v) {
    switch (v) {
        case BranchType::standalone:
            return "standalone";
        case BranchType::joint:
            return "joint";
        case BranchType::affiliated:
            return "affiliated";
    }
    return "standalone";
}

std::optional<Level> parse_level(std::string_view s) {
    if (s == "district" || s == "区县") return Level::district;
    if (s == "street" || s == "街道" || s == "乡镇") return Level::street;
    if (s == "community" || s == "社区" || s == "村") return Level::community;
    if (s == "grid" || s == "网格") return Level::grid;
    if (s == "park" || s == "园区") return Level::park;
    return std::nullopt;
}

std::optional<OrgKind> parse_org_kind(std::string_view s) {
    if (s == "enterprise" || s == "企业" || s == "非公企业") return OrgKind::enterprise;
    if (s == "social" || s == "社会组织") return OrgKind::social;
    return std::nullopt;
}

std::optional<OrgStatus> parse_org_status(std::string_view s) {
    if (s == "operating" || s == "在营" || s == "存续") return OrgStatus::operating;
    if (s == "suspended" || s == "停业" || s == "歇业") return OrgStatus::suspended;
    if (s == "deregistered" || s == "注销" || s == "吊销") return OrgStatus::deregistered;
    return std::nullopt;
}

std::optional<BranchType> parse_branch_type(std::string_view s) {
    if (s == "standalone" || s == "单独组建") return BranchType::standalone;
    if (s == "joint" || s == "联合组建") return BranchType::joint;
    if (s == "affiliated" || s == "挂靠") return BranchType::affiliated;
    return std::nullopt;
}

std::string_view branch_level(int members) {
    if (members >= 100) return "基层党委";
    if (members >= 50) return "总支";
    return "支部";
}

}  // namespace covermap::geo
