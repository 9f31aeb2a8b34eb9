// harness/run/auto_repetitions.hpp — `--repetitions auto`: keep adding repetitions of a
// configuration until the 95% interval of its median real_time is narrow enough, within a time
// budget. The interval is the same percentile bootstrap the `_median` rows carry (ci95_low,
// ci95_high), so what the run stops on is what the file says.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "harness/run/run_result.hpp"

namespace ipcmark {

struct AutoRepetitions {
  bool on = false;
  double half_width = 0.02;  // the interval within ±this fraction of the median
  std::chrono::seconds budget{300};  // no new round starts after this much of the run
  int most = 100;  // repetitions of one configuration at most, whatever the interval
};

// How one configuration ended: how many successful repetitions, and whether its interval got
// within the width.
struct AutoOutcome {
  int repetitions = 0;
  bool reached = false;
  double half_width = 0;  // the interval's half width over the median when it stopped
};

// Per configuration name, over the successful repetitions so far: its interval's half width
// over its median, and whether that is within `half_width`. Fewer than three repetitions are
// never within (an interval of two is their range, and says nothing).
std::map<std::string, AutoOutcome> auto_outcomes(const std::vector<RunResult>& results, double half_width);

}  // namespace ipcmark
