#include "covermap/tiles/png_exact.hpp"

#include <png.h>

#include <array>
#include <csetjmp>
#include <stdexcept>
#include <vector>

namespace covermap::tiles {

namespace {

// The distinct colours met so far and their palette index: open addressing over 1,024 slots
// (at most 256 used, so probes stay short).
class Colours {
public:
    /// The colour's index, a new one when unseen; -1 once there would be more than 256.
    int index(std::uint32_t c) {
        std::uint32_t slot = (c * 2654435761u) >> 22;
        while (true) {
            if (used_[slot] == 0) {
                if (count_ == 256) return -1;
                used_[slot] = 1;
                keys_[slot] = c;
                values_[slot] = static_cast<std::uint8_t>(count_);
                palette_[static_cast<std::size_t>(count_)] = c;
                return count_++;
            }
            if (keys_[slot] == c) return values_[slot];
            slot = (slot + 1) & 1023u;
        }
    }
    int count() const { return count_; }
    std::uint32_t colour(int i) const { return palette_[static_cast<std::size_t>(i)]; }

private:
    std::array<std::uint32_t, 1024> keys_{};
    std::array<std::uint8_t, 1024> values_{};
    std::array<std::uint8_t, 1024> used_{};
    std::array<std::uint32_t, 256> palette_{};
    int count_ = 0;
};

// No C++ exception may cross libpng's C frames: a failure goes back through its longjmp.
void append(png_structp png, png_bytep data, png_size_t length) {
    try {
        static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<const char*>(data), length);
    } catch (...) {
        png_error(png, "out of memory");
    }
}

// libpng reports errors by longjmp: nothing with a destructor lives in this frame. A palette
// image when plte is given (depth 1–8), else 8-bit RGBA.
bool write_png(std::string* out, int width, int height, int depth, const png_color* plte, const png_byte* trns,
               int colours, bool any_alpha, png_bytepp rows, int level) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    if (!png) return false;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, nullptr);
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    png_set_write_fn(png, out, &append, nullptr);
    png_set_compression_level(png, level);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);  // as Mapnik writes tiles
    png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), depth,
                 plte ? PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (plte) png_set_PLTE(png, info, plte, colours);
    if (plte && any_alpha) png_set_tRNS(png, info, trns, colours, nullptr);
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
    png_destroy_write_struct(&png, &info);
    return true;
}

// The PNG, written into a buffer kept per thread and returned at its exact size.
std::string written(int width, int height, int depth, const png_color* plte, const png_byte* trns, int colours,
                    bool any_alpha, png_bytepp rows, int level) {
    thread_local std::string buffer;
    buffer.clear();
    if (!write_png(&buffer, width, height, depth, plte, trns, colours, any_alpha, rows, level))
        throw std::runtime_error("libpng could not write a tile");
    return buffer;
}

}  // namespace

std::optional<std::string> exact_png8(const std::uint32_t* pixels, int width, int height, std::size_t stride,
                                      int level) {
    Colours colours;
    // Buffers kept per thread: fresh ones would fault their pages in for every tile.
    thread_local std::vector<std::uint8_t> index, packed;
    index.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height));
    // Runs of one colour are the rule: only a change of colour is looked up.
    std::uint32_t previous = 0;
    int previous_index = colours.index(0);  // fully transparent: present in nearly every tile
    for (int y = 0; y < height; ++y) {
        const std::uint32_t* row = pixels + static_cast<std::size_t>(y) * stride;
        std::uint8_t* out = index.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
        for (int x = 0; x < width; ++x) {
            std::uint32_t c = row[x];
            if ((c >> 24) == 0) c = 0;  // every invisible pixel is one colour
            if (c != previous) {
                previous = c;
                previous_index = colours.index(c);
                if (previous_index < 0) return std::nullopt;
            }
            out[x] = static_cast<std::uint8_t>(previous_index);
        }
    }

    int n = colours.count();
    if (n == 1 && colours.colour(0) == 0) return std::string();  // nothing drawn
    int depth = n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8;
    std::array<png_color, 256> plte{};
    std::array<png_byte, 256> trns{};
    bool any_alpha = false;
    for (int i = 0; i < n; ++i) {
        std::uint32_t c = colours.colour(i);
        plte[static_cast<std::size_t>(i)] = png_color{static_cast<png_byte>(c & 0xff), static_cast<png_byte>((c >> 8) & 0xff),
                                                      static_cast<png_byte>((c >> 16) & 0xff)};
        trns[static_cast<std::size_t>(i)] = static_cast<png_byte>(c >> 24);
        any_alpha = any_alpha || (c >> 24) != 0xff;
    }
    // Below 8 bits, pixels are packed into bytes, leftmost in the high bits (PNG's order).
    std::size_t row_bytes = (static_cast<std::size_t>(width) * static_cast<std::size_t>(depth) + 7) / 8;
    std::vector<png_bytep> rows(static_cast<std::size_t>(height));
    if (depth == 8) {
        for (int y = 0; y < height; ++y) rows[static_cast<std::size_t>(y)] = index.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
    } else {
        packed.assign(row_bytes * static_cast<std::size_t>(height), 0);
        int per_byte = 8 / depth;
        for (int y = 0; y < height; ++y) {
            const std::uint8_t* in = index.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
            std::uint8_t* out = packed.data() + static_cast<std::size_t>(y) * row_bytes;
            for (int x = 0; x < width; ++x)
                out[x / per_byte] |= static_cast<std::uint8_t>(in[x] << (8 - depth * (x % per_byte + 1)));
            rows[static_cast<std::size_t>(y)] = out;
        }
    }
    return written(width, height, depth, plte.data(), trns.data(), n, any_alpha, rows.data(), level);
}

}  // namespace covermap::tiles

namespace covermap::tiles {

std::string rgba_png(const std::uint32_t* pixels, int width, int height, std::size_t stride, int level) {
    // Rows straight from the image: nothing is copied.
    std::vector<png_bytep> rows(static_cast<std::size_t>(height));
    for (int y = 0; y < height; ++y)
        rows[static_cast<std::size_t>(y)] =
            reinterpret_cast<png_bytep>(const_cast<std::uint32_t*>(pixels + static_cast<std::size_t>(y) * stride));
    return written(width, height, 8, nullptr, nullptr, 0, true, rows.data(), level);
}

std::string tile_png(const std::uint32_t* pixels, int width, int height, std::size_t stride, int level) {
    if (auto exact = exact_png8(pixels, width, height, stride, level)) return std::move(*exact);
    return rgba_png(pixels, width, height, stride, level);
}

}  // namespace covermap::tiles
