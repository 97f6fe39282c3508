#pragma once
/// \file GeoJSON geometries of the model's shapes, for the API's answers.

#include <nlohmann/json.hpp>

#include "covermap/geo/model.hpp"

namespace covermap::api {

/// A MultiPolygon geometry object.
nlohmann::json geometry_json(const geo::MultiPolygon& shape);

/// A Point geometry object.
nlohmann::json point_json(geo::Point p);

}  // namespace covermap::api
