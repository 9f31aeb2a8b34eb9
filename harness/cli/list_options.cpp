#include "harness/cli/list_options.hpp"

#include <cctype>
#include <string>

#include <CLI/CLI.hpp>

#include "harness/usage_error.hpp"

namespace ipcmark {
namespace {

bool is_list(const CLI::Option& option) {
  return option.get_delimiter() != '\0' || option.get_items_expected_max() > 1;
}

void check_value(const std::string& name, const CLI::Option& option, const std::string& value) {
  if (value.empty()) throw UsageError(name + " '' is empty");
  const char d = option.get_delimiter();
  if (d == '\0') return;
  if (value.front() == d || value.back() == d || value.find(std::string(2, d)) != std::string::npos)
    throw UsageError(name + " '" + value + "' has an empty element (a stray '" + std::string(1, d) + "')");
}

}  // namespace

void refuse_empty_list_elements(const CLI::App& command, int argc, char** argv) {
  const CLI::Option* list = nullptr;  // the list option the next values belong to
  std::string name;                   // as typed (--transport or --transports)
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return;
    const bool option_like = arg.size() > 1 && arg[0] == '-' && !std::isdigit(static_cast<unsigned char>(arg[1]));
    if (option_like) {
      const auto eq = arg.find('=');
      name = arg.substr(0, eq);
      const CLI::Option* option = command.get_option_no_throw(name);
      list = option != nullptr && is_list(*option) ? option : nullptr;
      if (list != nullptr && eq != std::string::npos) check_value(name, *list, arg.substr(eq + 1));
      continue;
    }
    if (list == nullptr) continue;
    check_value(name, *list, arg);
    if (!list->get_allow_extra_args()) list = nullptr;  // one value per occurrence (e.g. compare --base)
  }
}

}  // namespace ipcmark
