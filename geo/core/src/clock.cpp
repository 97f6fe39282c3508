#include "covermap/geo/clock.hpp"

#include <date/date.h>

#include "covermap/geo/error.hpp"
#include "covermap/geo/text.hpp"

#include <charconv>
#include <sstream>

namespace covermap::geo {

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
    return date::format("%FT%TZ", date::floor<std::chrono::seconds>(t));
}

std::string china_date(std::chrono::system_clock::time_point t) {
    return date::format("%F", date::floor<date::days>(t + std::chrono::hours(8)));
}

bool valid_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (text[i] < '0' || text[i] > '9') return false;
    auto number = [&](std::size_t at, std::size_t len, int& out) {
        auto* first = text.data() + at;
        auto [end, ec] = std::from_chars(first, first + len, out);
        return ec == std::errc() && end == first + len;
    };
    int y = 0, m = 0, d = 0;
    if (!number(0, 4, y) || !number(5, 2, m) || !number(8, 2, d)) return false;
    return date::year_month_day{date::year{y}, date::month{static_cast<unsigned>(m)}, date::day{static_cast<unsigned>(d)}}
        .ok();
}

std::string first_of_month(int y, int m) {
    auto ym = date::year{y} / date::January + date::months{m - 1};
    return date::format("%F", date::year_month_day{ym / 1});
}

std::int64_t epoch_seconds(std::string_view text) {
    if (!valid_date(text)) return 0;
    std::istringstream in{std::string(text)};
    date::sys_days day;
    in >> date::parse("%F", day);
    return std::chrono::duration_cast<std::chrono::seconds>(day.time_since_epoch()).count();
}

std::string checked_date(const std::string& date) {
    if (!valid_date(date) || date < "1900-01-01")
        throw invalid_argument("date must be a calendar day YYYY-MM-DD, e.g. 2026-11-30 (got '" +
                               replace_invalid_utf8(date.substr(0, 20)) + "')");
    return date;
}

std::string add_days(const std::string& date, int days) {
    auto day = date::floor<date::days>(std::chrono::system_clock::time_point(std::chrono::seconds(epoch_seconds(date)))) +
               date::days(days);
    return date::format("%F", day);
}

std::string quarter_start(const std::string& date) {
    int y = std::stoi(date.substr(0, 4)), m = std::stoi(date.substr(5, 2));
    return first_of_month(y, (m - 1) / 3 * 3 + 1);
}

}  // namespace covermap::geo
