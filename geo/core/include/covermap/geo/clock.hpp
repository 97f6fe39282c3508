#pragma once
/// \file The current time as ISO 8601 text (audit rows, tokens, export READMEs, OGC timestamps),
/// China's calendar date, and calendar dates checked.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace covermap::geo {

/// A time in UTC, to the second: "2026-11-23T20:38:00Z".
std::string iso8601_utc(std::chrono::system_clock::time_point t);

/// Now, in UTC, to the second.
inline std::string iso8601_utc_now() { return iso8601_utc(std::chrono::system_clock::now()); }

/// The calendar date in China (UTC+8, no daylight saving since 1991) at t: "2026-12-07".
/// Days, months and quarters of the policy texts are China's, never UTC's.
std::string china_date(std::chrono::system_clock::time_point t = std::chrono::system_clock::now());

/// True when text is a real calendar date written YYYY-MM-DD (2026-02-29 is not).
bool valid_date(std::string_view text);

/// A date "YYYY-MM-DD" checked (a real calendar day from 1900 on); throws invalid_argument.
std::string checked_date(const std::string& date);

/// The first day of month m of year y as YYYY-MM-DD; m may run past December or before
/// January (m = 13 is January of y + 1, m = 0 December of y − 1).
std::string first_of_month(int y, int m);

/// The first day of the calendar quarter holding `date` (YYYY-MM-DD): 2026-12-07 -> 2026-10-01.
/// A ledger is due when not verified since the first day of today's quarter (China's).
std::string quarter_start(const std::string& date);

/// The calendar date `days` after (before, when negative) `date` (YYYY-MM-DD).
std::string add_days(const std::string& date, int days);

/// A calendar date (valid_date) as seconds since the epoch at 00:00 UTC.
std::int64_t epoch_seconds(std::string_view date);

}  // namespace covermap::geo
