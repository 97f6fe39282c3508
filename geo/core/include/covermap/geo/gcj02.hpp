#pragma once
/// \file GCJ-02, the offset coordinates of Chinese web maps (Gaode, Tencent), and back.

#include "covermap/geo/model.hpp"

namespace covermap::geo {

/// WGS84 (≈ CGCS2000) longitude/latitude to GCJ-02. Outside China the point is unchanged.
Point wgs84_to_gcj02(Point wgs);

/// GCJ-02 to WGS84 by fixed-point iteration of the forward formula (error well under 2 m).
Point gcj02_to_wgs84(Point gcj);

/// BD-09 (Baidu Maps) to GCJ-02: Baidu's published second offset, undone exactly.
Point bd09_to_gcj02(Point bd);

/// BD-09 to WGS84 (through GCJ-02).
Point bd09_to_wgs84(Point bd);

}  // namespace covermap::geo
