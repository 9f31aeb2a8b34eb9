// harness/conform/clause.hpp — the transport contract (transports/transport.hpp) as code: one
// function per clause, each taking a Transport and saying pass, fail or skip in one line.
//
// tests/conformance runs these clauses under GoogleTest (one TEST_P per clause) and
// `ipcmark conform` runs them from the installed binary, so both check the very same code.
// Clauses use real processes: a client is fork()ed before the server exists (forked_peer.hpp).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "transports/transport.hpp"

namespace ipcmark::conform {

enum class Verdict { Pass, Fail, Skip };  // Skip: the clause does not apply (e.g. no zero-copy)
std::string_view to_string(Verdict verdict);

struct ClauseResult {
  Verdict verdict = Verdict::Fail;
  std::string reason;  // one line
};

struct Clause {
  std::string_view name;  // as the GoogleTest case is named
  // Runs the clause on channels that wait by `wait` (transports with wait modes: shm); throws
  // ClauseFailure/ClauseSkip (check.hpp) or lets an Error out, which run_clause() turns into a
  // result. Fanout clauses always use Block (the fanout ring takes spin and block only).
  std::string (*check)(const Transport& transport, WaitKind wait);  // returns the reason for a pass
};

std::span<const Clause> transport_clauses();  // transport_clauses.cpp, zero_copy_clauses.cpp
std::span<const Clause> fanout_clauses();     // fanout_clauses.cpp

// The clause of that name in either list; throws std::out_of_range if none.
const Clause& clause_named(std::string_view name);

// Runs `clause` in this process; every outcome (an unexpected Error or exception too) is a result.
ClauseResult run_clause(const Clause& clause, const Transport& transport, WaitKind wait = WaitKind::Block);

}  // namespace ipcmark::conform
