// tests/support/channels.hpp — names no other test or run uses, and what transport tests send and are called.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstddef>
#include <string>

#include "transports/transport.hpp"

namespace ipcmark::testing {

// "<prefix><pid>-<infix><n>": unique in this process and apart from other processes' names, so a
// leftover check by prefix sees only this test's names.
inline std::string unique_name(const std::string& prefix = "ipcmark-test-", const std::string& infix = "") {
  static std::atomic<unsigned> counter{0};
  return prefix + std::to_string(::getpid()) + "-" + infix + std::to_string(counter++);
}

inline std::string unique_channel() { return unique_name("ipcmark-contract-"); }

// Byte i of message `message`: any reordering, loss or tear shows up.
inline std::byte pattern_byte(std::size_t message, std::size_t i) { return std::byte((message * 131 + i * 7 + 1) & 0xff); }

// gtest parameter names: the transport's name with '_' for anything but letters and digits ('-').
inline std::string transport_test_name(const ::testing::TestParamInfo<const Transport*>& info) {
  std::string name(info.param->name);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

}  // namespace ipcmark::testing
