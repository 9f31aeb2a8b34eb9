// harness/views/units.hpp — how every view writes a duration and a multiple.
#pragma once

#include <string>

namespace ipcmark {

// "725 ns", "69.46 us", "1.20 ms", "3.00 s": the units of `ipcmark run`'s table and of every view.
std::string format_ns(double ns);
// "3.61×", "21.7×", "222×": a multiple (× best, × floor) with three significant digits at most.
std::string format_times(double x);

}  // namespace ipcmark
