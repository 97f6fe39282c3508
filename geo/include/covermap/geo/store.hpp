#pragma once
/// \file covermap's store: a GeoPackage file (default) or PostGIS ("PG:…"), through OGR only.

#include <memory>
#include <string>

#include "covermap/geo/model.hpp"

namespace covermap::geo {

/// The persistent data set. Every write is one transaction: it lands whole or not at all.
/// Use one Store per thread (one GDAL dataset per thread).
class Store {
public:
    /// Opens the store at uri (a GeoPackage path or a "PG:" connection string),
    /// creating the file and the layers (areas, orgs, instructors, branches, audit,
    /// tokens) when missing. Throws store_error.
    static Store open(const std::string& uri);
    /// Opens an existing store; throws store_error when it is not there.
    static Store open_existing(const std::string& uri);

    ~Store();
    Store(Store&&) noexcept;
    Store& operator=(Store&&) noexcept;

    /// Reads the whole data set into memory.
    Dataset load() const;

    /// Replaces the data set's contents with d (audit and tokens are kept).
    void replace(const Dataset& d);

    /// Adds d's rows to what is there.
    void append(const Dataset& d);

    /// Number of rows in a layer (areas, orgs, instructors, branches, audit, tokens).
    long long count(const std::string& layer) const;

    /// True for a "PG:" store.
    bool is_postgis() const;
    const std::string& uri() const;

private:
    struct Impl;
    explicit Store(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace covermap::geo
