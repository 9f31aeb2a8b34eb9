// harness/cli/cli.cpp — parse and dispatch: the subcommands come from their own files; every
// error ends as one line on stderr and an exit code (2 bad input, 1 a failure, 0 success).
#include "harness/cli/cli.hpp"

#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "harness/cli/list_options.hpp"
#include "harness/cli/plugin_options.hpp"
#include "harness/run/peer_args.hpp"
#include "harness/cli/subcommand.hpp"
#include "harness/usage_error.hpp"
#include "transports/transport.hpp"

namespace ipcmark {

int run_cli(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an EPIPE error, not a silent death

  CLI::App app{"ipcmark: which IPC transport should I use on this machine, and did my change make it slower?"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");

  // Every command is in a file of its own (harness/cli/subcommand.hpp), in the order --help lists them.
  const std::vector<Subcommand> commands{
      add_list_command(app),  add_run_command(app),    add_serve_command(app),   add_read_command(app),
      add_clean_command(app), add_floor_command(app),  add_report_command(app),  add_compare_command(app),
      add_recommend_command(app), add_conform_command(app), add_history_command(app), add_peer_command(app)};

  std::string known_names;
  bool known = false;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_group().empty()) continue;  // hidden (peer)
    known_names += (known_names.empty() ? "" : ", ") + sub->get_name();
    if (argc > 1 && sub->get_name() == argv[1]) known = true;
  }
  if (argc > 1 && argv[1][0] != '-' && !known && std::string(argv[1]) != "peer") {
    std::cerr << "ipcmark: error: unknown command '" << argv[1] << "' (commands: " << known_names << ")\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "ipcmark: error: " << e.what() << " (see --help)\n";
    return 2;
  }

  try {
    for (const CLI::App* sub : app.get_subcommands())
      if (sub->parsed()) refuse_empty_list_elements(*sub, argc, argv);
    // Commands that name transports load plugins (--plugin, IPCMARK_PLUGIN_PATH); a peer loads
    // those its parent passed down in IPCMARK_PLUGIN_PATH.
    for (const CLI::App* sub : app.get_subcommands())
      if (sub->parsed() && (sub->get_option_no_throw("--plugin") != nullptr || sub->get_name() == kPeerCommand))
        load_plugins(*sub);
    for (const Subcommand& c : commands)
      if (*c.app) return c.body();
  } catch (const UsageError& e) {
    std::cerr << "ipcmark: error: " << e.what() << '\n';
    return 2;
  } catch (const Error& e) {
    std::cerr << "ipcmark: error: " << e.what() << '\n';
    return e.code() == Errc::InvalidArgument || e.code() == Errc::MessageTooLarge ? 2 : 1;
  } catch (const std::exception& e) {
    std::cerr << "ipcmark: error: " << e.what() << '\n';
    return 1;
  }
  return 2;
}

}  // namespace ipcmark
