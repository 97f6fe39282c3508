// The local base map: tiles read from a directory or from an MBTiles file with SQLite's own
// library (GDAL's SQLite driver leaves .mbtiles files to its raster MBTiles driver, which
// decodes the images; the page wants the bytes as they are).
#include "basemap.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "route_support.hpp"

namespace covermap::api {

namespace fs = std::filesystem;
using namespace detail;

namespace {

// The image type of a tile by its first bytes: PNG, JPEG, WebP (others are refused).
std::string image_type(const std::string& bytes) {
    if (bytes.rfind("\x89PNG", 0) == 0) return "image/png";
    if (bytes.rfind("\xFF\xD8\xFF", 0) == 0) return "image/jpeg";
    if (bytes.size() >= 12 && bytes.compare(0, 4, "RIFF") == 0 && bytes.compare(8, 4, "WEBP") == 0) return "image/webp";
    return "";
}

std::optional<long> tile_number(const std::string& s, long below) {
    auto n = parse_id(s);
    if (!n || *n >= below) return std::nullopt;
    return static_cast<long>(*n);
}

}  // namespace

struct Basemap::MbTiles {
    std::mutex mutex;  // one connection, one query at a time
    sqlite3* db = nullptr;
    sqlite3_stmt* query = nullptr;
    ~MbTiles() {
        sqlite3_finalize(query);
        sqlite3_close(db);
    }
};

bool Basemap::is_local(const std::string& source) {
    return !source.empty() && source.rfind("http://", 0) != 0 && source.rfind("https://", 0) != 0;
}

Basemap::Basemap(const std::string& path) {
    if (fs::is_directory(path)) {
        dir_ = path;
        return;
    }
    if (!fs::is_regular_file(path))
        throw std::invalid_argument("--basemap " + path + ": no such directory or MBTiles file");
    mbtiles_ = std::make_unique<MbTiles>();
    if (sqlite3_open_v2(path.c_str(), &mbtiles_->db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(mbtiles_->db,
                           "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
                           -1, &mbtiles_->query, nullptr) != SQLITE_OK)
        throw std::invalid_argument("--basemap " + path + ": not an MBTiles file (" + sqlite3_errmsg(mbtiles_->db) + ")");
}

Basemap::~Basemap() = default;

void Basemap::add_routes(Router& router) {
    router.add("GET", "/basemap/{}/{}/{}", Role::viewer, this, &Basemap::tile);
}

Response Basemap::tile(const Request&, const Caller&, const Args& args) {
    auto zoom = tile_number(args[0], 23);
    if (!zoom) return error_response(404, "NotFound", "no such tile: z 0–22, x and y within 2^z");
    const long z = *zoom, n = 1L << z;
    // The y segment may carry an extension (Leaflet templates often end in .png).
    auto column = tile_number(args[1], n), row_from_top = tile_number(args[2].substr(0, args[2].find('.')), n);
    if (!column || !row_from_top) return error_response(404, "NotFound", "no such tile: z 0–22, x and y within 2^z");
    const long x = *column, y = *row_from_top;
    std::string bytes;
    if (!dir_.empty()) {
        auto stem = fs::path(dir_) / std::to_string(z) / std::to_string(x) / std::to_string(y);
        for (const char* ext : {".png", ".jpg", ".jpeg", ".webp"}) {
            auto file = stem.string() + ext;
            if (!fs::is_regular_file(file)) continue;
            std::ifstream in(file, std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            break;
        }
    } else {
        // MBTiles rows count from the south (TMS).
        std::lock_guard lock(mbtiles_->mutex);
        auto* q = mbtiles_->query;
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, z);
        sqlite3_bind_int64(q, 2, x);
        sqlite3_bind_int64(q, 3, n - 1 - y);
        if (sqlite3_step(q) == SQLITE_ROW) {
            const void* data = sqlite3_column_blob(q, 0);
            int size = sqlite3_column_bytes(q, 0);
            if (data && size > 0) bytes.assign(static_cast<const char*>(data), static_cast<std::size_t>(size));
        }
        sqlite3_reset(q);
    }
    if (bytes.empty()) return error_response(404, "NotFound", "the base map has no such tile");
    auto type = image_type(bytes);
    if (type.empty()) return error_response(404, "NotFound", "the base map's tile is not PNG, JPEG or WebP");
    Response r;
    r.content_type = type;
    r.body = std::move(bytes);
    r.headers.emplace_back("Cache-Control", "public, max-age=86400");
    return r;
}

}  // namespace covermap::api
