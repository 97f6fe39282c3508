#include "covermap/geo/gcj02.hpp"

#include <cmath>

namespace covermap::geo {

namespace {
// The published GCJ-02 obfuscation: Krasovsky 1940 ellipsoid and two trigonometric series.
constexpr double kA = 6378245.0;
constexpr double kEE = 0.00669342162296594323;

bool outside_china(Point p) { return p.x < 72.004 || p.x > 137.8347 || p.y < 0.8293 || p.y > 55.8271; }

double shift_lat(double x, double y) {
    double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * std::sqrt(std::fabs(x));
    r += (20.0 * std::sin(6.0 * x * M_PI) + 20.0 * std::sin(2.0 * x * M_PI)) * 2.0 / 3.0;
    r += (20.0 * std::sin(y * M_PI) + 40.0 * std::sin(y / 3.0 * M_PI)) * 2.0 / 3.0;
    r += (160.0 * std::sin(y / 12.0 * M_PI) + 320 * std::sin(y * M_PI / 30.0)) * 2.0 / 3.0;
    return r;
}

double shift_lon(double x, double y) {
    double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * std::sqrt(std::fabs(x));
    r += (20.0 * std::sin(6.0 * x * M_PI) + 20.0 * std::sin(2.0 * x * M_PI)) * 2.0 / 3.0;
    r += (20.0 * std::sin(x * M_PI) + 40.0 * std::sin(x / 3.0 * M_PI)) * 2.0 / 3.0;
    r += (150.0 * std::sin(x / 12.0 * M_PI) + 300.0 * std::sin(x / 30.0 * M_PI)) * 2.0 / 3.0;
    return r;
}
}  // namespace

Point wgs84_to_gcj02(Point wgs) {
    if (outside_china(wgs)) return wgs;
    double dlat = shift_lat(wgs.x - 105.0, wgs.y - 35.0);
    double dlon = shift_lon(wgs.x - 105.0, wgs.y - 35.0);
    double radlat = wgs.y / 180.0 * M_PI;
    double magic = 1 - kEE * std::sin(radlat) * std::sin(radlat);
    double sqrtmagic = std::sqrt(magic);
    dlat = (dlat * 180.0) / ((kA * (1 - kEE)) / (magic * sqrtmagic) * M_PI);
    dlon = (dlon * 180.0) / (kA / sqrtmagic * std::cos(radlat) * M_PI);
    return {wgs.x + dlon, wgs.y + dlat};
}

Point gcj02_to_wgs84(Point gcj) {
    if (outside_china(gcj)) return gcj;
    // The forward map is a smooth small shift: iterate w ← w − (f(w) − g) to the fixed point.
    Point w = gcj;
    for (int i = 0; i < 30; ++i) {
        Point f = wgs84_to_gcj02(w);
        double dx = f.x - gcj.x, dy = f.y - gcj.y;
        w.x -= dx;
        w.y -= dy;
        if (std::fabs(dx) < 1e-12 && std::fabs(dy) < 1e-12) break;
    }
    return w;
}

Point bd09_to_gcj02(Point bd) {
    constexpr double k = M_PI * 3000.0 / 180.0;
    double x = bd.x - 0.0065, y = bd.y - 0.006;
    double z = std::sqrt(x * x + y * y) - 0.00002 * std::sin(y * k);
    double theta = std::atan2(y, x) - 0.000003 * std::cos(x * k);
    return {z * std::cos(theta), z * std::sin(theta)};
}

Point bd09_to_wgs84(Point bd) { return gcj02_to_wgs84(bd09_to_gcj02(bd)); }

}  // namespace covermap::geo
