#pragma once
// A layer's rows through OGR's column-oriented read (RFC 86, OGRLayer::GetArrowStream, GDAL 3.6):
// GDAL's GeoPackage driver fills whole batches inside SQLite on a thread of its own, without an
// OGRFeature per row: 1.1 M organizations in 0.55 s of reading where GetNextFeature took 1.3 s.
// The batches come in Arrow's C data interface (ogr_recordbatch.h), which has no reader of its
// own in C++ short of the Arrow library: the few column types the store writes are read here.
// Not installed.

#include <ogr_recordbatch.h>
#include <ogrsf_frmts.h>

#include <cmath>
#include <cpl_conv.h>
#include <cpl_string.h>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "covermap/geo/error.hpp"
#include "covermap/geo/model.hpp"

namespace covermap::geo::store_detail {

/// One column of a batch, read by row.
class ArrowColumn {
public:
    ArrowColumn() = default;
    /// A child of a batch whose own offset is `parent_offset`: row r of the batch is the child's
    /// row r + parent_offset (+ its own offset).
    ArrowColumn(const ArrowSchema* schema, const ArrowArray* array, std::int64_t parent_offset = 0)
        : format_(schema->format), a_(array), shift_(parent_offset + array->offset) {}

    bool null(std::int64_t row) const {
        auto* valid = static_cast<const std::uint8_t*>(a_->buffers[0]);
        if (a_->null_count == 0 || !valid) return false;
        std::int64_t k = row + shift_;
        return !(valid[k / 8] & (1u << (k % 8)));
    }
    /// Text or binary ("u", "z"); empty when null.
    std::string_view bytes(std::int64_t row) const {
        if (null(row)) return {};
        auto* offsets = static_cast<const std::int32_t*>(a_->buffers[1]);
        auto* data = static_cast<const char*>(a_->buffers[2]);
        std::int64_t k = row + shift_;
        return {data + offsets[k], static_cast<std::size_t>(offsets[k + 1] - offsets[k])};
    }
    /// An integer column ("c", "s", "i", "l", "b"); 0 when null, as OGRFeature reads an unset field.
    std::int64_t integer(std::int64_t row) const {
        if (null(row)) return 0;
        std::int64_t k = row + shift_;
        const void* v = a_->buffers[1];
        switch (format_[0]) {
            case 'c': return static_cast<const std::int8_t*>(v)[k];
            case 's': return static_cast<const std::int16_t*>(v)[k];
            case 'i': return static_cast<const std::int32_t*>(v)[k];
            case 'l': return static_cast<const std::int64_t*>(v)[k];
            default: return (static_cast<const std::uint8_t*>(v)[k / 8] >> (k % 8)) & 1;  // 'b'
        }
    }
    /// A point from WKB (either byte order, ISO or extended type codes with Z, M or an SRID); the origin for
    /// null, empty (NaN coordinates) or any other geometry, as point_of reads a feature.
    Point point(std::int64_t row) const {
        auto wkb = bytes(row);
        if (wkb.size() < 21) return {};
        const bool little = wkb[0] == 1;
        auto u32 = [&](std::size_t at) {
            std::uint32_t v;
            std::memcpy(&v, wkb.data() + at, 4);
            return little ? v : __builtin_bswap32(v);
        };
        auto f64 = [&](std::size_t at) {
            std::uint64_t bits;
            std::memcpy(&bits, wkb.data() + at, 8);
            if (!little) bits = __builtin_bswap64(bits);
            double v;
            std::memcpy(&v, &bits, 8);
            return v;
        };
        const std::uint32_t code = u32(1);
        const std::uint32_t type = code & 0x0fffffff;       // without the extended Z/M/SRID flags
        const std::size_t at = code & 0x20000000 ? 9 : 5;  // past an extended WKB's SRID
        if (type % 1000 != 1 || wkb.size() < at + 16) return {};
        double x = f64(at), y = f64(at + 8);
        if (std::isnan(x) || std::isnan(y)) return {};
        return {x, y};
    }

