#pragma once
// OGR adapters for the geo layer's sources; never included by public headers.

#include <gdal_priv.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <memory>
#include <optional>
#include <string>

#include "covermap/geo/model.hpp"

namespace covermap::geo::detail {

struct DatasetCloser {
    void operator()(GDALDataset* ds) const { GDALClose(GDALDataset::ToHandle(ds)); }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;
using FeaturePtr = std::unique_ptr<OGRFeature, decltype(&OGRFeature::DestroyFeature)>;

inline FeaturePtr make_feature(OGRFeatureDefn* defn) {
    return FeaturePtr(OGRFeature::CreateFeature(defn), &OGRFeature::DestroyFeature);
}
inline FeaturePtr own(OGRFeature* f) { return FeaturePtr(f, &OGRFeature::DestroyFeature); }

/// Registers GDAL's drivers once.
void ensure_gdal();

/// EPSG:4490 with longitude first (traditional GIS order).
const OGRSpatialReference& cgcs2000();

/// An SRS from "EPSG:n" only (never a file or URL); x first. Throws invalid_argument.
OGRSpatialReference srs_from(const std::string& text);

std::unique_ptr<OGRMultiPolygon> to_ogr(const MultiPolygon& mp);
std::unique_ptr<OGRPoint> to_ogr(Point p);

/// The polygonal part of any OGR geometry (curves linearized, collections searched).
MultiPolygon from_ogr_polygons(const OGRGeometry* g);

}  // namespace covermap::geo::detail
