#pragma once
/// \file `covermap doctor`: finds, and with --fix repairs, what an older covermap let into a
/// store and today's checks at the door refuse: text that is not valid UTF-8 (encoded
/// surrogates, NULs), control characters, text longer than its field allows, and references
/// to instructors or branches that are not there.

#include <string>
#include <vector>

#include "covermap/geo/store.hpp"

namespace covermap::geo {

/// One thing wrong in a store.
struct Finding {
    std::string layer;    ///< orgs, instructors, areas, branches
    std::string id;       ///< the record's id (an area's code, a branch's number)
    std::string field;    ///< the field
    std::string problem;  ///< why (text.hpp's wording)
    std::string repair;   ///< what --fix does (or did) about it
};

/// What doctor found, and whether it repaired it.
struct DoctorReport {
    std::vector<Finding> findings;
    bool fixed = false;  ///< the repairs were written (one transaction per layer group, audited)
};

/// Text made storable: invalid bytes and NULs become U+FFFD, control characters a space
/// (line breaks and tabs kept where the field allows them), cut to the field's length.
std::string repair_text(const std::string& field, const std::string& value);

/// Checks every record of the store; with fix, writes the repairs (organizations keep their
/// place and assignments but a broken reference; each repaired organization's version is
/// bumped and audited as `doctor` by `who`).
DoctorReport doctor(Store& store, bool fix, const std::string& who = "doctor");

}  // namespace covermap::geo
