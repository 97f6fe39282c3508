#pragma once
/// \file Who a request speaks for (roles, callers, tokens) and the options of the HTTP
/// application (App): what the command line's `serve` sets.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace covermap::api {

/// What a token may do. An instructor's token reads what a viewer reads (but other
/// organizations' ledgers) and records visits and ledger corrections of its own
/// organizations; it can never assign. Routes need at least a role in this order.
enum class Role { viewer = 1, instructor = 2, planner = 3, admin = 4 };
std::optional<Role> parse_role(const std::string& s);
std::string to_string(Role r);

/// Who a request speaks for: a token's name and role, its expiry (YYYY-MM-DD or empty), its
/// hash (the key its web sessions belong to), the area a planner's token is limited to and the
/// instructor an instructor's token is for (empty when not).
struct Caller {
    std::string name;
    Role role = Role::viewer;
    std::string expires;
    std::string key;
    std::string area;
    std::string instructor_id;
};

/// A new random token (URL-safe hex) and the hash stored for it.
std::string new_token();
std::string hash_token(const std::string& token);

struct AppOptions {
    std::string db;
    std::string web_root;        ///< folder of the web UI's static files
    std::size_t cache_mb = 256;  ///< tile cache bound
    /// A directory where rendered metatiles are kept and shared by every process serving the
    /// same store (empty: tiles in memory only), and about how many MB of them at most.
    std::string tile_dir;
    std::size_t tile_dir_mb = 1024;
    /// The web page's base map: an XYZ URL template ("https://host/{z}/{x}/{y}.png?tk=KEY", e.g.
    /// an intranet 天地图), a directory of {z}/{x}/{y} tiles or an MBTiles file (served under
    /// /basemap/), or empty: the page then draws covermap's own district borders only.
    std::string basemap;
    std::string basemap_attribution;  ///< the base map's attribution (its owner's name, licence)
    std::chrono::milliseconds slow_deadline{60000};  ///< exports and other slow work stop after this
    std::size_t plans_in_memory = 8;                 ///< plans kept in memory (all are in the store)
    /// Plans no proposal of which was accepted are deleted after this many days, and beyond this
    /// many (the oldest first), each time a plan is made.
    int plan_max_age_days = 30;
    std::size_t plan_max_open = 100;
    /// An upload's import (reading, checking, comparing, writing) stops after this, nothing written.
    std::chrono::milliseconds import_deadline{600000};
    std::size_t import_max_features = 2'000'000;  ///< rows or features of one upload
    std::size_t import_max_vertices = 250'000;    ///< vertices of one uploaded feature's geometry
    /// Where clients reach covermap ("https://gis.example.gov.cn/covermap"): OGC links are built
    /// from it. Empty: from X-Forwarded-Host/Proto when trust_proxy, else from the address the
    /// client connected to; never from the Host header.
    std::string public_url;
    bool trust_proxy = false;  ///< a reverse proxy sets X-Forwarded-Host/Proto (and strips clients')
    /// How often the store's tokens and targets are read again (the command line changes them
    /// under a running server), and at most how often an unknown token makes the tokens be read.
    std::chrono::milliseconds refresh_interval{5000};
    std::chrono::milliseconds unknown_token_interval{2000};
    /// Web sessions per token: a new sign-in beyond it ends that token's oldest session.
    std::size_t sessions_per_token = 20;
    /// Web sessions in all: at the cap the token holding the most loses its oldest, so another
    /// token can always sign in.
    std::size_t max_sessions = 10000;
};

}  // namespace covermap::api
