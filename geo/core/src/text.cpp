#include "covermap/geo/text.hpp"

#include <utf8.h>

#include <algorithm>
#include <iterator>
#include <map>

namespace covermap::geo {

bool valid_utf8(std::string_view s) {
    // utfcpp's strict check, not GDAL's CPLIsUTF8: that one accepts encoded surrogates
    // (ED A0 80), which no JSON writer or PostgreSQL accepts afterwards. NUL is ours to refuse.
    return s.find('\0') == std::string_view::npos && utf8::find_invalid(s.begin(), s.end()) == s.end();
}

std::string replace_invalid_utf8(std::string_view s) {
    if (valid_utf8(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 8);
    utf8::replace_invalid(s.begin(), s.end(), std::back_inserter(out));
    std::string clean;
    clean.reserve(out.size());
    for (char c : out) {
        if (c == '\0')
            clean += "\xEF\xBF\xBD";
        else
            clean += c;
    }
    return clean;
}

std::string dump_json(const nlohmann::json& j, int indent) {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string csv_guard(std::string_view text) {
    if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos)
        return "'" + std::string(text);
    return std::string(text);
}

std::string csv_field(std::string_view text) {
    std::string v = csv_guard(text);
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string quoted = "\"";
    for (char c : v) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

namespace {

struct Limit {
    std::size_t chars;
    bool multiline;
};

const std::map<std::string_view, Limit>& limits() {
    // Generous for real records (the longest registered enterprise names are ~60 characters),
    // small enough that no search, export or LIKE over them costs more than a row should.
    static const std::map<std::string_view, Limit> table = {
        {"name", {200, false}},
        {"credit_code", {64, false}},
        {"industry", {100, false}},
        {"address", {300, false}},
        {"person_in_charge", {50, false}},
        {"phone", {50, false}},
        {"no_branch_reason", {500, true}},
        {"measure", {500, true}},
        {"unit", {100, false}},
        {"industries", {200, false}},
        {"code", {32, false}},
        {"parent_code", {32, false}},
        {"id", {64, false}},
        {"note", {1000, true}},
    };
    return table;
}

}  // namespace

std::size_t text_limit(std::string_view field) {
    auto it = limits().find(field);
    return it == limits().end() ? 200 : it->second.chars;
}

std::optional<std::string> text_problem(std::string_view field, std::string_view value) {
    auto it = limits().find(field);
    Limit limit = it == limits().end() ? Limit{200, false} : it->second;
    // Bytes first: a code point is at most 4 bytes, so this refuses a huge value before decoding it.
    if (value.size() > 4 * limit.chars) return "longer than " + std::to_string(limit.chars) + " characters";
    if (!valid_utf8(value)) return std::string("not valid UTF-8 text");
    for (unsigned char c : value)
        if ((c < 0x20 && !(limit.multiline && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7f)
            return std::string("contains a control character");
    if (utf8::distance(value.begin(), value.end()) > static_cast<std::ptrdiff_t>(limit.chars))
        return "longer than " + std::to_string(limit.chars) + " characters";
    return std::nullopt;
}

std::optional<int> parse_epsg(std::string_view text) {
    if (text.size() < 6 || text.size() > 11) return std::nullopt;
    for (int i = 0; i < 5; ++i)
        if (std::toupper(static_cast<unsigned char>(text[i])) != "EPSG:"[i]) return std::nullopt;
    int code = 0;
    for (std::size_t i = 5; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        code = code * 10 + (text[i] - '0');
    }
    return code > 0 && code < 1000000 ? std::optional<int>(code) : std::nullopt;
}

}  // namespace covermap::geo
