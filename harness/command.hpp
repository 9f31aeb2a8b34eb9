// harness/command.hpp — commands kept out of cli.cpp (one file each) plug in here: each
// adds its CLI11 subcommand to the app and returns the body to run when it was chosen.
// Bodies return the exit code (0 ok, 1 failure found, 2 bad input) and may throw
// UsageError or Error, which run_cli turns into one line on stderr like every command.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace ipcmark {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> body;
};

Command add_floor_command(CLI::App& app);      // harness/floor_command.cpp
Command add_report_command(CLI::App& app);     // harness/report_command.cpp
Command add_compare_command(CLI::App& app);    // harness/compare_command.cpp
Command add_recommend_command(CLI::App& app);  // harness/recommend_command.cpp

}  // namespace ipcmark
