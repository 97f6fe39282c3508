#pragma once
/// \file The audit trail: who changed what, when. Every edit through the API or the CLI appends
/// one entry in the same transaction as the change (the store writes them; the API and the
/// web page's history read them).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "covermap/geo/model.hpp"

namespace covermap::geo {

/// One row of the append-only audit table.
struct AuditEntry {
    std::string time;  ///< ISO 8601, UTC
    std::string token_name;
    std::string action;  ///< assign_instructor, remove_instructor, accept_plan…
    Id org_id;
    std::string before;  ///< JSON
    std::string after;   ///< JSON
};

/// One change: a write as one revertible unit (the change log behind undo). Its records are
/// what the organizations and branches it touched were before and are after, as JSON arrays
/// (null where there was or is none: an organization an import added, a branch an accept made).
struct ChangeRow {
    std::int64_t id = 0;  ///< given by the store when the row is written
    std::string time;     ///< ISO 8601, UTC
    std::string token_name;
    std::string kind;     ///< assign, unassign, correct, accept, import_orgs, import_areas, import_instructors, revert
    std::string summary;  ///< one sentence in Chinese
    std::vector<Id> orgs;
    std::string orgs_before = "[]", orgs_after = "[]";          ///< JSON arrays of records (or null)
    std::string branches_before = "[]", branches_after = "[]";  ///< JSON arrays of branches (or null)
    std::optional<std::int64_t> reverts, reverted_by;
};

}  // namespace covermap::geo
