// harness/cli/list_options.hpp — the values of list options, as typed.
#pragma once

namespace CLI {
class App;
}

namespace ipcmark {

// Throws UsageError naming the option and its value when a value of one of `command`'s list
// options (comma-separated, or repeatable like --cpus) is empty or has an empty element:
// "--transports shm,,pipe", "--sizes 64,", "--cpus ''". CLI11 drops empty elements of a
// delimited list, so a stray comma would quietly run something other than what was typed;
// hence this reads argv (from argv[2], after the command's name) rather than the parsed values.
void refuse_empty_list_elements(const CLI::App& command, int argc, char** argv);

}  // namespace ipcmark
