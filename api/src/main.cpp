#include <cstdio>
#include <cstdlib>
#include <exception>

#include "covermap/api/cli.hpp"

// jemalloc (linked into this executable) reads its options from this symbol before the first
// allocation. Transparent huge pages for everything it maps: a plan at scale 500 allocates
// over a gigabyte in small pieces, and one page fault per 4 KB page was a third of its time
// on a virtual machine (bench/plan.sh; glibc's own switch for this, the tunable
// glibc.malloc.hugetlb, can only be set from the environment). One arena: with one per
// thread (up to 8 on two cores), every short-lived worker thread began huge pages of its
// own, each zeroed by the kernel for a few kilobytes used; a plan at scale 50 faulted 9,500
// times instead of 4,800, and took 0.90 s instead of 0.82 s (median of 7 interleaved runs).
// Each thread's cache still serves most allocations without the arena's lock; cached tiles
// were served as fast (bench/tiles_cached.sh).
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "thp:always,metadata_thp:always,narenas:1";
}

int main(int argc, char** argv) {
    // The access log is block-buffered: whatever ends the process, the last lines are written.
    std::set_terminate([] {
        std::fputs("covermap: terminated by an uncaught exception\n", stderr);
        std::fflush(stderr);
        std::abort();
    });
    return covermap::api::run_cli(argc, argv);
}
