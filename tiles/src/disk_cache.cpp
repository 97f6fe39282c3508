#include "covermap/tiles/disk_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <tuple>

#include "covermap/tiles/source.hpp"
#include "detail/hash.hpp"

namespace covermap::tiles {

namespace fs = std::filesystem;

namespace {

// A metatile file, little-endian:
//   0  "CMMT", u32 format
//   8  u64 drawing (the code and Mapnik that drew it)
//  16  u32 scale, u32 n, i32 z, i32 x0, i32 y0, u32 0
//  40  u64 fingerprint hi, lo, u64 key (MetaStamp)
//  64  u64 checksum: FNV-1a of bytes 0–63, then of everything after byte 72
//  72  u32 length of each PNG, n × n, row-major
//      the PNGs
constexpr char kMagic[4] = {'C', 'M', 'M', 'T'};
constexpr std::uint32_t kFormat = 1;
constexpr std::size_t kHead = 72;
constexpr std::size_t kMaxFile = std::size_t{1} << 30;  // far above any metatile: a bigger file is not one

void put32(std::string& s, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put64(std::string& s, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint32_t get32(const std::string& s, std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
    return v;
}
std::uint64_t get64(const std::string& s, std::size_t at) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
    return v;
}

std::uint64_t checksum(const std::string& file) {
    auto h = detail::fnv1a(std::string_view(file.data(), 64));
    return detail::fnv1a(std::string_view(file.data() + kHead, file.size() - kHead), h);
}

// Temporary files' names: this process's id, a random number drawn once (processes in
// containers sharing a volume often have the same id) and a count shared by every DiskCache in
// it; they are created with O_EXCL all the same.
std::string temporary_suffix() {
    static const std::string process = std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
    static std::atomic<std::uint64_t> count{0};
    return "." + process + "." + std::to_string(++count) + ".tmp";
}

long long steady_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Writes all of `bytes` to fd.
bool write_all(int fd, const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// Reads all of fd (size bytes expected).
bool read_all(int fd, std::string& out, std::size_t size) {
    out.resize(size);
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::read(fd, out.data() + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// The names in a directory (nullopt when it cannot be read; empty when it does not exist).
std::optional<std::vector<std::string>> list(const std::string& dir, int& err) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        err = errno;
        if (errno == ENOENT || errno == ENOTDIR) return out;
        return std::nullopt;
    }
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;  // ".", "..", temporary files
        out.emplace_back(e->d_name);
    }
    ::closedir(d);
    return out;
}

bool ends_with(const std::string& s, const char* suffix) {
    std::size_t n = std::strlen(suffix);
    return s.size() > n && s.compare(s.size() - n, n, suffix) == 0;
}

// What this cache writes inside a layer's folder: metatiles and their temporary files.
bool ours(const std::string& name) { return ends_with(name, ".meta") || ends_with(name, ".tmp"); }

// The integer a name is ("123", or "123.meta" with that suffix), if it is one.
std::optional<long long> number(const std::string& name, const char* suffix) {
    std::size_t len = std::strlen(suffix);
    if (name.size() <= len || name.compare(name.size() - len, len, suffix) != 0) return std::nullopt;
    std::string digits = name.substr(0, name.size() - len);
    if (digits.empty() || digits.size() > 12 || digits.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::stoll(digits);
}

}  // namespace

DiskCache::DiskCache(std::string dir, std::uint64_t max_bytes, std::uint64_t drawing)
    : dir_(std::move(dir)), max_bytes_(max_bytes), drawing_(drawing) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) {
        fail("cannot create the tile directory", dir_, ec.value());
        return;
    }
    // Every process holds DIR/lock shared while it uses the directory; one that gets it
    // exclusively is alone (the others have stopped) and may wipe tiles the data no longer
    // matches before it shares. A process starting meanwhile waits for that.
    auto lock = dir_ + "/lock";
    lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) {
        fail("cannot open", lock, errno);
    } else if (::flock(lock_fd_, LOCK_EX | LOCK_NB) == 0) {
        alone_ = true;
    } else if (::flock(lock_fd_, LOCK_SH) != 0) {
        fail("cannot lock", lock, errno);
    }
    scan_and_evict();
}

