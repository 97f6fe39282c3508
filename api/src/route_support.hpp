#pragma once
/// \file What the route files of App share: paths, strict JSON, ids and ETags, the area
/// collections, scratch files, and the base of absolute links. Internal to the api library.

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <sstream>
#include <string>
#include <vector>

#include "covermap/api/app.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/model.hpp"

namespace covermap::api::detail {

inline std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> segs;
    std::stringstream in(path);
    std::string seg;
    while (std::getline(in, seg, '/'))
        if (!seg.empty()) segs.push_back(seg);
    return segs;
}

// A served file's Content-Type, by its extension.
inline std::string content_type_for(const std::string& path) {
    auto ext = std::filesystem::path(path).extension().string();
    if (ext == ".html") return "text/html; charset=utf-8";
    if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
    if (ext == ".css") return "text/css; charset=utf-8";
    if (ext == ".json") return "application/json";
    if (ext == ".webmanifest") return "application/manifest+json";
    if (ext == ".png") return "image/png";
    if (ext == ".svg") return "image/svg+xml";
    if (ext == ".ico") return "image/x-icon";
    if (ext == ".woff2") return "font/woff2";
    return "application/octet-stream";
}

// Strict JSON with bounded nesting: nlohmann's parser has no depth limit of its own, so its
// callback, which sees each value's depth, stops the parse past 32 levels.
inline std::optional<nlohmann::json> parse_json(const std::string& body, std::string& why) {
    struct TooDeep {};
    try {
        return nlohmann::json::parse(body, [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
            bool opens = event == nlohmann::json::parse_event_t::object_start ||
                         event == nlohmann::json::parse_event_t::array_start;
            if (opens && depth >= 32) throw TooDeep{};
            return true;
        });
    } catch (const TooDeep&) {
        why = "JSON nested deeper than 32 levels";
    } catch (const nlohmann::json::exception&) {
        why = "malformed JSON body";
    }
    return std::nullopt;
}

inline std::optional<std::int64_t> parse_id(const std::string& s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

// The query parameter `key` as a whole number (decimal digits only): `absent` when it is not
// given, nullopt when it is not such a number or is below `lo`; capped at `hi` (OGC's `limit`
// and `offset`).
inline std::optional<std::int64_t> number_param(const Request& r, const char* key, std::int64_t absent, std::int64_t lo,
                                                std::int64_t hi) {
    auto it = r.query.find(key);
    if (it == r.query.end()) return absent;
    auto v = parse_id(it->second);
    if (!v || *v < lo) return std::nullopt;
    return std::min(*v, hi);
}

// The query parameter `limit`: `def` when absent, clamped to 1..max; not a number is an error.
inline int limit_of(const Request& req, int def, int max) {
    auto s = query_value(req, "limit");
    if (s.empty()) return def;
    if (s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw geo::invalid_argument("limit must be a number from 1 to " + std::to_string(max));
    return std::clamp(std::stoi(s), 1, max);
}

// A box as [minx, miny, maxx, maxy], or null when empty.
inline nlohmann::json bbox_json(const geo::BBox& b) {
    if (b.empty()) return nlohmann::json();
    return {b.minx, b.miny, b.maxx, b.maxy};
}

// Versions travel as ETags: "7" (quoted) or 7; W/ prefixes are not ours.
inline std::optional<std::int64_t> parse_etag(std::string s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    return parse_id(s);
}

inline const std::map<std::string, geo::Level> kAreaCollections = {{"areas-park", geo::Level::park},
                                                                   {"areas-street", geo::Level::street},
                                                                   {"areas-community", geo::Level::community},
                                                                   {"areas-grid", geo::Level::grid},
                                                                   {"areas-district", geo::Level::district}};

// A scratch file for uploads and exports, removed when the object goes. mkstemps makes it
// atomically with a name nobody else has (O_EXCL, mode 0600); writers replace it by name.
struct ScratchFile {
    explicit ScratchFile(const std::string& ext) {
        std::string name = (std::filesystem::temp_directory_path() / "covermap-XXXXXX").string() + ext;
        int fd = ::mkstemps(name.data(), static_cast<int>(ext.size()));
        if (fd < 0) throw std::runtime_error("cannot make a scratch file");
        ::close(fd);
        path = name;
    }
    ~ScratchFile() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
        std::filesystem::remove_all(path + ".parts", ec);
    }
    std::string path;
};

// Error messages from lower layers may name scratch files: never show paths to clients.
inline std::string scrub(std::string msg, const std::string& path, const std::string& as) {
    for (std::size_t at; !path.empty() && (at = msg.find(path)) != std::string::npos;) msg.replace(at, path.size(), as);
    return msg;
}

// Absolute links: clients (GDAL's OAPIF driver among them) resolve relative ones differently.
// They come from the configured public URL, or a trusted proxy's X-Forwarded-Host/Proto, or
// the address the client connected to: never from the Host header, which any client sets.
inline bool host_port(const std::string& s) {
    return !s.empty() && s.size() < 256 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '-' || c == '[' || c == ']';
    });
}

inline std::string base_of(const Request& req, const AppOptions& o) {
    if (!o.public_url.empty()) return o.public_url + "/ogc";
    if (o.trust_proxy && host_port(req.forwarded_host))
        return (req.forwarded_proto == "https" ? "https://" : "http://") + req.forwarded_host + "/ogc";
    return "http://" + (host_port(req.local_address) ? req.local_address : std::string("localhost")) + "/ogc";
}

}  // namespace covermap::api::detail
