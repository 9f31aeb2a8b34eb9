// tests/conformance/clause_test.hpp — a clause of harness/conform run as a GoogleTest case: the
// very code `ipcmark conform` runs, so the suite and the command cannot drift apart.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/conform/clause.hpp"

namespace ipcmark::testing {

// Passes, fails or skips as the clause does, with its one-line reason.
inline void check_clause(std::string_view name, const Transport& transport, WaitKind wait) {
  const conform::ClauseResult r = conform::run_clause(conform::clause_named(name), transport, wait);
  if (r.verdict == conform::Verdict::Skip) GTEST_SKIP() << r.reason;
  EXPECT_EQ(r.verdict, conform::Verdict::Pass) << transport.name << "/" << to_string(wait) << ": " << name << ": "
                                               << r.reason;
  if (r.verdict == conform::Verdict::Pass) std::printf("pass: %s\n", r.reason.c_str());
}

// Fails naming each clause of `clauses` that no test case of `suite` runs.
inline void expect_every_clause_tested(const char* suite, std::span<const conform::Clause> clauses) {
  const ::testing::UnitTest& all = *::testing::UnitTest::GetInstance();
  for (const conform::Clause& c : clauses) {
    bool found = false;
    for (int s = 0; s < all.total_test_suite_count() && !found; ++s) {
      const ::testing::TestSuite& ts = *all.GetTestSuite(s);
      if (std::string(ts.name()).find(suite) == std::string::npos) continue;
      for (int i = 0; i < ts.total_test_count() && !found; ++i)
        found = std::string(ts.GetTestInfo(i)->name()).rfind(std::string(c.name) + "/", 0) == 0;
    }
    EXPECT_TRUE(found) << "clause " << c.name << " has no TEST_P in " << suite;
  }
}

}  // namespace ipcmark::testing

// One TEST_P per clause, named as the clause: the suite's `transport()` and `wait()` say what it runs on.
#define IPCMARK_CLAUSE_TEST(Suite, Clause) \
  TEST_P(Suite, Clause) { ::ipcmark::testing::check_clause(#Clause, transport(), wait()); }