    static bool integer_format(const char* f) {
        return f[1] == '\0' && (f[0] == 'c' || f[0] == 's' || f[0] == 'i' || f[0] == 'l' || f[0] == 'b');
    }
    static bool bytes_format(const char* f) { return f[1] == '\0' && (f[0] == 'u' || f[0] == 'z'); }

private:
    const char* format_ = "";
    const ArrowArray* a_ = nullptr;
    std::int64_t shift_ = 0;
};

/// What a row reader asks of a column: its name and kind.
struct ArrowField {
    enum Kind { text, integer, geometry };
    const char* name;
    Kind kind;
};

/// Whether a data set's layers are read through their Arrow streams: a GeoPackage's, unless
/// COVERMAP_ARROW_READ=NO (an environment variable or GDAL configuration option) asks for the
/// feature-by-feature read. GDAL before 3.11.4 had a rarely seen race in the GeoPackage driver's
/// asynchronous batches (OSGeo/gdal#12934, reproduced on Windows only); the switch is the way out
/// should it show here. The generic stream of other drivers makes features first: no faster.
inline bool arrow_reads(GDALDataset& ds) {
    return ds.GetDriver() && std::strcmp(ds.GetDriver()->GetDescription(), "GPKG") == 0 &&
           CPLTestBool(CPLGetConfigOption("COVERMAP_ARROW_READ", "YES"));
}

/// Reads every row of the layer through its Arrow stream, calling row(columns, r) with the
/// columns in the order of `fields` (the geometry by the layer's geometry column name). Returns
/// false, having read nothing, where no native stream serves (see arrow_reads; an attribute or
/// spatial filter set) or a column is missing, of another type or dictionary-encoded; throws
/// store_error when the stream fails part-way.
template <class Row>
bool read_arrow_rows(OGRLayer* l, GDALDataset& ds, const std::vector<ArrowField>& fields, Row row) {
    if (!arrow_reads(ds)) return false;
    if (l->GetAttrQueryString() || l->GetSpatialFilter()) return false;
    // Each structure the stream hands out is released once, on every path (RAII: an exception
    // from row() or from an allocation here leaks nothing).
    struct StreamGuard {
        ArrowArrayStream s{};
        ~StreamGuard() {
            if (s.release) s.release(&s);
        }
    } stream;
    struct SchemaGuard {
        ArrowSchema s{};
        ~SchemaGuard() {
            if (s.release) s.release(&s);
        }
    } schema;
    struct BatchGuard {
        ArrowArray a{};
        ~BatchGuard() { release(); }
        void release() {
            if (a.release) a.release(&a);
            a = ArrowArray{};
        }
    };
    char include_fid[] = "INCLUDE_FID=NO";
    char* options[] = {include_fid, nullptr};
    if (!l->GetArrowStream(&stream.s, options)) return false;
    if (stream.s.get_schema(&stream.s, &schema.s) != 0 || !schema.s.format) return false;
    if (std::strcmp(schema.s.format, "+s") != 0) return false;
    std::vector<int> child(fields.size(), -1);
    const std::string geometry = l->GetGeometryColumn();
    for (std::size_t k = 0; k < fields.size(); ++k) {
        const std::string want = fields[k].kind == ArrowField::geometry ? geometry : fields[k].name;
        for (std::int64_t c = 0; c < schema.s.n_children; ++c)
            if (schema.s.children[c]->name && want == schema.s.children[c]->name) child[k] = static_cast<int>(c);
        if (child[k] < 0) return false;
        const ArrowSchema* column = schema.s.children[child[k]];
        if (column->dictionary) return false;  // coded values: indices, not the values
        const char* f = column->format;
        if (!(fields[k].kind == ArrowField::integer ? ArrowColumn::integer_format(f) : ArrowColumn::bytes_format(f)))
            return false;
    }
    std::vector<ArrowColumn> columns(fields.size());
    for (BatchGuard batch;; batch.release()) {
        if (stream.s.get_next(&stream.s, &batch.a) != 0) {
            const char* why = stream.s.get_last_error(&stream.s);
            throw store_error(std::string("reading ") + l->GetName() + " failed: " + (why ? why : "no reason given"));
        }
        if (!batch.a.release) break;  // the end
        for (std::size_t k = 0; k < fields.size(); ++k)
            columns[k] = ArrowColumn(schema.s.children[child[k]], batch.a.children[child[k]], batch.a.offset);
        for (std::int64_t r = 0; r < batch.a.length; ++r) row(columns, r);
    }
    return true;
}

}  // namespace covermap::geo::store_detail
