#pragma once
/// \file What the tiles draw, in Web Mercator, indexed (R-trees) so a tile never scans all
/// features; kept current by organization edits. No Mapnik here.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "covermap/geo/model.hpp"

namespace covermap::tiles {

/// Coverage state of an organization, as the `orgs` layer colours it.
enum class OrgState { standalone = 0, joint = 1, instructor = 2, uncovered = 3, inactive = 4 };

struct AreaFeature {
    std::string name;
    double rate = -1;  ///< organizational coverage 0–1; −1 without operating organizations
    long operating = 0;
    geo::MultiPolygon shape;  ///< EPSG:3857
    geo::Point label;         ///< a point inside the shape (EPSG:3857)
};

struct OrgFeature {
    geo::Id id;
    geo::Point at;  ///< EPSG:3857
    OrgState state = OrgState::uncovered;
    int employees = 0;
    bool due = false;  ///< operating, its ledger not confirmed this quarter (the ledger-due layer)
};

struct LinkFeature {
    geo::Id instructor;
    geo::Point from, to;  ///< home → organization, EPSG:3857
};

struct TerritoryFeature {
    geo::Id instructor;
    geo::MultiPolygon shape;  ///< convex hull of the home and the organizations, EPSG:3857
};

/// A 128-bit name of what the tiles draw: the XOR of one hash per drawn record (organizations,
/// areas, instructors), so it follows edits applied in any order and equal data has equal
/// fingerprints however it was reached (a fresh load or edit after edit).
struct Fingerprint {
    std::uint64_t hi = 0, lo = 0;
    Fingerprint& operator^=(const Fingerprint& o) {
        hi ^= o.hi;
        lo ^= o.lo;
        return *this;
    }
    bool operator==(const Fingerprint& o) const { return hi == o.hi && lo == o.lo; }
    bool operator!=(const Fingerprint& o) const { return !(*this == o); }
    /// 32 lower-case hex digits.
    std::string hex() const;
    /// The fingerprint hex() wrote, or nullopt for anything else.
    static std::optional<Fingerprint> parse(const std::string& hex);
};

/// Boxes (EPSG:3857) whose drawing an edit changed, per layer name.
using Dirty = std::map<std::string, std::vector<geo::BBox>>;

/// The layers' layer names (contract).
extern const std::vector<std::string> kLayerNames;
/// The area level a coverage-* layer draws, or nullopt for other layers.
std::optional<geo::Level> coverage_level(const std::string& layer);

class TileSource {
public:
    explicit TileSource(const geo::Dataset& d);
    ~TileSource();

    std::vector<AreaFeature> areas(geo::Level level, const geo::BBox& box) const;
    std::vector<OrgFeature> orgs(const geo::BBox& box) const;
    std::vector<geo::Point> uncovered(const geo::BBox& box) const;
    std::vector<LinkFeature> links(const geo::BBox& box) const;
    std::vector<TerritoryFeature> territories(const geo::BBox& box) const;

    /// Applies an organization's change (branch, instructor, status); returns what it dirtied.
    /// The heatmap's boxes are the point grown by kernel_radius_m.
    Dirty update(const geo::Organization& before, const geo::Organization& after, double kernel_radius_m);
    /// Marks whether an organization's ledger is due (a visit confirmed it, or a new quarter
    /// began); returns what it dirtied.
    Dirty set_due(const geo::Id& org, bool due);
    /// A new quarter began: every operating organization's ledger is due again.
    void set_all_due();

    /// Makes a new branch's type known (for organizations that point at it later).
    void add_branch(std::int64_t id, geo::BranchType type);

    /// Longitude/latitude extent of the data.
    geo::BBox extent() const;
    /// What the layers draw now (kept up to date by update, set_due and set_all_due).
    Fingerprint fingerprint() const;
    /// Its part that edits never change: the areas and the instructors.
    Fingerprint fixed_fingerprint() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    mutable std::shared_mutex mutex_;
};

}  // namespace covermap::tiles
