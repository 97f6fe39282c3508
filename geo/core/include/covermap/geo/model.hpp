#pragma once
/// \file The domain model as plain value types: no I/O, no GEOS, no OGR.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

namespace covermap::geo {

/// A longitude/latitude pair in EPSG:4490 (x = longitude, y = latitude).
struct Point {
    double x = 0;
    double y = 0;
};

/// A closed ring: the first point repeats as the last.
using Ring = std::vector<Point>;

/// A polygon: one exterior ring and any number of holes.
struct Polygon {
    Ring exterior;
    std::vector<Ring> holes;
};

/// A multipolygon; an area's shape.
using MultiPolygon = std::vector<Polygon>;

/// An axis-aligned box.
struct BBox {
    double minx = 1e300, miny = 1e300, maxx = -1e300, maxy = -1e300;

    /// True until a point has been added.
    bool empty() const { return minx > maxx; }
    /// Grows the box to hold p.
    void expand(Point p);
    /// Grows the box to hold b.
    void expand(const BBox& b);
    /// True when the two boxes share at least a point.
    bool intersects(const BBox& b) const;
    /// True when p is inside or on the border.
    bool contains(Point p) const;
};

/// The box around every vertex of a shape.
BBox bounds(const MultiPolygon& shape);

enum class Level { district, street, community, grid, park };
enum class OrgKind { enterprise, social };
enum class OrgStatus { operating, suspended, deregistered };
enum class BranchType { standalone, joint, affiliated };

std::string_view to_string(Level v);
std::string_view to_string(OrgKind v);
std::string_view to_string(OrgStatus v);
std::string_view to_string(BranchType v);
/// The Chinese names the page, Excel files and reports show (区县, 非公企业, 存续, 联合组建…).
std::string_view chinese_name(Level v);
std::string_view chinese_name(OrgKind v);
std::string_view chinese_name(OrgStatus v);
std::string_view chinese_name(BranchType v);
/// Parsers accept the English contract names and the usual Chinese words; nullopt otherwise.
std::optional<Level> parse_level(std::string_view s);
std::optional<OrgKind> parse_org_kind(std::string_view s);
std::optional<OrgStatus> parse_org_status(std::string_view s);
std::optional<BranchType> parse_branch_type(std::string_view s);

/// A park, street, community, grid cell or district.
struct Area {
    std::string code;  ///< GB/T 2260 county + street + community + grid digits, as text
    std::string name;
    Level level = Level::grid;
    std::string parent_code;  ///< empty for districts
    MultiPolygon shape;
};

/// An organization's or instructor's key: text as the registry gives it (a registry number,
/// a credit code, a staff number); numbers are text too. Opaque to covermap.
using Id = std::string;

/// An organization's address as the registry gives it, and the ledger (台账) of the survey's
/// "five clears" (五清): all optional text.
struct Ledger {
    std::string address;             ///< 住所, as the registry gives it
    std::string person_in_charge;    ///< 出资人/负责人
    std::string phone;               ///< the person's phone
    std::string no_branch_reason;    ///< 未建党组织原因
    std::string measure;             ///< 一企一策/一社一策: the measure decided
    std::string location_precision;  ///< exact (empty too), community, street, district: placed by address
};
bool operator==(const Ledger& a, const Ledger& b);
inline bool operator!=(const Ledger& a, const Ledger& b) { return !(a == b); }

/// A non-public enterprise or social organization (两新组织).
struct Organization {
    Id id;
    std::string name;
    OrgKind kind = OrgKind::enterprise;
    std::string credit_code;  ///< 18-character 统一社会信用代码, text
    std::string industry;     ///< GB/T 4754 section letter or free text
    int employees = 0;
    int party_members = 0;  ///< formal members (正式党员)
    OrgStatus status = OrgStatus::operating;
    bool above_scale = false;
    std::optional<std::int64_t> branch_id;
    std::optional<Id> instructor_id;
    std::int64_t version = 1;
    Point location;