DiskCache::~DiskCache() {
    if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

void DiskCache::share() {
    if (alone_ && lock_fd_ >= 0) ::flock(lock_fd_, LOCK_SH);
}

void DiskCache::fail(const std::string& what, const std::string& path, int err) {
    ++errors_;
    std::lock_guard lock(log_mutex_);
    auto now = steady_seconds();
    if (last_log_ != 0 && now - last_log_ < 10) {
        ++suppressed_;
        return;
    }
    std::string more = suppressed_ ? " (and " + std::to_string(suppressed_) + " more since the last)" : "";
    std::fprintf(stderr, "covermap: tile directory: %s %s: %s%s; tiles are rendered and kept in memory as without it\n",
                 what.c_str(), path.c_str(), std::strerror(err), more.c_str());
    std::fflush(stderr);
    last_log_ = now;
    suppressed_ = 0;
}

std::string DiskCache::path_of(const std::string& layer, int scale, const MetaTile& m) const {
    return dir_ + "/" + layer + "/" + std::to_string(scale) + "/" + std::to_string(m.z) + "/" + std::to_string(m.x0) +
           "/" + std::to_string(m.y0) + ".meta";
}

std::optional<MetaFile> DiskCache::read(const std::string& layer, int scale, const MetaTile& m) {
    auto path = path_of(layer, scale, m);
    // Never a symbolic link, and a FIFO left at a tile's path must not block the reader.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno != ENOENT && errno != ENOTDIR) fail("cannot read", path, errno);
        return std::nullopt;
    }
    struct stat st {};
    std::string file;
    const char* why = nullptr;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        why = "not a file";
    else if (static_cast<std::size_t>(st.st_size) < kHead || static_cast<std::size_t>(st.st_size) > kMaxFile)
        why = "wrong size";
    else if (!read_all(fd, file, static_cast<std::size_t>(st.st_size)))
        why = "short read";
    std::size_t tiles = static_cast<std::size_t>(m.n) * static_cast<std::size_t>(m.n);
    if (!why) {
        if (std::memcmp(file.data(), kMagic, 4) != 0 || get32(file, 4) != kFormat)
            why = "not a metatile file";
        else if (get64(file, 8) != drawing_)
            why = "drawn by another version";
        else if (get32(file, 16) != static_cast<std::uint32_t>(scale) ||
                 get32(file, 20) != static_cast<std::uint32_t>(m.n) ||
                 static_cast<std::int32_t>(get32(file, 24)) != m.z ||
                 static_cast<std::int32_t>(get32(file, 28)) != m.x0 ||
                 static_cast<std::int32_t>(get32(file, 32)) != m.y0)
            why = "another metatile's file";
        else if (file.size() < kHead + 4 * tiles)
            why = "truncated";
    }
    MetaFile out;
    if (!why) {
        std::size_t at = kHead + 4 * tiles;
        out.pngs.reserve(tiles);
        for (std::size_t i = 0; i < tiles && !why; ++i) {
            std::size_t len = get32(file, kHead + 4 * i);
            if (len > file.size() - at) {
                why = "truncated";
                break;
            }
            out.pngs.emplace_back(file, at, len);
            at += len;
        }
        if (!why && at != file.size()) why = "trailing bytes";
        if (!why && get64(file, 64) != checksum(file)) why = "checksum";
    }
    if (why) {
        ::close(fd);
        ++damaged_;
        remove_file(path);
        return std::nullopt;
    }
    out.stamp.data = Fingerprint{get64(file, 40), get64(file, 48)};
    out.stamp.key = get64(file, 56);
    // Recently used: eviction goes by modification time.
    ::futimens(fd, nullptr);
    ::close(fd);
    return out;
}

