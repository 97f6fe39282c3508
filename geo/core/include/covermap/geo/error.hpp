#pragma once
/// \file The geo layer's exceptions: one root, typed children carrying context.

#include <stdexcept>
#include <string>

namespace covermap::geo {

/// Root of every error the geo layer throws.
struct error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Bad input data: names the file, the row or feature, and the problem.
struct format_error : error {
    format_error(std::string file, std::string where, const std::string& problem)
        : error(file + (where.empty() ? "" : ": " + where) + ": " + problem),
          file(std::move(file)),
          where(std::move(where)),
          problem(problem) {}
    std::string file;
    std::string where;  ///< "line 7", "feature 12" or empty
    std::string problem;
};

/// A geometry that could not be used even after repair.
struct geometry_error : error {
    using error::error;
};

/// The store could not be opened, read or written.
struct store_error : error {
    using error::error;
};

/// Invalid parameters to an operation (bad level, unknown CRS…).
struct invalid_argument : error {
    using error::error;
};

/// A write lost a race: the record changed since it was read, or an instructor filled up.
struct conflict_error : error {
    enum class Kind { stale_version, over_capacity, missing };
    conflict_error(Kind k, const std::string& what) : error(what), kind(k) {}
    Kind kind;
};

/// A long operation stopped because its caller asked (deadline passed, server stopping).
struct cancelled_error : error {
    using error::error;
};

}  // namespace covermap::geo
