#pragma once
/// \file API tokens as the store keeps them: a name, a role, the SHA-256 of the secret, and
/// when the token was made, expires or was revoked. The API checks requests against them; the
/// CLI adds, lists and revokes them.

#include <string>

namespace covermap::geo {

/// An API token: only the SHA-256 of the secret is stored.
struct TokenRow {
    std::string name;
    std::string role;
    std::string hash;
    std::string created;
    std::string expires;  ///< YYYY-MM-DD: valid through that day (China's calendar); empty: no expiry
    std::string revoked;  ///< when it was revoked (ISO 8601); empty: not revoked
    std::string area;        ///< a planner's token limited to this area's code; empty: the city
    std::string instructor;  ///< an instructor's token: that instructor's id

    /// True when the token may be used on `today` (China's date, YYYY-MM-DD: clock.hpp's china_date).
    bool usable(const std::string& today) const { return revoked.empty() && (expires.empty() || today <= expires); }
};

}  // namespace covermap::geo
