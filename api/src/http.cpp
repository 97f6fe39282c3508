#include "covermap/api/http.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <nlohmann/json.hpp>

#include "covermap/geo/text.hpp"

namespace covermap::api {

std::string url_decode(const std::string& s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string hex(std::string_view bytes) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    s.reserve(2 * bytes.size());
    for (unsigned char c : bytes) s += {digits[c >> 4], digits[c & 15]};
    return s;
}

std::string random_hex(std::size_t n) {
    std::string buf(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(buf.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("no randomness");
    return hex(buf);
}

std::string percent_byte(unsigned char c) {
    static const char* digits = "0123456789ABCDEF";
    return {'%', digits[c >> 4], digits[c & 15]};
}

std::string url_encode(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            out += static_cast<char>(c);
        else
            out += percent_byte(c);
    }
    return out;
}

void parse_target(const std::string& target, Request& r) {
    auto q = target.find('?');
    std::string raw_path = target.substr(0, q);
    r.path = url_decode(raw_path);
    r.segments.clear();
    r.query.clear();
    for (std::size_t start = 0; start <= raw_path.size();) {
        auto slash = raw_path.find('/', start);
        auto seg = raw_path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (!seg.empty()) r.segments.push_back(url_decode(seg));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    if (q == std::string::npos) return;
    std::string query = target.substr(q + 1);
    std::size_t start = 0;
    while (start <= query.size()) {
        auto amp = query.find('&', start);
        std::string pair = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
        if (!pair.empty()) {
            auto eq = pair.find('=');
            r.query[url_decode(pair.substr(0, eq), true)] =
                eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1), true);
        }
        if (amp == std::string::npos) break;
        start = amp + 1;
    }
}


bool valid_text(const Request& r) {
    if (!geo::valid_utf8(r.path)) return false;
    for (const auto& seg : r.segments)
        if (!geo::valid_utf8(seg)) return false;
    for (const auto& [k, v] : r.query)
        if (!geo::valid_utf8(k) || !geo::valid_utf8(v)) return false;
    return true;
}

std::string query_value(const Request& r, const char* key) {
    auto it = r.query.find(key);
    return it == r.query.end() ? std::string() : it->second;
}

std::optional<std::string> unknown_parameter(const Request& r, std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : r.query)
        if (std::find(known.begin(), known.end(), key) == known.end()) return key;
    return std::nullopt;
}

Response json_response(const nlohmann::json& j, int status) {
    Response r;
    r.status = status;
    r.body = dump_json(j);
    return r;
}

Response error_response(int status, const std::string& code, const std::string& message) {
    Response r;
    r.status = status;
    r.body = dump_json(nlohmann::json{{"code", code}, {"message", message}});
    return r;
}

}  // namespace covermap::api
