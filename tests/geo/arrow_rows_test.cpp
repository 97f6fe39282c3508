// The store's reader of Arrow batches (geo/store/src/arrow_rows.hpp) on batches made by hand:
// what GDAL 3.6 does not produce but the Arrow C data interface allows (offsets of a batch and
// of a column, unknown null counts) and every form of WKB point it may meet.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "arrow_rows.hpp"

using covermap::geo::Point;
using covermap::geo::store_detail::ArrowColumn;

namespace {

// A column of the C data interface over vectors the test keeps alive.
struct Column {
    ArrowSchema schema{};
    ArrowArray array{};
    std::vector<const void*> buffers;
    Column(const char* format, std::int64_t length, std::int64_t offset, std::int64_t null_count,
           std::vector<const void*> bufs)
        : buffers(std::move(bufs)) {
        schema.format = format;
        array.length = length;
        array.offset = offset;
        array.null_count = null_count;
        array.n_buffers = static_cast<std::int64_t>(buffers.size());
        array.buffers = buffers.data();
    }
    ArrowColumn view(std::int64_t parent_offset = 0) const { return ArrowColumn(&schema, &array, parent_offset); }
};

std::string wkb_point(bool little, std::uint32_t type, double x, double y, bool srid = false) {
    std::string out(1, little ? '\1' : '\0');
    auto put = [&](const void* p, std::size_t n) {
        std::string b(static_cast<const char*>(p), n);
        if (!little) std::reverse(b.begin(), b.end());
        out += b;
    };
    put(&type, 4);
    if (srid) {
        std::uint32_t code = 4490;
        put(&code, 4);
    }
    put(&x, 8);
    put(&y, 8);
    if (type % 1000 != 1 && type != 0x20000001) put(&y, 8);  // another geometry's bytes
    return out;
}

// Binary values in Arrow's layout: int32 offsets, then the bytes.
struct Binary {
    std::vector<std::int32_t> offsets{0};
    std::string data;
    void add(const std::string& v) {
        data += v;
        offsets.push_back(static_cast<std::int32_t>(data.size()));
    }
};

}  // namespace

TEST(ArrowRows, TextHonoursTheColumnsAndTheBatchsOffsetsAndNulls) {
    Binary b;
    for (const char* v : {"skipped", "甲", "", "乙丙", "null here", "丁"}) b.add(v);
    // Valid: rows 0-3 and 5; row 4 null (bit 4 clear).
    std::uint8_t valid = 0b101111;
    Column c("u", 5, 1, -1, {&valid, b.offsets.data(), b.data.data()});  // null count unknown
    auto col = c.view(0);
    EXPECT_EQ(col.bytes(0), "甲");
    EXPECT_EQ(col.bytes(1), "");
    EXPECT_FALSE(col.null(1));
    EXPECT_EQ(col.bytes(2), "乙丙");
    EXPECT_TRUE(col.null(3));
    EXPECT_EQ(col.bytes(3), "");
    EXPECT_EQ(col.bytes(4), "丁");
    auto shifted = c.view(2);  // a batch whose own offset is 2: its row 0 is the column's row 2
    EXPECT_EQ(shifted.bytes(0), "乙丙");
    EXPECT_TRUE(shifted.null(1));
}

TEST(ArrowRows, IntegersOfEveryWidthAndBooleans) {
    std::vector<std::int32_t> ints{7, -3, 2147483647};
    std::vector<std::int64_t> longs{1LL << 40, -1};
    std::uint8_t bits = 0b010;
    std::uint8_t valid = 0b101;
    Column i("i", 3, 0, 1, {&valid, ints.data()});
    Column l("l", 2, 0, 0, {nullptr, longs.data()});
    Column b("b", 3, 0, 0, {nullptr, &bits});
    EXPECT_EQ(i.view().integer(0), 7);
    EXPECT_EQ(i.view().integer(1), 0) << "null reads as 0";
    EXPECT_EQ(i.view().integer(2), 2147483647);
    EXPECT_EQ(l.view().integer(0), 1LL << 40);
    EXPECT_EQ(l.view().integer(1), -1);
    EXPECT_EQ(b.view().integer(0), 0);
    EXPECT_EQ(b.view().integer(1), 1);
    EXPECT_EQ(b.view().integer(2), 0);
}

TEST(ArrowRows, PointsFromEveryFormOfWkb) {
    Binary b;
    b.add(wkb_point(true, 1, 123.8, 42.2));                    // ISO, little endian
    b.add(wkb_point(false, 1, 123.9, 42.3));                   // big endian
    b.add(wkb_point(true, 1001, 124.0, 42.4));                 // ISO Z: x and y first
    b.add(wkb_point(true, 0x80000001, 124.1, 42.5));           // extended Z flag
    b.add(wkb_point(true, 0x20000001, 124.2, 42.6, true));     // extended with an SRID
    b.add(wkb_point(true, 1, std::nan(""), std::nan("")));     // POINT EMPTY
    b.add(wkb_point(true, 2, 1, 2));                           // not a point
    b.add(std::string("\1\1\0\0", 4));                         // cut short
    Column c("z", 8, 0, 0, {nullptr, b.offsets.data(), b.data.data()});
    auto col = c.view();
    auto is = [](Point p, double x, double y) { return p.x == x && p.y == y; };
    EXPECT_TRUE(is(col.point(0), 123.8, 42.2));
    EXPECT_TRUE(is(col.point(1), 123.9, 42.3));
    EXPECT_TRUE(is(col.point(2), 124.0, 42.4));
    EXPECT_TRUE(is(col.point(3), 124.1, 42.5));
    EXPECT_TRUE(is(col.point(4), 124.2, 42.6)) << col.point(4).x << "," << col.point(4).y;
    for (int k : {5, 6, 7}) EXPECT_TRUE(is(col.point(k), 0, 0)) << "row " << k << ": the origin";
}
