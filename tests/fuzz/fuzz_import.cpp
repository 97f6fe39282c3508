// The importers an upload reaches: CSV, GeoJSON and shapefiles (COVERMAP_FUZZ_FORMAT), read
// with the upload drivers only. A source either fails with a geo error or gives rows whose
// text is valid UTF-8 and whose numbers are in range.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "covermap/geo/error.hpp"
#include "covermap/geo/import.hpp"
#include "covermap/geo/text.hpp"

namespace {

std::string scratch() {
    static std::string dir = [] {
        char tmpl[] = "/tmp/covermap-fuzz-import-XXXXXX";
        return std::string(mkdtemp(tmpl));
    }();
    return dir;
}

void write(const std::string& path, const char* data, std::size_t n) {
    std::ofstream(path, std::ios::binary).write(data, static_cast<std::streamsize>(n));
}

void check(const covermap::geo::Dataset& d) {
    using covermap::geo::valid_utf8;
    for (const auto& o : d.orgs)
        if (!valid_utf8(o.id) || !valid_utf8(o.name) || !valid_utf8(o.ledger().address) || !valid_utf8(o.industry) ||
            o.employees < 0 || o.party_members < 0)
            std::abort();
    for (const auto& a : d.areas)
        if (!valid_utf8(a.code) || !valid_utf8(a.name)) std::abort();
    for (const auto& i : d.instructors)
        if (!valid_utf8(i.id) || !valid_utf8(i.name) || i.capacity < 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    covermap::geo::ImportParams p;
    // The first byte picks what is imported, as the upload route's kind does.
    p.kind = data[0] % 3 == 0   ? covermap::geo::ImportKind::orgs
             : data[0] % 3 == 1 ? covermap::geo::ImportKind::areas
                                : covermap::geo::ImportKind::instructors;
    if (p.kind == covermap::geo::ImportKind::areas) p.level = covermap::geo::Level::street;
    p.drivers = covermap::geo::upload_drivers();
    const char* body = reinterpret_cast<const char*>(data + 1);
    std::size_t n = size - 1;
    std::string format = COVERMAP_FUZZ_FORMAT;
    if (format == "shp") {
        // .shp, .shx and .dbf, separated by two marker lines.
        std::string all(body, n);
        auto a = all.find("\n--SHX--\n"), b = all.find("\n--DBF--\n");
        if (a == std::string::npos || b == std::string::npos || b < a) return 0;
        write(scratch() + "/in.shp", all.data(), a);
        write(scratch() + "/in.shx", all.data() + a + 9, b - a - 9);
        write(scratch() + "/in.dbf", all.data() + b + 9, all.size() - b - 9);
        p.source = scratch() + "/in.shp";
    } else {
        p.source = scratch() + "/in." + format;
        write(p.source, body, n);
    }
    covermap::geo::ImportReport report;
    try {
        check(covermap::geo::read_source(p, report));
    } catch (const covermap::geo::error&) {
        // refused with a reason: fine
    }
    return 0;
}
