#pragma once

#include <stdexcept>

namespace ipcmark {

// Bad command line or scenario input: printed as one line, exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ipcmark
