#include <cstdio>
#include <cstdlib>
#include <exception>

#include "covermap/api/cli.hpp"

// jemalloc (linked into this executable) reads its options from this symbol before the first
// allocation. Transparent huge pages for everything it maps: a plan at scale 500 allocates
// over a gigabyte in small pieces, and one page fault per 4 KB page was a third of its time
// on a virtual machine (bench/plan.sh; glibc's own switch for this, the tunable
// glibc.malloc.hugetlb, can only be set from the environment).
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "thp:always,metadata_thp:always";
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
