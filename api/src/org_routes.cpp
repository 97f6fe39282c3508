// Organizations and coverage: the coverage table, an organization, its instructor and ledger edits.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "covermap/api/app.hpp"
#include "covermap/api/geojson.hpp"
#include "covermap/geo/clock.hpp"
#include "covermap/geo/coverage.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/export.hpp"
#include "covermap/geo/import.hpp"
#include "covermap/geo/planner.hpp"
#include "covermap/geo/text.hpp"
#include "route_support.hpp"

namespace covermap::api {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace detail;
using geo::iso8601_utc_now;

Response App::coverage(const Request& req, const Token&, const std::vector<std::string>&) {
    auto lv = req.query.count("level") ? geo::parse_level(req.query.at("level")) : std::nullopt;
    if (!lv) return error_response(400, "InvalidQuery", "level must be district, street, community, grid or park");
    std::optional<geo::OrgKind> kind;
    if (req.query.count("kind")) {
        kind = geo::parse_org_kind(req.query.at("kind"));
        if (!kind) return error_response(400, "InvalidQuery", "kind must be enterprise or social");
    }
    std::string key = req.query.at("level") + "/" + (kind ? std::string(geo::to_string(*kind)) : "");
    std::string body;
    std::vector<std::string> codes;  // the areas targets are resolved for, only when there are targets
    bool targets = !target_state()->targets.empty();
    {
        std::lock_guard lock(cache_mutex_);
        auto it = coverage_cache_.find(key);
        if (it != coverage_cache_.end() && it->second.first == data_version_) body = it->second.second;
    }
    // Where each organization lies is kept between edits (only a move or a reload changes it):
    // an edit costs a count, not a GEOS pass over every point.
    auto where = body.empty() ? located(*lv) : nullptr;
    {
        std::shared_lock lock(data_mutex_);
        if (body.empty()) {
            auto version = data_version_.load();
            auto table = where->size() == data_.orgs.size() ? geo::compute_coverage(data_, *lv, kind, *where)
                                                            : geo::compute_coverage(data_, *lv, kind);
            body = dump_json(geo::to_json(table));
            std::lock_guard c(cache_mutex_);
            coverage_cache_[key] = {version, body};
        }
        if (targets) {
            codes.push_back("total");
            for (const auto& a : data_.areas)
                if (a.level == *lv) codes.push_back(a.code);
        }
    }
    // The targets beside the rates: spliced into the cached object (they change on their own).
    body.pop_back();
    body += ",\"targets\":" + dump_json(targets_json(std::string(geo::to_string(*lv)), codes)) + "}";
    Response r;
    r.body = std::move(body);
    return r;
}

json App::org_json(const geo::Organization& o) const {
    json j = {{"id", o.id},
              {"name", o.name},
              {"kind", std::string(geo::to_string(o.kind))},
              {"credit_code", o.credit_code},
              {"industry", o.industry},
              {"employees", o.employees},
              {"party_members", o.party_members},
              {"status", std::string(geo::to_string(o.status))},
              {"above_scale", o.above_scale},
              {"version", o.version},
              {"lon", o.location.x},
              {"lat", o.location.y}};
    j["branch_id"] = o.branch_id ? json(*o.branch_id) : json();
    j["instructor_id"] = o.instructor_id ? json(*o.instructor_id) : json();
    const geo::Ledger& ledger = o.ledger();
    j["address"] = ledger.address;
    j["location_precision"] = ledger.location_precision.empty() ? "exact" : ledger.location_precision;
    j["ledger"] = {{"person_in_charge", ledger.person_in_charge},
                   {"phone", ledger.phone},
                   {"no_branch_reason", ledger.no_branch_reason},
                   {"measure", ledger.measure}};
    return j;
}

Response App::get_org(const Request&, const Token&, const std::vector<std::string>& args) {
    std::shared_lock lock(data_mutex_);
    auto it = org_index_.find(args[0]);
    if (it == org_index_.end()) return error_response(404, "NotFound", "no organization " + args[0]);
    const auto& o = data_.orgs[it->second];
    auto r = json_response(org_json(o));
    r.headers.emplace_back("ETag", "\"" + std::to_string(o.version) + "\"");
    return r;
}

Response App::put_instructor(const Request& req, const Token& who, const std::vector<std::string>& args) {
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    // Ids are text; a JSON integer is taken as its decimal text (old clients send numbers).
    const json* v = body->is_object() && body->contains("instructor_id") ? &(*body)["instructor_id"] : nullptr;
    std::string instructor;
    if (v && v->is_string())
        instructor = v->get<std::string>();
    else if (v && v->is_number_integer())
        instructor = v->dump();
    if (instructor.empty() || instructor.size() > 64)
        return error_response(400, "InvalidValue", "body must be {\"instructor_id\": \"<id>\"}");
    return set_instructor(req, who, args[0], instructor);
}

Response App::delete_instructor(const Request& req, const Token& who, const std::vector<std::string>& args) {
    return set_instructor(req, who, args[0], std::nullopt);
}

Response App::set_instructor(const Request& req, const Token& who, const geo::Id& org_id,
                             std::optional<geo::Id> instructor_id) {
    if (req.if_match.empty())
        return error_response(428, "PreconditionRequired", "send If-Match with the organization's version (its ETag)");
    auto expected = parse_etag(req.if_match);
    if (!expected) return error_response(400, "InvalidValue", "If-Match must be a version number");

    std::lock_guard writer(write_mutex_);  // one writer at a time in this process: check, store, memory
    geo::Organization before;
    int capacity = 0;
    {
        std::shared_lock lock(data_mutex_);
        auto it = org_index_.find(org_id);
        if (it == org_index_.end()) return error_response(404, "NotFound", "no organization " + org_id);
        before = data_.orgs[it->second];
        if (instructor_id && !instructor_index_.count(*instructor_id))
            return error_response(404, "NotFound", "no instructor " + *instructor_id);
        if (before.version != *expected)
            return error_response(412, "PreconditionFailed",
                                  "version " + std::to_string(*expected) +
                                      " is stale; the organization is at version " + std::to_string(before.version));
        if (instructor_id && before.instructor_id != instructor_id) {
            const auto& in = data_.instructors[instructor_index_.at(*instructor_id)];
            capacity = in.capacity;
            auto load = load_.count(in.id) ? load_.at(in.id) : 0;
            if (load >= in.capacity)
                return error_response(409, "Conflict",
                                      in.name + " already covers " + std::to_string(load) +
                                          " organizations (capacity " + std::to_string(in.capacity) + ")");
        }
    }
    geo::Organization after = before;
    after.instructor_id = instructor_id;
    after.version = before.version + 1;
    auto brief = [](const geo::Organization& o) {
        return dump_json(
            json{{"instructor_id", o.instructor_id ? json(*o.instructor_id) : json()}, {"version", o.version}});
    };
    geo::AuditEntry audit{
        iso8601_utc_now(), who.name,    instructor_id ? "assign_instructor" : "remove_instructor", org_id,
        brief(before),     brief(after)};
    // The store first: an acknowledged edit is committed before the answer. The version and the
    // capacity are checked again inside the store's transaction (another process may share it).
    std::vector<geo::CapacityCheck> checks;
    if (instructor_id && before.instructor_id != instructor_id) checks.push_back({*instructor_id, capacity});
    try {
        store_->commit_changes({{org_id, after.branch_id, after.instructor_id, after.version, before.version}}, {},
                               {audit}, checks);
    } catch (const geo::conflict_error& e) {
        if (e.kind == geo::conflict_error::Kind::over_capacity) return error_response(409, "Conflict", e.what());
        return error_response(412, "PreconditionFailed", e.what());
    }
    {
        std::unique_lock lock(data_mutex_);
        data_.orgs[org_index_.at(org_id)] = after;
        if (before.instructor_id) --load_[*before.instructor_id];
        if (after.instructor_id) ++load_[*after.instructor_id];
        ++data_version_;
    }
    tiles_->update(before, after);  // store, memory, then the tiles it touched
    auto r = json_response(org_json(after));
    r.headers.emplace_back("ETag", "\"" + std::to_string(after.version) + "\"");
    return r;
}

// A planner corrects a record: status, employees, members, branch (removed or set to an
// existing one), the ledger, the address, the point (a row placed by address moved to its
// spot). With If-Match, audited, compared and swapped inside the store's transaction.
Response App::patch_org(const Request& req, const Token& who, const std::vector<std::string>& args) {
    if (req.if_match.empty())
        return error_response(428, "PreconditionRequired", "send If-Match with the organization's version (its ETag)");
    auto expected = parse_etag(req.if_match);
    if (!expected) return error_response(400, "InvalidValue", "If-Match must be a version number");
    std::string why;
    auto body = parse_json(req.body, why);
    if (!body) return error_response(400, "InvalidJson", why);
    if (!body->is_object() || body->empty())
        return error_response(400, "InvalidValue", "body must be an object of fields");
    std::lock_guard writer(write_mutex_);
    geo::Organization before;
    {
        std::shared_lock lock(data_mutex_);
        auto it = org_index_.find(args[0]);
        if (it == org_index_.end()) return error_response(404, "NotFound", "no organization " + args[0]);
        before = data_.orgs[it->second];
    }
    if (before.version != *expected)
        return error_response(412, "PreconditionFailed",
                              "version " + std::to_string(*expected) + " is stale; the organization is at version " +
                                  std::to_string(before.version));
    geo::Organization after = before;
    auto count = [&](const json& v, int hi) -> std::optional<int> {
        if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > hi) return std::nullopt;
        return static_cast<int>(v.get<std::int64_t>());
    };
    bool moved = false;
    for (const auto& [key, v] : body->items()) {
        std::string bad;
        if (key == "status") {
            auto st = v.is_string() ? geo::parse_org_status(v.get<std::string>()) : std::nullopt;
            if (st)
                after.status = *st;
            else
                bad = "operating, suspended or deregistered";
        } else if (key == "employees") {
            if (auto n = count(v, 100'000'000))
                after.employees = *n;
            else
                bad = "an integer 0–10^8";
        } else if (key == "party_members") {
            if (auto n = count(v, 10'000'000))
                after.party_members = *n;
            else
                bad = "an integer 0–10^7";
        } else if (key == "branch_id") {
            std::shared_lock lock(data_mutex_);
            if (v.is_null())
                after.branch_id.reset();
            else if (v.is_number_integer() &&
                     std::any_of(data_.branches.begin(), data_.branches.end(),
                                 [&, id = v.get<std::int64_t>()](const geo::Branch& b) { return b.id == id; }))
                after.branch_id = v.get<std::int64_t>();
            else
                bad = "null or the id of an existing branch";
        } else if (key == "no_branch_reason" || key == "measure" || key == "person_in_charge" || key == "phone" ||
                   key == "address") {
            if (!v.is_string()) {
                bad = "text";
            } else if (auto why = geo::text_problem(key, v.get_ref<const std::string&>())) {
                return error_response(400, "InvalidValue", key + " is " + *why);
            } else {
                geo::Ledger& ledger = after.edit_ledger();
                std::string& field = key == "no_branch_reason"   ? ledger.no_branch_reason
                                     : key == "measure"          ? ledger.measure
                                     : key == "person_in_charge" ? ledger.person_in_charge
                                     : key == "phone"            ? ledger.phone
                                                                 : ledger.address;
                field = v.get<std::string>();
            }
        } else if (key == "lon" || key == "lat") {
            double lim = key == "lon" ? 180 : 90;
            if (!v.is_number() || !std::isfinite(v.get<double>()) || std::fabs(v.get<double>()) > lim) {
                bad = "a number of degrees";
            } else {
                (key == "lon" ? after.location.x : after.location.y) = v.get<double>();
                after.edit_ledger().location_precision = "exact";
                moved = true;
            }
        } else {
            return error_response(400, "InvalidValue", "field '" + key + "' cannot be corrected here");
        }
        if (!bad.empty()) return error_response(400, "InvalidValue", key + " must be " + bad);
    }
    after.version = before.version + 1;
    geo::AuditEntry audit{iso8601_utc_now(),         who.name, "correct_record", before.id, dump_json(org_json(before)),
                          dump_json(org_json(after))};
    try {
        store_->update_org(after, before.version, audit);
    } catch (const geo::conflict_error& e) {
        return error_response(412, "PreconditionFailed", e.what());
    }
    {
        std::unique_lock lock(data_mutex_);
        data_.orgs[org_index_.at(after.id)] = after;
        ++data_version_;
        if (moved) ++reload_generation_;  // locations cached by area change
    }
    if (moved) {
        // A moved point changes which areas hold it: the drawing is rebuilt, and only the tiles
        // around where it was and where it is now go (with the areas it left and entered).
        std::shared_lock lock(data_mutex_);
        tiles_->replace(data_, {before.location, after.location});
    } else {
        tiles_->update(before, after);
    }
    auto r = json_response(org_json(after));
    r.headers.emplace_back("ETag", "\"" + std::to_string(after.version) + "\"");
    return r;
}

std::shared_ptr<const std::unordered_map<std::string, geo::CoverageRow>> App::coverage_by_code(geo::Level level) {
    {
        std::lock_guard lock(cache_mutex_);
        auto it = coverage_rows_.find(level);
        if (it != coverage_rows_.end() && it->second.first == data_version_) return it->second.second;
    }
    auto rows = std::make_shared<std::unordered_map<std::string, geo::CoverageRow>>();
    std::uint64_t version;
    auto where = located(level);
    {
        std::shared_lock lock(data_mutex_);
        version = data_version_;
        auto table = where->size() == data_.orgs.size() ? geo::compute_coverage(data_, level, std::nullopt, *where)
                                                        : geo::compute_coverage(data_, level);
        for (auto& r : table.areas) (*rows)[r.code] = r;
    }
    std::lock_guard lock(cache_mutex_);
    coverage_rows_[level] = {version, rows};
    return rows;
}

}  // namespace covermap::api
