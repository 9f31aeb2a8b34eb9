// harness/cli/subcommand.hpp — every command lives in a file of its own and plugs in here: it adds
// its CLI11 subcommand (options bound to flags it owns) to the app and returns the body to run
// when it was chosen. Bodies return the exit code (0 ok, 1 failure found, 2 bad input) and may
// throw UsageError or Error, which run_cli turns into one line on stderr like every command.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "transports/transport.hpp"

namespace ipcmark {

struct Subcommand {
  CLI::App* app = nullptr;
  std::function<int()> body;
};

Subcommand add_list_command(CLI::App& app);       // list_command.cpp
Subcommand add_run_command(CLI::App& app);        // run_command.cpp
Subcommand add_serve_command(CLI::App& app);      // seed_commands.cpp
Subcommand add_read_command(CLI::App& app);       // seed_commands.cpp
Subcommand add_clean_command(CLI::App& app);      // clean_command.cpp
Subcommand add_floor_command(CLI::App& app);      // floor_command.cpp
Subcommand add_report_command(CLI::App& app);     // report_command.cpp
Subcommand add_compare_command(CLI::App& app);    // compare_command.cpp
Subcommand add_recommend_command(CLI::App& app);  // recommend_command.cpp
Subcommand add_conform_command(CLI::App& app);    // conform_command.cpp
Subcommand add_history_command(CLI::App& app);    // history_command.cpp
Subcommand add_peer_command(CLI::App& app);       // peer_command.cpp (hidden)

// The transport named on the command line; UsageError naming it when there is none.
const Transport& transport_named(const std::string& name);

}  // namespace ipcmark
