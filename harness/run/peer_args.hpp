// harness/run/peer_args.hpp — the command line of `ipcmark peer`, described once.
//
// The runner builds a PeerArgs for each peer it spawns and writes it with to_argv(); the peer
// subcommand registers the same flags with add_options(). Both walk one list of flags in
// peer_args.cpp, so a flag is declared in one place: its name, its field, whether it is
// required. tests/unit/peer_args_test.cpp round-trips every field.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/run/scenario.hpp"

namespace CLI {
class App;
}

namespace ipcmark {

enum class Role { Server, Client };
std::string_view to_string(Role role);  // "server", "client"

inline constexpr std::string_view kPeerCommand = "peer";  // the hidden subcommand

struct PeerArgs {
  Role role = Role::Server;
  std::string transport;  // its name, resolved by run_spec()
  std::string channel;
  Pattern pattern = Pattern::Pingpong;
  std::size_t message_size = 0;
  std::uint64_t messages = 0;
  std::uint64_t warmup_messages = 0;
  std::uint64_t warmup_ms = 0;
  std::uint64_t rate = 0;
  WaitKind wait = WaitKind::Block;
  std::chrono::seconds timeout{30};
  bool zero_copy = false;
  int readers = 1;
  int reader = 0;      // fanout client: which reader (0..readers-1)
  int cpu = -1;        // pin to this CPU, or -1
  int parent_pid = 0;  // exit if this parent goes away; 0: no check

  // The peer of `spec` in `role` on `channel` (cpu, reader and parent_pid keep their defaults).
  static PeerArgs of(const RunSpec& spec, Role role, std::string channel);
  // The run these arguments describe, as the peer measures it. Throws UsageError for an
  // unknown transport.
  RunSpec run_spec() const;

  // The arguments after the program's path: kPeerCommand, then every flag.
  std::vector<std::string> to_argv() const;
  // Registers every flag on the peer subcommand, bound to this object (which must outlive the
  // parse). A value that does not parse is a CLI::ParseError naming the flag.
  void add_options(CLI::App& peer);

  bool operator==(const PeerArgs&) const = default;
};

}  // namespace ipcmark
