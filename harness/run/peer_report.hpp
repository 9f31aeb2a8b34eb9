// harness/run/peer_report.hpp — what a peer tells the runner once its role is done: one JSON
// line on its stdout, written by peer.cpp and read by runner.cpp.
//
// Which keys a report carries follows from the peer's arguments (role, pattern, rate): the
// table in peer_report.cpp names each key once, with the peers that send it. Reading is
// strict: a key the peer owes that is missing, of the wrong type, or a key it does not owe, is
// an Error naming the key, so a run fails with one line instead of counting 0. A peer that
// failed sends only {"error": ..., "code": ...}.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "harness/measure/histogram.hpp"
#include "harness/run/peer_args.hpp"

namespace ipcmark {

struct PeerReport {
  std::string error;  // the peer failed: one line (then only `code` is meaningful)
  std::string code;   // the failure's Errc by name: "PeerGone", "Timeout", ...

  // Every peer, over its measured window.
  std::uint64_t cpu_ns = 0;  // user + system
  std::uint64_t context_switches = 0;
  // The server of stream and fanout: when its first measured message went.
  std::uint64_t first_send_ns = 0;
  // ... of an open-loop run (rate != 0): messages/s achieved, time spent pacing (in its CPU),
  // and the sleep margin it had learnt by the end (harness/measure/pacer.hpp).
  double achieved_rate = 0;
  std::uint64_t pacing_ns = 0;
  std::uint64_t sleep_margin_ns = 0;
  // The server of fanout: readers dropped mid-stream.
  int readers_lost = 0;
  // The client of oneshot, stream and pingpong: measured messages (round trips) and its window.
  std::uint64_t messages = 0;
  std::uint64_t elapsed_ns = 0;
  // A fanout reader: which one, measured messages received, when the last arrived.
  int reader = 0;
  std::uint64_t received = 0;
  std::uint64_t last_receive_ns = 0;
  // Every client and reader.
  std::uint64_t lost = 0, reordered = 0, corrupted = 0;
  LatencyHistogram histogram;

  static PeerReport failure(std::string error, std::string code);
  bool failed() const { return !error.empty(); }

  // The keys the peer started with `peer` owes, plus "role".
  nlohmann::json to_json(const PeerArgs& peer) const;
  // Strict (see the top); throws Error{Errc::Corrupt} "bad peer report: missing key 'x'" etc.
  static PeerReport from_json(const nlohmann::json& j, const PeerArgs& peer);

  bool operator==(const PeerReport&) const = default;
};

}  // namespace ipcmark
