// harness/views/units.hpp — how every view writes a duration.
#pragma once

#include <string>

namespace ipcmark {

// "725 ns", "69.46 us", "1.20 ms", "3.00 s": the units of `ipcmark run`'s table and of every view.
std::string format_ns(double ns);

}  // namespace ipcmark