bool DiskCache::write(const std::string& layer, int scale, const MetaTile& m, const MetaStamp& stamp,
                      const std::vector<std::string>& pngs) {
    std::size_t tiles = static_cast<std::size_t>(m.n) * static_cast<std::size_t>(m.n);
    if (pngs.size() != tiles) return false;
    std::string file(kMagic, 4);
    put32(file, kFormat);
    put64(file, drawing_);
    for (int v : {scale, m.n, m.z, m.x0, m.y0, 0}) put32(file, static_cast<std::uint32_t>(v));
    put64(file, stamp.data.hi);
    put64(file, stamp.data.lo);
    put64(file, stamp.key);
    put64(file, 0);  // the checksum, below
    std::size_t total = 0;
    for (const auto& png : pngs) {
        put32(file, static_cast<std::uint32_t>(png.size()));
        total += png.size();
    }
    file.reserve(file.size() + total);
    for (const auto& png : pngs) file += png;
    auto sum = checksum(file);
    for (int i = 0; i < 8; ++i) file[64 + static_cast<std::size_t>(i)] = static_cast<char>((sum >> (8 * i)) & 0xff);

    auto path = path_of(layer, scale, m);
    auto folder = path.substr(0, path.rfind('/'));
    // A hidden temporary name in the same folder (rename is atomic only within a filesystem).
    auto tmp = folder + "/." + std::to_string(m.y0) + ".meta" + temporary_suffix();
    for (int attempt = 0; attempt < 2; ++attempt) {
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno == ENOENT && attempt == 0) {
            std::error_code ec;
            fs::create_directories(folder, ec);  // another process may wipe it meanwhile: then once more
            continue;
        }
        if (fd < 0) {
            fail("cannot write", tmp, errno);
            return false;
        }
        bool ok = write_all(fd, file);
        int err = errno;
        if (::close(fd) != 0 && ok) ok = false, err = errno;
        if (!ok) {
            ::unlink(tmp.c_str());
            fail("cannot write", tmp, err);  // a full disk lands here
            return false;
        }
        struct stat old {};
        bool replaced = ::stat(path.c_str(), &old) == 0;
        if (::rename(tmp.c_str(), path.c_str()) != 0) {
            err = errno;
            ::unlink(tmp.c_str());
            if (err == ENOENT && attempt == 0) continue;  // the folder went (a wipe): once more
            fail("cannot rename into", path, err);
            return false;
        }
        bytes_ += static_cast<std::int64_t>(file.size()) - (replaced ? static_cast<std::int64_t>(old.st_size) : 0);
        ++writes_;
        // Over the bound by this process's count, or a sixteenth of it written since the last
        // scan: the other processes write too, and only a scan sees what they wrote.
        written_ += static_cast<std::int64_t>(file.size());
        if (bytes_.load() > static_cast<std::int64_t>(max_bytes_) ||
            written_.load() > static_cast<std::int64_t>(max_bytes_ / 16))
            scan_and_evict();
        return true;
    }
    return false;
}

bool DiskCache::remove_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;  // mostly: not there
    if (::unlink(path.c_str()) != 0) {
        if (errno != ENOENT) fail("cannot delete", path, errno);
        return false;
    }
    bytes_ -= static_cast<std::int64_t>(st.st_size);
    return true;
}

std::size_t DiskCache::remove(const std::string& layer, int scale, int z, int n, long long x0_lo, long long x0_hi,
                              long long y0_lo, long long y0_hi) {
    if (n <= 0 || x0_hi < x0_lo || y0_hi < y0_lo) return 0;
    auto zdir = dir_ + "/" + layer + "/" + std::to_string(scale) + "/" + std::to_string(z);
    // Many names to try: list the folder instead (it holds only what was rendered).
    constexpr long long kTry = 16;
    std::vector<long long> columns;
    int err = 0;
    if ((x0_hi - x0_lo) / n + 1 > kTry) {
        auto names = list(zdir, err);
        if (!names) {
            fail("cannot list", zdir, err);
            return 0;
        }
        for (const auto& name : *names)
            if (auto x = number(name, ""); x && *x >= x0_lo && *x <= x0_hi && *x % n == 0) columns.push_back(*x);
    } else {
        struct stat st {};
        if (::stat(zdir.c_str(), &st) != 0) return 0;  // nothing of this zoom
        for (long long x = x0_lo; x <= x0_hi; x += n) columns.push_back(x);
    }
    std::size_t gone = 0;
    for (long long x : columns) {
        auto cdir = zdir + "/" + std::to_string(x);
        if ((y0_hi - y0_lo) / n + 1 > kTry) {
            auto names = list(cdir, err);
            if (!names) {
                fail("cannot list", cdir, err);
                continue;
            }
            for (const auto& name : *names)
                if (auto y = number(name, ".meta"); y && *y >= y0_lo && *y <= y0_hi)
                    gone += remove_file(cdir + "/" + name);
        } else {
            struct stat st {};
            if (::stat(cdir.c_str(), &st) != 0) continue;
            for (long long y = y0_lo; y <= y0_hi; y += n) gone += remove_file(cdir + "/" + std::to_string(y) + ".meta");
        }
    }
    removed_ += static_cast<long>(gone);
    return gone;
}

