#include "covermap/tiles/heatmap.hpp"

#include <algorithm>
#include <cmath>

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

}  // namespace covermap::tiles
