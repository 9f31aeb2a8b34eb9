#pragma once

#include <time.h>

#include <cstdint>

namespace ipcmark {

// CLOCK_MONOTONIC in ns: one clock for every process on a Linux host, read through the
// vDSO (no syscall) when the clocksource is tsc.
inline std::uint64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace ipcmark
