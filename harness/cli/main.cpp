#include "harness/cli/cli.hpp"

int main(int argc, char** argv) { return ipcmark::run_cli(argc, argv); }
