// tests/support/errors.hpp — catching the ipcmark::Error a call throws, and checking what it says.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "transports/transport.hpp"

namespace ipcmark::testing {

// The Error `f()` throws; a test failure (and a System error) when it throws none.
template <class F>
Error error_from(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no ipcmark::Error was thrown";
  return Error(Errc::System, "");
}

inline bool contains(const Error& e, const std::string& text) { return std::string(e.what()).find(text) != std::string::npos; }

// A Corrupt error about the region or ring named `name`, saying `detail`.
inline void expect_corrupt(const Error& e, const std::string& name, const std::string& detail) {
  EXPECT_EQ(e.code(), Errc::Corrupt) << e.what();
  EXPECT_TRUE(contains(e, "corrupt region '" + name + "': ")) << e.what();
  EXPECT_TRUE(contains(e, detail)) << e.what();
}

}  // namespace ipcmark::testing
