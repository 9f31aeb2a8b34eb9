// harness/console.hpp — the table `ipcmark run` prints at the end: one line per
// configuration, medians over its repetitions. A view of the results, never the record.
#pragma once

#include <ostream>
#include <vector>

#include "harness/run_result.hpp"

namespace ipcmark {

void print_table(std::ostream& out, const std::vector<RunResult>& results);

}  // namespace ipcmark
