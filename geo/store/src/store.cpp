// The store: opening (and creating) a GeoPackage or PostGIS store, its change channel, the file lock.
#include "store_impl.hpp"

namespace covermap::geo {

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;

const std::string& Store::uri() const { return impl_->uri; }
bool Store::is_postgis() const { return impl_->uri.rfind("PG:", 0) == 0; }

Store Store::open_existing(const std::string& uri) {
    if (uri.rfind("PG:", 0) != 0 && !std::filesystem::exists(uri))
        throw store_error("no store at " + uri + " (create one with `covermap demo` or `covermap import`)");
    return open(uri);
}

Store Store::open(const std::string& uri) {
    ensure_gdal();
    auto impl = std::make_unique<Impl>();
    impl->uri = uri;
    bool pg = uri.rfind("PG:", 0) == 0;
    if (pg || std::filesystem::exists(uri)) {
        const char* drivers[] = {pg ? "PostgreSQL" : "GPKG", nullptr};
        impl->ds.reset(GDALDataset::FromHandle(
            GDALOpenEx(uri.c_str(), GDAL_OF_VECTOR | GDAL_OF_UPDATE, drivers, nullptr, nullptr)));
        if (!impl->ds) {
            std::string why = CPLGetLastErrorMsg();
            if (why.empty() && !pg) {
                std::error_code ec;
                auto size = std::filesystem::file_size(uri, ec);
                if (::access(uri.c_str(), R_OK | W_OK) != 0)
                    why = std::string(std::strerror(errno)) + " (covermap needs to read and write it)";
                else if (std::filesystem::is_directory(uri))
                    why = "it is a folder, not a GeoPackage file";
                else
                    why = "not a GeoPackage (" + std::to_string(ec ? 0 : size) + " bytes, no SQLite header)";
            }
            throw store_error("cannot open store " + uri + ": " + (why.empty() ? "unknown reason" : why));
        }
    } else {
        auto* driver = GetGDALDriverManager()->GetDriverByName("GPKG");
        impl->ds.reset(driver->Create(uri.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
        if (!impl->ds) throw store_error("cannot create GeoPackage " + uri + ": " + CPLGetLastErrorMsg());
    }
    if (!pg) {
        // WAL lets the server read while a writer commits; a 64 MB page cache keeps a bulk
        // write from spilling pages to the WAL before its commit.
        impl->ds->ExecuteSQL("PRAGMA journal_mode=WAL", nullptr, nullptr);
        impl->ds->ExecuteSQL("PRAGMA cache_size=-65536", nullptr, nullptr);
    }
    impl->ensure_schema();
    return Store(std::move(impl));
}

const std::string& change_origin() {
    static const std::string origin = [] {
        std::random_device rd;
        return std::to_string(::getpid()) + "-" + std::to_string(rd());
    }();
    return origin;
}

std::string change_channel(const std::string& uri) {
    // One channel per schema: stores in other schemas of the same database stay apart.
    std::string channel = "covermap";
    auto at = uri.find("active_schema=");
    if (at != std::string::npos)
        for (char c : uri.substr(at + 14, uri.find(' ', at) - at - 14))
            if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') channel += c;
    return channel;
}

StoreLock StoreLock::acquire(const std::string& uri) {
    if (uri.rfind("PG:", 0) == 0) return StoreLock(-1);
    int fd = ::open(uri.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return StoreLock(-1);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        throw store_error(uri +
                          " is in use by another covermap process (a running server?): stop it first, or "
                          "make the change through the server's API");
    }
    return StoreLock(fd);
}

bool StoreLock::held_elsewhere(const std::string& uri) {
    try {
        acquire(uri);
        return false;
    } catch (const store_error&) {
        return true;
    }
}

StoreLock::~StoreLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace covermap::geo
