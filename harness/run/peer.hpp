// harness/run/peer.hpp — the two roles of a run, each in its own process (`ipcmark peer`).
//
// The server creates the channel, prints "ready" on stdout, then runs the pattern; the
// client connects after "ready". Measurement lives here, never in a transport: the sender
// stamps CLOCK_MONOTONIC into each message, the reader checks sequence and every payload
// byte and records latency. Each role ends by printing its PeerReport on stdout: one JSON
// line, or {"error": ..., "code": ...}. A fanout server and a one-shot server keep their channel
// until SIGTERM (the runner sends it once every client is done), so no reader loses the end.
#pragma once

#include "harness/run/peer_args.hpp"

namespace ipcmark {

// Runs the role and prints its report (harness/run/peer_report.hpp) as one JSON line; returns the
// process exit code. Throws UsageError for an unknown transport, before anything runs.
int run_peer(const PeerArgs& args);

// Set from a signal handler: stop serving (one-shot servers) and leave cleanly.
void request_stop() noexcept;
bool stop_requested() noexcept;

}  // namespace ipcmark
