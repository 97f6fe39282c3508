#pragma once
/// \file The covermap command line (CLI11): demo, import, coverage.

namespace covermap::api {

/// Runs `covermap <subcommand> …`; returns the process exit code. Errors go to stderr.
int run_cli(int argc, char** argv);

}  // namespace covermap::api
