// harness/results/output_path.hpp — an output file checked before the work that fills it.
#pragma once

#include <string>

namespace ipcmark {

enum class MissingDirectories { Refuse, Create };

// Throws UsageError "cannot write WHAT to 'PATH': reason" unless PATH can be written: its
// directory exists (or, with Create, can be made: the write makes it too), and a file can be
// created there. Called before a command measures or prints anything, so a typo in --out costs
// no run. Directories it made stay only if the probe succeeds; the probe file never stays.
void check_output_path(const std::string& what, const std::string& path,
                       MissingDirectories missing = MissingDirectories::Refuse);

// The temporary file an output is first written to, beside it, then renamed over it.
std::string temporary_beside(const std::string& path);

}  // namespace ipcmark
