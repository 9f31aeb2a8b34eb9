// tests/support/channels.hpp — names no other test or run uses, and what transport tests send and are called.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstddef>
#include <string>

#include "harness/conform/names_left.hpp"
#include "transports/transport.hpp"

namespace ipcmark::testing {

// unique_name, unique_channel and pattern_byte are the conformance clauses' own (harness/conform).
using conform::pattern_byte;
using conform::unique_channel;
using conform::unique_name;

// gtest parameter names: the transport's name with '_' for anything but letters and digits ('-').
inline std::string transport_test_name(const ::testing::TestParamInfo<const Transport*>& info) {
  std::string name(info.param->name);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

}  // namespace ipcmark::testing
