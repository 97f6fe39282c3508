#pragma once
/// \file Boost.Geometry and its R-tree, as every part includes them. Its queries, inlined at
/// -O3, trip GCC 12's array-bounds and maybe-uninitialized checks inside Boost's own code (the
/// k-nearest buffer): silenced here for Boost's headers only, in one place.

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#if !defined(__clang__)  // a GCC warning; clang (the fuzz build) has no such group
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#pragma GCC diagnostic pop
