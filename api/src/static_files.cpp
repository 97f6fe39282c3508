#include "static_files.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "route_support.hpp"

namespace covermap::api {

namespace fs = std::filesystem;

namespace {
// "https://t0.tianditu.gov.cn/…" -> "https://t0.tianditu.gov.cn": the one origin the page's
// Content-Security-Policy then lets images come from.
std::string origin_of(const std::string& url) {
    auto scheme = url.find("://");
    if (scheme == std::string::npos) return "";
    auto end = url.find('/', scheme + 3);
    auto origin = url.substr(0, end);
    bool ok = std::all_of(origin.begin(), origin.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '/' || c == '.' || c == '-';
    });
    return ok ? origin : "";
}
}  // namespace

StaticFiles::StaticFiles(const std::string& web_root, const std::string& basemap) {
    if (!web_root.empty() && fs::is_directory(web_root))
        for (const auto& e : fs::recursive_directory_iterator(web_root))
            if (e.is_regular_file()) {
                std::ifstream in(e.path(), std::ios::binary);
                auto bytes = std::make_shared<std::string>(std::istreambuf_iterator<char>(in),
                                                           std::istreambuf_iterator<char>());
                files_[fs::relative(e.path(), web_root).generic_string()] =
                    File{std::move(bytes), detail::content_type_for(e.path().string())};
            }
    auto base = origin_of(basemap);
    policy_ = "default-src 'self'; img-src 'self' data: blob:" + (base.empty() ? "" : " " + base) +
              "; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
              "frame-ancestors 'none'; form-action 'self'";
}

Response StaticFiles::serve(const std::string& name) const {
    auto it = files_.find(name);
    if (it == files_.end()) return error_response(404, "NotFound", "no such file");
    Response r;
    r.content_type = it->second.content_type;
    r.shared_body = it->second.bytes;
    // Vendored libraries sit under a folder named with their version: they never change.
    bool versioned = name.rfind("vendor/", 0) == 0;
    r.headers.emplace_back("Cache-Control", versioned ? "public, max-age=31536000, immutable" : "no-cache");
    if (r.content_type.rfind("text/html", 0) == 0) r.headers.emplace_back("Content-Security-Policy", policy_);
    return r;
}

}  // namespace covermap::api
