#pragma once
// PNG tiles decoded by GDAL (a reader independent of Mapnik) for the rendering tests.

#include <gdal_priv.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace covermap::test {

// Decodes a PNG with GDAL (an independent reader) into RGBA rows.
struct Pixels {
    int width = 0, height = 0;
    std::vector<unsigned char> rgba;  // 4 bytes per pixel
    const unsigned char* at(int x, int y) const { return &rgba[static_cast<std::size_t>((y * width + x) * 4)]; }
    std::size_t opaque() const {
        std::size_t n = 0;
        for (std::size_t i = 3; i < rgba.size(); i += 4) n += rgba[i] > 0;
        return n;
    }
};

inline Pixels decode(const std::string& png) {
    GDALAllRegister();
    std::string path = "/vsimem/tile-" + std::to_string(reinterpret_cast<std::uintptr_t>(&png)) + ".png";
    VSIFCloseL(
        VSIFileFromMemBuffer(path.c_str(), reinterpret_cast<GByte*>(const_cast<char*>(png.data())), png.size(), FALSE));
    Pixels p;
    auto* ds = static_cast<GDALDataset*>(GDALOpen(path.c_str(), GA_ReadOnly));
    if (!ds) return p;
    p.width = ds->GetRasterXSize();
    p.height = ds->GetRasterYSize();
    p.rgba.assign(static_cast<std::size_t>(p.width * p.height * 4), 255);
    int bands = ds->GetRasterCount();
    // Palette PNGs come as one band with a colour table and alpha in it.
    if (bands == 1 && ds->GetRasterBand(1)->GetColorTable()) {
        std::vector<unsigned char> idx(static_cast<std::size_t>(p.width * p.height));
        if (ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, p.width, p.height, idx.data(), p.width, p.height, GDT_Byte, 0,
                                           0) != CE_None)
            return {};
        auto* ct = ds->GetRasterBand(1)->GetColorTable();
        for (std::size_t i = 0; i < idx.size(); ++i) {
            const GDALColorEntry* e = ct->GetColorEntry(idx[i]);
            p.rgba[i * 4] = static_cast<unsigned char>(e->c1);
            p.rgba[i * 4 + 1] = static_cast<unsigned char>(e->c2);
            p.rgba[i * 4 + 2] = static_cast<unsigned char>(e->c3);
            p.rgba[i * 4 + 3] = static_cast<unsigned char>(e->c4);
        }
    } else {
        for (int b = 0; b < std::min(bands, 4); ++b) {
            std::vector<unsigned char> band(static_cast<std::size_t>(p.width * p.height));
            if (ds->GetRasterBand(b + 1)->RasterIO(GF_Read, 0, 0, p.width, p.height, band.data(), p.width, p.height,
                                                   GDT_Byte, 0, 0) != CE_None)
                return {};
            for (std::size_t i = 0; i < band.size(); ++i) p.rgba[i * 4 + static_cast<std::size_t>(b)] = band[i];
        }
    }
    GDALClose(ds);
    VSIUnlink(path.c_str());
    return p;
}

}  // namespace covermap::test
