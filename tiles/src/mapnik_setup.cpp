#include "covermap/tiles/mapnik_setup.hpp"

#include <algorithm>
#include <mapnik/datasource_cache.hpp>
#include <mapnik/font_engine_freetype.hpp>
#include <mutex>
#include <sys/stat.h>

namespace covermap::tiles {

namespace {
#ifndef COVERMAP_MAPNIK_PLUGINS
#define COVERMAP_MAPNIK_PLUGINS "/usr/lib/mapnik/3.1/input"
#endif
}  // namespace

const std::vector<std::string>& init_mapnik() {
    static std::vector<std::string> faces;
    static std::once_flag once;
    std::call_once(once, [] {
        mapnik::datasource_cache::instance().register_datasources(COVERMAP_MAPNIK_PLUGINS);
        for (const char* dir :
             {"/usr/share/fonts/truetype/wqy", "/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/dejavu"})
            mapnik::freetype_engine::register_fonts(dir, true);
        auto names = mapnik::freetype_engine::face_names();
        for (const char* want : {"WenQuanYi Micro Hei Regular", "Noto Sans CJK SC Regular", "DejaVu Sans Book"})
            if (std::find(names.begin(), names.end(), want) != names.end()) faces.emplace_back(want);
    });
    return faces;
}

std::string font_signature() {
    std::string out;
    const auto& mapping = mapnik::freetype_engine::get_mapping();
    for (const auto& face : init_mapnik()) {
        out += face;
        if (auto it = mapping.find(face); it != mapping.end()) {
            struct stat st {};
            const std::string& file = it->second.second;
            bool found = ::stat(file.c_str(), &st) == 0;
            out += " " + file + " " + std::to_string(found ? st.st_size : -1) + " " +
                   std::to_string(found ? st.st_mtime : 0);
        }
        out += "\n";
    }
    return out;
}

}  // namespace covermap::tiles
