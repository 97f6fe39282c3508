#include "covermap/api/cli.hpp"

int main(int argc, char** argv) { return covermap::api::run_cli(argc, argv); }