    bool operating() const { return status == OrgStatus::operating; }
    /// Its address and ledger; all empty unless set.
    const Ledger& ledger() const { return ledger_ ? *ledger_ : no_ledger(); }
    /// The address and ledger to change: made on first use, copied first if another
    /// organization (a copy of this one) shares it.
    Ledger& edit_ledger();
    /// Replaces the address and ledger (an empty one takes no memory).
    void set_ledger(Ledger ledger);

private:
    // Behind a pointer: the planner walks a million records and never reads this text (it was
    // 192 of 424 bytes a record). Shared by copies until one of them changes it.
    std::shared_ptr<Ledger> ledger_;
    static const Ledger& no_ledger();
};

/// A party-building instructor (党建指导员).
struct Instructor {
    Id id;
    std::string name;
    int capacity = 5;        ///< most organizations they may cover
    std::string industries;  ///< optional speciality, comma-separated section letters
    std::string unit;        ///< code of the street or park that sends them
    Point home;
};

/// A party organization (党组织) covering one or more organizations.
struct Branch {
    std::int64_t id = 0;
    std::string name;
    BranchType type = BranchType::standalone;
    int members = 0;
    std::vector<Id> org_ids;
};

/// The name of a GB/T 4754-2017 section letter (A–T): "C" -> "制造业"; anything else as it is.
std::string industry_name(const std::string& industry);

/// The name a new branch gets, the one rule of accepting a plan, the demo and every other way a
/// branch is made: the first organization's full name (单位全称) and 党支部 for a standalone
/// branch, 等联合党支部 for a joint one, 等挂靠党支部 for organizations affiliated together
/// (挂靠党支部 for one).
std::string branch_name(BranchType type, const std::string& first_org, std::size_t orgs);

/// The branch's level by member count: 支部, 总支 or 基层党委.
std::string_view branch_level(int members);

/// A text field that cannot be stored: which, and why (text.hpp's text_problem).
struct TextProblem {
    std::string field;
    std::string reason;
};
/// The first text field of the record that cannot be stored (invalid UTF-8, a control
/// character, too long), else nullopt: the same limits for imports, PATCH and the API.
std::optional<TextProblem> text_problem(const Organization& o);
std::optional<TextProblem> text_problem(const Instructor& in);
std::optional<TextProblem> text_problem(const Area& a);

/// Everything covermap keeps, in memory.
/// The last check of an organization's branch against the 五有 standard and its stars.
struct BranchCheck {
    std::string date;
    int wuyou = 0;
    int stars = 0;
};

struct Dataset {
    std::vector<Area> areas;
    std::vector<Organization> orgs;
    std::vector<Instructor> instructors;
    std::vector<Branch> branches;
    /// The day of each organization's last visit that confirmed its ledger (YYYY-MM-DD, China's
    /// calendar); organizations never confirmed are absent.
    std::unordered_map<Id, std::string> ledger_verified;
    /// The last 五有 check (and stars) of each organization's branch, from visits.
    std::unordered_map<Id, BranchCheck> branch_checks;
};

/// A visit to an organization (走访, 电话, 实地查看, 蹲点), as an instructor or a planner
/// recorded it: the day, what was done, whether the 五清 ledger was found true.
struct Visit {
    std::int64_t id = 0;  ///< given by the store
    Id org;
    std::string date;  ///< YYYY-MM-DD, China's calendar; never after today
    std::string kind;  ///< 走访 | 电话 | 实地查看 | 蹲点
    std::string note;
    bool ledger_confirmed = false;
    std::string by;          ///< the token's name
    Id instructor;           ///< the instructor whose token recorded it (empty: a planner's)
    std::string time;        ///< when it was recorded (ISO 8601, UTC)
    std::int64_t change_id = 0;
    /// The branch's 五有 checklist when it was checked on this visit (bits of kWuyou), or -1.
    int wuyou = -1;
    int stars = 0;          ///< the branch's star rating (星级) 1–5 given on this visit, or 0
    std::string visit_key;  ///< the client's own key: the same visit sent twice is kept once
};

/// The 五有 standard of a branch, in the order of the policy: 有组织、有制度、有活动、有阵地、
/// 有作用; a checklist is a bit set of these (all five: 31).
inline constexpr const char* kWuyou[5] = {"organization", "rules", "activities", "place", "role"};
inline constexpr int kWuyouAll = 31;


/// The city's code, the districts' parent: their parent_code when they share one, else the
/// first four digits they share (GB/T 2260: 211202, 211204 … -> 211200); empty when neither.
std::string city_code(const std::vector<Area>& areas);

/// A demonstration site (党建工作示范点): an organization with a branch, designated at the
/// county or the city level for a year.
struct Site {
    std::int64_t id = 0;
    Id org;
    std::string level;  ///< county | city
    int year = 0;
    std::string since;  ///< the day it was designated (YYYY-MM-DD)
    std::string by;
};

/// How many demonstration sites of a level an area (a district, a park, the city) is to have in a year.
struct SiteQuota {
    std::string area;
    std::string level;  ///< county | city
    int year = 0;
    int count = 0;
};

/// A leading cadre's contact point (联系点): the organization a leader takes, and who liaises.
struct ContactPoint {
    std::int64_t id = 0;
    std::string leader, post, liaison;
    Id org;
    std::string since;  ///< YYYY-MM-DD
    std::string by;
};

/// Which visits to read: of one organization, by one instructor, between two days (inclusive).
struct VisitQuery {
    Id org;
    Id instructor;
    std::string from, to;
    std::string visit_key;
};

}  // namespace covermap::geo
