#include "covermap/geo/doctor.hpp"

#include <utf8.h>

#include <set>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/text.hpp"

namespace covermap::geo {

std::string repair_text(const std::string& field, const std::string& value) {
    std::string s = replace_invalid_utf8(value);
    bool multiline = !text_problem(field, "a\nb").has_value();
    for (auto& c : s) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) || u == 0x7f) c = ' ';
    }
    // Cut to the field's length in characters, never inside one.
    std::size_t limit = text_limit(field), n = 0;
    for (auto it = s.begin(); it != s.end(); utf8::next(it, s.end()))
        if (++n > limit) return s.substr(0, static_cast<std::size_t>(it - s.begin()));
    return s;
}

namespace {

// Checks one text field; records the finding and repairs `value` in place when it is wrong.
bool check(std::vector<Finding>& out, const char* layer, const std::string& id, const char* field,
           std::string& value) {
    auto why = text_problem(field, value);
    if (!why) return false;
    value = repair_text(field, value);
    out.push_back({layer, replace_invalid_utf8(id), field, *why, "repaired text: " + value.substr(0, 60)});
    return true;
}

}  // namespace

DoctorReport doctor(Store& store, bool fix, const std::string& who) {
    DoctorReport report;
    auto& found = report.findings;
    Dataset d = store.load();
    std::set<Id> instructors;
    std::set<std::int64_t> branches;
    bool others_changed = false;
    for (auto& in : d.instructors) {
        instructors.insert(in.id);
        for (auto [field, value] : {std::pair{"name", &in.name}, {"industries", &in.industries}, {"unit", &in.unit}})
            others_changed |= check(found, "instructors", in.id, field, *value);
    }
    for (auto& a : d.areas)
        for (auto [field, value] : {std::pair{"name", &a.name}, {"parent_code", &a.parent_code}})
            others_changed |= check(found, "areas", a.code, field, *value);
    for (auto& b : d.branches) {
        branches.insert(b.id);
        others_changed |= check(found, "branches", std::to_string(b.id), "name", b.name);
    }
    std::vector<AuditEntry> audit;
    auto now = iso8601_utc_now();
    for (auto& o : d.orgs) {
        const Organization before = o;
        bool changed = false;
        if (auto why = text_problem("id", o.id))
            found.push_back({"orgs", replace_invalid_utf8(o.id), "id", *why,
                             "none: an id is the registry's key; correct it in the source and import again"});
        for (auto [field, value] :
             {std::pair{"name", &o.name}, {"credit_code", &o.credit_code}, {"industry", &o.industry}})
            changed |= check(found, "orgs", o.id, field, *value);
        Ledger ledger = o.ledger();
        bool ledger_changed = false;
        for (auto [field, value] : {std::pair{"address", &ledger.address},
                                    {"person_in_charge", &ledger.person_in_charge},
                                    {"phone", &ledger.phone},
                                    {"no_branch_reason", &ledger.no_branch_reason},
                                    {"measure", &ledger.measure}})
            ledger_changed |= check(found, "orgs", o.id, field, *value);
        if (ledger_changed) o.set_ledger(std::move(ledger));
        if (o.instructor_id && !instructors.count(*o.instructor_id)) {
            found.push_back({"orgs", replace_invalid_utf8(o.id), "instructor_id",
                             "instructor " + replace_invalid_utf8(*o.instructor_id) + " is not in the store",
                             "instructor removed"});
            o.instructor_id.reset();
            changed = true;
        }
        if (o.branch_id && !branches.count(*o.branch_id)) {
            found.push_back({"orgs", replace_invalid_utf8(o.id), "branch_id",
                             "branch " + std::to_string(*o.branch_id) + " is not in the store", "branch removed"});
            o.branch_id.reset();
            changed = true;
        }
        if (changed || ledger_changed) {
            ++o.version;
            nlohmann::json was = {{"name", before.name}, {"version", before.version}};
            nlohmann::json now_j = {{"name", o.name}, {"version", o.version}};
            audit.push_back({now, who, "doctor", o.id, dump_json(was), dump_json(now_j)});
        }
    }
    if (!fix || found.empty()) return report;
    if (others_changed) {
        // Areas, instructors and branches have no writes of their own: the data set is
        // written whole (audit and tokens kept), then the organizations' audit rows.
        store.replace(d);
        store.commit_changes({}, {}, audit);
    } else {
        store.replace_orgs(d.orgs, audit);
    }
    report.fixed = true;
    return report;
}

}  // namespace covermap::geo
