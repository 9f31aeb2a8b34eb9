// harness/conform/bounded_clause.hpp — a clause run in a process of its own, with a time limit,
// so that no transport can hang or crash the caller (`ipcmark conform`).
#pragma once

#include <chrono>

#include "harness/conform/clause.hpp"

namespace ipcmark::conform {

// Forks a child in a new process group that runs the clause and reports its result over a pipe.
// A child that passes `limit`, or dies without reporting (a crash inside the transport), is a
// failure saying so; the whole group (the clause's own peers too) is killed and reaped either way
// (the caller becomes a child subreaper for that).
// Call with no other thread running (fork).
ClauseResult run_clause_bounded(const Clause& clause, const Transport& transport, WaitKind wait,
                                 std::chrono::seconds limit);

}  // namespace ipcmark::conform
