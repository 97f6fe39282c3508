#pragma once
/// \file Metatiles on disk, shared by every process that serves one store: one file per metatile
/// (`DIR/<layer>/<scale>/<z>/<x0>/<y0>.meta`, its n × n PNGs after a header that names the
/// drawing they were rendered from), written to a temporary file and renamed (a reader never
/// sees half a file), bounded in bytes (the least recently used go first). What a file's stamp
/// means, and so whether a file may be served, is TileService's business. No Mapnik here.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "covermap/tiles/source.hpp"
#include "covermap/tiles/tile_id.hpp"

namespace covermap::tiles {

/// The drawing a metatile file holds.
struct MetaStamp {
    Fingerprint data;       ///< TileService's fingerprint of the drawing when the render began
    std::uint64_t key = 0;  ///< what else the layer's pixels depend on (the heatmap's classes)
};

/// A metatile as stored: its stamp and its tiles' PNGs, row-major ("" for an empty tile).
struct MetaFile {
    MetaStamp stamp;
    std::vector<std::string> pngs;
};

struct DiskStats {
    long writes = 0;         ///< files written
    long errors = 0;         ///< reads, writes or deletions that failed (each logged, at most one line per 10 s)
    long damaged = 0;        ///< files found truncated, corrupt or of another format or drawing (deleted)
    long evicted = 0;        ///< files deleted to stay within the bound
    long removed = 0;        ///< files deleted by invalidation
    std::int64_t bytes = 0;  ///< bytes of metatile files, as this process counts them
};

class DiskCache {
public:
    /// Opens `dir` (creating it) for metatiles of the drawing `drawing` (files of another are
    /// damaged), at most `max_bytes` of them. Never throws for I/O: a directory that cannot be
    /// written is logged, and then every read misses and every write fails (counted).
    DiskCache(std::string dir, std::uint64_t max_bytes, std::uint64_t drawing);
    ~DiskCache();
    DiskCache(const DiskCache&) = delete;
    DiskCache& operator=(const DiskCache&) = delete;

    /// Whether no other process had the directory open when this one opened it (then this one
    /// holds it alone until share(): the moment to wipe what the data no longer matches).
    bool alone() const { return alone_; }
    /// Lets other processes open the directory (after alone()'s decisions).
    void share();

    /// A metatile's file when there is a sound one (marked as just used); a damaged file there
    /// is deleted. Absent: nullopt, not an error.
    std::optional<MetaFile> read(const std::string& layer, int scale, const MetaTile& m);
    /// Writes (or replaces) a metatile's file: its stamp and its n × n PNGs; false (logged)
    /// when it cannot.
    bool write(const std::string& layer, int scale, const MetaTile& m, const MetaStamp& stamp,
               const std::vector<std::string>& pngs);
    /// Deletes the files of the metatiles (z, size n) with x0 in [x0_lo, x0_hi] and y0 in
    /// [y0_lo, y0_hi] (multiples of n): looks them up by name, never walks the tree. Returns
    /// how many there were.
    std::size_t remove(const std::string& layer, int scale, int z, int n, long long x0_lo, long long x0_hi,
                       long long y0_lo, long long y0_hi);
    /// Deletes every file of a layer.
    std::size_t remove_layer(const std::string& layer);
    /// Deletes every metatile file.
    void wipe();

    /// The note kept beside the tiles (`DIR/fingerprint`), empty when there is none.
    std::string note() const;
    /// Replaces the note (atomically).
    void set_note(const std::string& text);

    DiskStats stats() const;
    const std::string& dir() const { return dir_; }

private:
    std::string path_of(const std::string& layer, int scale, const MetaTile& m) const;
    bool remove_file(const std::string& path);
    std::size_t remove_tree(const std::string& path);
    void scan_and_evict();
    void fail(const std::string& what, const std::string& path, int err);

    std::string dir_;
    std::uint64_t max_bytes_;
    std::uint64_t drawing_;
    int lock_fd_ = -1;
    bool alone_ = false;
    std::atomic<std::int64_t> bytes_{0};
    std::atomic<long> writes_{0}, errors_{0}, damaged_{0}, evicted_{0}, removed_{0};
    std::atomic<std::int64_t> written_{0};  // bytes written since the last scan
    std::mutex evict_mutex_;                // one scan at a time
    std::mutex log_mutex_;
    long long last_log_ = 0;  // steady seconds of the last logged failure (log_mutex_)
    long suppressed_ = 0;     // failures not logged since (log_mutex_)
};

}  // namespace covermap::tiles
