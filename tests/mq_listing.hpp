// tests/mq_listing.hpp — where tests look for mq names (transports/mq/mq_names.hpp), and what a
// test about mq names does on a machine that cannot list them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

#include "transports/mq/mq_names.hpp"

namespace ipcmark::testing {

// The mqueue directory, or "" when there is none; said once per test process on stderr, so a
// leftover check that could not look at mq names does not pass in silence.
inline std::string mqueue_dir_or_empty() {
  const MqueueDir mqueue = find_mqueue_dir();
  static bool said = false;
  if (mqueue.path.empty() && !said) {
    said = true;
    std::fprintf(stderr, "note: mq names are not checked: %s\n", mqueue.why_not.c_str());
  }
  return mqueue.path;
}

// Whether this process could mount an mqueue filesystem: effective CAP_SYS_ADMIN (bit 21).
inline bool can_mount() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key)
    if (key == "CapEff:") {
      std::string hex;
      status >> hex;
      return (std::stoull(hex, nullptr, 16) >> 21 & 1) != 0;
    }
  return false;
}

}  // namespace ipcmark::testing

// For a test about the names of `transport` (a name; only "mq" needs a mount): without an mqueue
// mount it could only fail for no visible reason or pass without looking. Where this process
// could mount one (root, CAP_SYS_ADMIN), mounting is scripts/setup's job, so the test fails in
// one line; elsewhere the machine cannot list them and the test is skipped, saying why.
#define IPCMARK_REQUIRE_NAME_LISTING(transport)                                                            \
  switch (0)                                                                                               \
  case 0:                                                                                                  \
  default: /* one statement, safe after a braceless if, as gtest's own macros */                           \
    if (const ::ipcmark::MqueueDir mqueue_ = ::ipcmark::find_mqueue_dir();                                  \
        std::string_view(transport) != "mq" || !mqueue_.path.empty()) {                                     \
    } else if (::ipcmark::testing::can_mount())                                                            \
      FAIL() << "cannot list POSIX message queues: " << mqueue_.why_not << "; run scripts/setup";           \
    else                                                                                                   \
      GTEST_SKIP() << "cannot list POSIX message queues, and not allowed to mount them: " << mqueue_.why_not