std::size_t DiskCache::remove_tree(const std::string& path) {
    // Only what this cache writes is deleted (metatiles and temporary files), then the folders
    // left empty: a tile directory pointed at the wrong place loses nothing else. Symbolic
    // links to folders are not followed.
    std::size_t gone = 0;
    std::error_code ec;
    std::vector<fs::path> files, folders;
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_symlink(ec)) continue;
        if (it->is_directory(ec))
            folders.push_back(it->path());
        else if (it->is_regular_file(ec) && ours(it->path().filename().string()))
            files.push_back(it->path());
    }
    for (const auto& f : files)
        if (ends_with(f.filename().string(), ".meta"))
            gone += remove_file(f.string());
        else
            ::unlink(f.c_str());
    // Deepest first; a folder another process wrote into meanwhile, or holding foreign files,
    // stays (its metatiles are judged by their stamps like any other).
    std::sort(folders.begin(), folders.end(), [](const fs::path& a, const fs::path& b) { return a.native().size() > b.native().size(); });
    folders.push_back(path);
    for (const auto& f : folders)
        if (::rmdir(f.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
            fail("cannot delete", f.string(), errno);
    return gone;
}

std::size_t DiskCache::remove_layer(const std::string& layer) {
    auto gone = remove_tree(dir_ + "/" + layer);
    removed_ += static_cast<long>(gone);
    return gone;
}

void DiskCache::wipe() {
    // The layers' folders only: whatever else is in the directory is not ours.
    std::size_t gone = 0;
    for (const auto& layer : kLayerNames) gone += remove_tree(dir_ + "/" + layer);
    removed_ += static_cast<long>(gone);
}

std::string DiskCache::note() const {
    std::string text;
    int fd = ::open((dir_ + "/fingerprint").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return text;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < 4096 &&
        !read_all(fd, text, static_cast<std::size_t>(st.st_size)))
        text.clear();
    ::close(fd);
    return text;
}

void DiskCache::set_note(const std::string& text) {
    auto path = dir_ + "/fingerprint";
    auto tmp = dir_ + "/.fingerprint" + temporary_suffix();
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        fail("cannot write", tmp, errno);
        return;
    }
    bool ok = write_all(fd, text);
    int err = errno;
    if (::close(fd) != 0 && ok) ok = false, err = errno;
    if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) ok = false, err = errno;
    if (!ok) {
        ::unlink(tmp.c_str());
        fail("cannot write", path, err);
    }
}

void DiskCache::scan_and_evict() {
    std::unique_lock lock(evict_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;  // another thread is at it
    written_ = 0;
    // Every metatile file with its size and last use. Each process counts only its own writes,
    // so the total is measured again here, with what the others wrote.
    struct File {
        std::int64_t used;  // modification time, ns
        std::int64_t size;
        std::string path;
    };
    std::vector<File> files;
    std::int64_t total = 0;
    auto now = std::chrono::system_clock::now().time_since_epoch();
    std::int64_t hour_ago = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() - 3600'000'000'000LL;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir_, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        const auto& p = it->path();
        if (!it->is_regular_file(ec)) continue;
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0) continue;
        std::int64_t used = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
        auto name = p.filename().string();
        if (ends_with(name, ".tmp")) {
            // A writer that died before its rename left it; a live one renames within moments.
            if (used < hour_ago) ::unlink(p.c_str());
            continue;
        }
        if (it.depth() == 0 || !ends_with(name, ".meta")) continue;  // DIR's own files: lock, fingerprint
        files.push_back({used, static_cast<std::int64_t>(st.st_size), p.string()});
        total += static_cast<std::int64_t>(st.st_size);
    }
    if (ec && ec != std::errc::no_such_file_or_directory) fail("cannot list", dir_, ec.value());
    if (total > static_cast<std::int64_t>(max_bytes_)) {
        // Down to 90 %, least recently used first, so that the next scan is not at the next write.
        std::sort(files.begin(), files.end(), [](const File& a, const File& b) { return a.used < b.used; });
        auto target = static_cast<std::int64_t>(max_bytes_ / 10 * 9);
        for (const auto& f : files) {
            if (total <= target) break;
            if (::unlink(f.path.c_str()) == 0 || errno == ENOENT) {
                total -= f.size;
                ++evicted_;
            }
        }
    }
    bytes_ = total;
}

DiskStats DiskCache::stats() const {
    DiskStats s;
    s.writes = writes_.load();
    s.errors = errors_.load();
    s.damaged = damaged_.load();
    s.evicted = evicted_.load();
    s.removed = removed_.load();
    s.bytes = bytes_.load();
    return s;
}

}  // namespace covermap::tiles
