#pragma once
/// \file The audit trail: who changed what, when. Every edit through the API or the CLI appends
/// one entry in the same transaction as the change (the store writes them; the API and the
/// web page's history read them).

#include <string>

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

}  // namespace covermap::geo
