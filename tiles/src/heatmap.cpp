#include "covermap/tiles/heatmap.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace covermap::tiles {

DensityGrid kernel_density(const std::vector<geo::Point>& points, const geo::BBox& box, int width, int height,
                           double radius_ground_m) {
    DensityGrid g;
    g.width = width;
    g.height = height;
    g.box = box;
    g.values.assign(static_cast<std::size_t>(width) * static_cast<std::size_t>(height), 0.0f);
    if (points.empty() || width <= 0 || height <= 0) return g;
    double cw = (box.maxx - box.minx) / width, ch = (box.maxy - box.miny) / height;
    // Mercator scale at the box's latitude: ground metres × k = Mercator metres.
    double lat = std::atan(std::sinh(((box.miny + box.maxy) / 2) / 6378137.0));
    double k = 1 / std::cos(lat);
    double r = std::max(radius_ground_m * k, 1.5 * std::max(cw, ch));  // Mercator metres
    double r_ground_km = r / k / 1000;
    // Quartic kernel: K(u) = 3/π (1 − u²)², integrating to 1 over the unit disc.
    double norm = 3.0 / (M_PI * r_ground_km * r_ground_km);
    for (const auto& p : points) {
        int x0 = std::max(0, static_cast<int>(std::floor((p.x - r - box.minx) / cw)));
        int x1 = std::min(width - 1, static_cast<int>(std::floor((p.x + r - box.minx) / cw)));
        int y0 = std::max(0, static_cast<int>(std::floor((box.maxy - (p.y + r)) / ch)));
        int y1 = std::min(height - 1, static_cast<int>(std::floor((box.maxy - (p.y - r)) / ch)));
        for (int y = y0; y <= y1; ++y) {
            double cy = box.maxy - (y + 0.5) * ch;
            for (int x = x0; x <= x1; ++x) {
                double cx = box.minx + (x + 0.5) * cw;
                double u2 = ((cx - p.x) * (cx - p.x) + (cy - p.y) * (cy - p.y)) / (r * r);
                if (u2 >= 1) continue;
                g.values[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)] +=
                    static_cast<float>(norm * (1 - u2) * (1 - u2));
            }
        }
    }
    return g;
}

std::vector<double> heat_classes(const std::vector<geo::Point>& points, double radius_ground_m) {
    if (points.size() < 20) return {0.25, 0.8, 2, 5, 12};
    // Points (EPSG:3857) bucketed in cells one radius wide: neighbours are in the 3 × 3 cells.
    geo::BBox box;
    for (const auto& p : points) box.expand(p);
    double lat = std::atan(std::sinh(((box.miny + box.maxy) / 2) / 6378137.0));
    double k = 1 / std::cos(lat);
    double r = radius_ground_m * k;
    double norm = 3.0 / (M_PI * (radius_ground_m / 1000) * (radius_ground_m / 1000));
    auto key = [&](double x, double y) {
        return (static_cast<long long>(std::floor(x / r)) << 32) ^
               (static_cast<long long>(std::floor(y / r)) & 0xffffffff);
    };
    std::unordered_map<long long, std::vector<std::size_t>> cells;
    for (std::size_t i = 0; i < points.size(); ++i) cells[key(points[i].x, points[i].y)].push_back(i);
    std::size_t step = std::max<std::size_t>(1, points.size() / 20000);
    std::vector<double> density;
    for (std::size_t i = 0; i < points.size(); i += step) {
        const auto& p = points[i];
        double sum = 0;
        for (int dx = -1; dx <= 1; ++dx)
            for (int dy = -1; dy <= 1; ++dy) {
                auto it = cells.find(key(p.x + dx * r, p.y + dy * r));
                if (it == cells.end()) continue;
                for (auto j : it->second) {
                    double u2 =
                        ((points[j].x - p.x) * (points[j].x - p.x) + (points[j].y - p.y) * (points[j].y - p.y)) /
                        (r * r);
                    if (u2 < 1) sum += norm * (1 - u2) * (1 - u2);
                }
            }
        density.push_back(sum);
    }
    std::sort(density.begin(), density.end());
    std::vector<double> classes;
    for (double q : {0.5, 0.75, 0.9, 0.97, 0.995}) {
        double v = density[static_cast<std::size_t>(q * static_cast<double>(density.size() - 1))];
        if (!classes.empty()) v = std::max(v, classes.back() * 1.15);  // strictly ascending, distinct
        classes.push_back(v);
    }
    return classes;
}

}  // namespace covermap::tiles
