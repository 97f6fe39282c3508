#pragma once
// Helpers shared by the test binaries: temporary folders and data set fingerprints.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "covermap/geo/demo.hpp"
#include "covermap/geo/model.hpp"

namespace covermap::test {

/// What a shell command did: its exit status (−1 when it did not exit) and its stdout.
struct Ran {
    int status = -1;
    std::string out;
};

/// Runs a shell command to its end.
inline Ran shell(const std::string& cmd) {
    Ran r;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[65536];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

/// What a shell command wrote to stdout.
inline std::string capture(const std::string& cmd) { return shell(cmd).out; }

/// A fresh folder under the system temp dir, removed when the object goes.
class TempDir {
public:
    TempDir() {
        std::random_device rd;
        path_ =
            std::filesystem::temp_directory_path() / ("covermap-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// Sends this process's stderr to a file while it lives; text() reads what was written.
class CaptureStderr {
public:
    CaptureStderr() {
        std::fflush(stderr);
        saved_ = ::dup(STDERR_FILENO);
        int fd = ::open(path_.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
        ::dup2(fd, STDERR_FILENO);
        ::close(fd);
    }
    ~CaptureStderr() { restore(); }
    /// Puts stderr back and returns everything written meanwhile.
    std::string text() {
        restore();
        std::ifstream in(path_);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

private:
    void restore() {
        if (saved_ < 0) return;
        std::fflush(stderr);
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
        saved_ = -1;
    }
    TempDir dir_;
    std::string path_ = dir_ / "stderr.txt";
    int saved_ = -1;
};

/// Every field of every row, in one string: equal fingerprints, equal data sets.
inline std::string fingerprint(const geo::Dataset& d) {
    std::ostringstream s;
    s.precision(12);
    for (const auto& a : d.areas) {
        s << "A|" << a.code << '|' << a.name << '|' << geo::to_string(a.level) << '|' << a.parent_code;
        for (const auto& p : a.shape)
            for (const auto& pt : p.exterior) s << ' ' << pt.x << ',' << pt.y;
        s << '\n';
    }
    for (const auto& o : d.orgs)
        s << "O|" << o.id << '|' << o.name << '|' << geo::to_string(o.kind) << '|' << o.credit_code << '|' << o.industry
          << '|' << o.employees << '|' << o.party_members << '|' << geo::to_string(o.status) << '|' << o.above_scale
          << '|' << o.branch_id.value_or(-1) << '|' << o.instructor_id.value_or("-") << '|' << o.version << '|'
          << o.location.x << ',' << o.location.y << '\n';
    for (const auto& i : d.instructors)
        s << "I|" << i.id << '|' << i.name << '|' << i.capacity << '|' << i.industries << '|' << i.unit << '|'
          << i.home.x << ',' << i.home.y << '\n';
    for (const auto& b : d.branches) {
        s << "B|" << b.id << '|' << b.name << '|' << geo::to_string(b.type) << '|' << b.members;
        for (auto id : b.org_ids) s << ',' << id;
        s << '\n';
    }
    return s.str();
}

/// The demo data set on the project's Tieling borders (built once per scale and seed).
inline const geo::Dataset& demo_dataset(double scale = 1, std::uint64_t seed = 2010) {
    static std::map<std::pair<double, std::uint64_t>, geo::Dataset> cache;
    auto key = std::make_pair(scale, seed);
    auto it = cache.find(key);
    if (it == cache.end()) {
        geo::DemoParams p;
        p.scale = scale;
        p.seed = seed;
        p.borders = std::string(COVERMAP_DATA_DIR) + "/tieling_counties.geojson";
        it = cache.emplace(key, geo::make_demo(p)).first;
    }
    return it->second;
}

/// An axis-aligned square polygon.
inline geo::MultiPolygon square(double x0, double y0, double size) {
    return {geo::Polygon{{{x0, y0}, {x0 + size, y0}, {x0 + size, y0 + size}, {x0, y0 + size}, {x0, y0}}, {}}};
}

}  // namespace covermap::test
