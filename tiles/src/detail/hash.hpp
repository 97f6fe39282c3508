#pragma once
// Hashes of the tiles' data and files: the fingerprint of what they draw, and the checksum of a
// metatile file. Not cryptographic: they name content and catch damage, they do not resist an
// adversary (the tile directory is the server's own).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "covermap/tiles/source.hpp"

namespace covermap::tiles::detail {

/// MurmurHash3's 64-bit finalizer: every input bit reaches every output bit.
inline std::uint64_t mix64(std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/// FNV-1a over bytes, from `h`.
inline std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = 1469598103934665603ULL) {
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
    return h;
}

/// Two independent 64-bit lanes over a record's fields, finalized into a Fingerprint.
class Hasher {
public:
    Hasher& bytes(std::string_view b) {
        for (unsigned char c : b) {
            a_ = (a_ ^ c) * 1099511628211ULL;
            b_ = ((b_ ^ c) * 0x9E3779B97F4A7C15ULL);
            b_ ^= b_ >> 29;
        }
        return *this;
    }
    /// Text with its length first, so that ("ab", "c") and ("a", "bc") differ.
    Hasher& text(std::string_view s) { return u64(s.size()).bytes(s); }
    Hasher& u64(std::uint64_t v) {
        char b[8];
        std::memcpy(b, &v, 8);
        return bytes(std::string_view(b, 8));
    }
    Hasher& i64(std::int64_t v) { return u64(static_cast<std::uint64_t>(v)); }
    /// A double by its bits (-0 and 0 differ, which only makes a fingerprint more cautious).
    Hasher& f64(double v) {
        std::uint64_t u;
        std::memcpy(&u, &v, 8);
        return u64(u);
    }
    Fingerprint done() const { return Fingerprint{mix64(a_), mix64(b_ ^ 0x632BE59BD9B4E019ULL)}; }

private:
    std::uint64_t a_ = 1469598103934665603ULL, b_ = 0x84222325CBF29CE4ULL;
};

}  // namespace covermap::tiles::detail
