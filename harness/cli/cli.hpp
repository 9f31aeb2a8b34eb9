#pragma once

namespace ipcmark {

// The whole command line: list, run, serve, read, clean (and the internal peer).
// Returns the exit code: 0 success, 1 a run or operation failed, 2 bad usage or input.
int run_cli(int argc, char** argv);

}  // namespace ipcmark
