// harness/stats.hpp — summary statistics over repetitions, used by the results file and
// the console table alike.
#pragma once

#include <vector>

namespace ipcmark {

double median(std::vector<double> values);                // 0 for none
double mean(const std::vector<double>& values);           // 0 for none
double sample_stddev(const std::vector<double>& values);  // n-1, as Google Benchmark; 0 below two

}  // namespace ipcmark
