// harness/cli/peer_command.cpp — the hidden `peer` command: one side of a run, started by the
// runner with the command line PeerArgs writes (harness/run/peer_args.hpp).
#include <memory>
#include <string>

#include "harness/cli/subcommand.hpp"
#include "harness/run/peer.hpp"
#include "harness/run/peer_args.hpp"

namespace ipcmark {

Subcommand add_peer_command(CLI::App& app) {
  auto args = std::make_shared<PeerArgs>();
  CLI::App* peer = app.add_subcommand(std::string(kPeerCommand), "internal: one side of a run");
  peer->group("");  // hidden from --help
  args->add_options(*peer);
  return {peer, [args] { return run_peer(*args); }};
}

}  // namespace ipcmark
