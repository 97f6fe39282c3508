#include <cstdio>
#include <cstdlib>
#include <exception>

#include "covermap/api/cli.hpp"

int main(int argc, char** argv) {
    // The access log is block-buffered: whatever ends the process, the last lines are written.
    std::set_terminate([] {
        std::fputs("covermap: terminated by an uncaught exception\n", stderr);
        std::fflush(stderr);
        std::abort();
    });
    return covermap::api::run_cli(argc, argv);
}
