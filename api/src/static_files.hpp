#pragma once
// The web page's files: read once at start from the built folder (no URL ever names a path on
// disk, and every response shares a file's bytes: 200 slow readers of the 1 MB chart library
// hold one copy, not 200), answered with their type, caching and the page's
// Content-Security-Policy. Fixed after construction: no lock.

#include <map>
#include <memory>
#include <string>

#include "covermap/api/http.hpp"

namespace covermap::api {

class StaticFiles {
public:
    /// Every file under web_root; basemap is the one image origin the policy allows besides self.
    StaticFiles(const std::string& web_root, const std::string& basemap);
    /// The file named (relative to the folder, "index.html", "vendor/…"), or 404.
    Response serve(const std::string& name) const;

private:
    struct File {
        std::shared_ptr<const std::string> bytes;
        std::string content_type;
    };
    std::map<std::string, File> files_;
    std::string policy_;  // the Content-Security-Policy of HTML files
};

}  // namespace covermap::api
