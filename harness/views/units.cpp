#include "harness/views/units.hpp"

#include <cstdio>

namespace ipcmark {

std::string format_ns(double ns) {
  char buf[32];
  if (ns < 1e3) std::snprintf(buf, sizeof buf, "%.0f ns", ns);
  else if (ns < 1e6) std::snprintf(buf, sizeof buf, "%.2f us", ns / 1e3);
  else if (ns < 1e9) std::snprintf(buf, sizeof buf, "%.2f ms", ns / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2f s", ns / 1e9);
  return buf;
}

std::string format_times(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, x < 10 ? "%.2f×" : x < 100 ? "%.1f×" : "%.0f×", x);
  return buf;
}

}  // namespace ipcmark
