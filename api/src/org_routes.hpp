#pragma once
// Organizations: one record, search, nearby instructors, history, and the edits (an instructor
// given or taken away, a record corrected), each parsed here and carried out by the editing
// service, whose typed errors become statuses.

#include <optional>
#include <variant>

#include "router.hpp"

namespace covermap::geo {
struct edit_error;
struct Author;
struct Organization;
struct Correction;
}

namespace covermap::api {

class CoverageCache;

class OrgRoutes {
public:
    OrgRoutes(Context& context, CoverageCache& coverage) : context_(context), coverage_(coverage) {}
    void add_routes(Router& router);

private:
    Response get(const Request&, const Caller&, const Args&);
    Response search(const Request&, const Caller&, const Args&);
    Response instructors(const Request&, const Caller&, const Args&);
    Response history(const Request&, const Caller&, const Args&);
    Response put_instructor(const Request&, const Caller&, const Args&);
    Response delete_instructor(const Request&, const Caller&, const Args&);
    Response patch(const Request&, const Caller&, const Args&);

    Context& context_;
    CoverageCache& coverage_;
};

/// The answer to an edit the editing service refused (its kind as the status).
Response edit_refused(const geo::edit_error& e);
/// An organization's coverage state as the API names it: uncovered, instructor, branch, inactive.
const char* state_of(const geo::Organization& o);
/// Who an edit is by, with what the caller's token limits it to (an area, an instructor's own
/// organizations).
geo::Author author_of(const Caller& who);
/// Whether the caller reads this organization's ledger (person in charge, phone, why no
/// branch, measures): everyone but an instructor's token, which reads its own only.
bool reads_ledger(const Caller& who, const geo::Organization& o);
/// The version an edit is made from (If-Match), or the refusal: 428 without, 400 when it is
/// no version number.
std::variant<std::int64_t, Response> if_match(const Request& req);
/// The fields of a correction (PATCH /api/orgs/{id}, a visit's ledger), typed into c: the
/// answer to send when one is wrong, else nothing.
std::optional<Response> read_correction(const nlohmann::json& body, geo::Correction& c);

}  // namespace covermap::api
