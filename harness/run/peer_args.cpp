#include "harness/run/peer_args.hpp"

#include <type_traits>

#include <CLI/CLI.hpp>

#include "harness/usage_error.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

enum class Need { Required, Optional };

// Every flag of the peer's command line: its name, the field it carries, and whether the
// runner must give it (an optional flag left out keeps PeerArgs' default). to_argv() and
// add_options() both walk this list; `Args` is PeerArgs or const PeerArgs.
template <class Args, class Flag>
void for_each_flag(Args& a, Flag&& flag) {
  flag("--role", a.role, Need::Required);
  flag("--transport", a.transport, Need::Required);
  flag("--channel", a.channel, Need::Required);
  flag("--pattern", a.pattern, Need::Required);
  flag("--size", a.message_size, Need::Required);
  flag("--messages", a.messages, Need::Required);
  flag("--warmup", a.warmup_messages, Need::Required);
  flag("--warmup-ms", a.warmup_ms, Need::Optional);
  flag("--rate", a.rate, Need::Optional);
  flag("--wait", a.wait, Need::Optional);
  flag("--timeout", a.timeout, Need::Optional);
  flag("--zero-copy", a.zero_copy, Need::Optional);
  flag("--readers", a.readers, Need::Optional);
  flag("--reader", a.reader, Need::Optional);
  flag("--cpu", a.cpu, Need::Optional);
  flag("--parent-pid", a.parent_pid, Need::Optional);
}

Role parse_role(std::string_view text) {
  if (text == to_string(Role::Server)) return Role::Server;
  if (text == to_string(Role::Client)) return Role::Client;
  throw UsageError("unknown role '" + std::string(text) + "' (use server or client)");
}

// A value as it is written on the command line, and read back: CLI11 converts strings and
// numbers itself; the enums by the names the rest of ipcmark uses.
std::string text(const std::string& v) { return v; }
std::string text(std::chrono::seconds v) { return std::to_string(v.count()); }
std::string text(Role v) { return std::string(to_string(v)); }
std::string text(Pattern v) { return std::string(to_string(v)); }
std::string text(WaitKind v) { return std::string(to_string(v)); }
template <class T>
  requires std::is_integral_v<T>
std::string text(T v) {
  return std::to_string(v);
}

void parse_text(const std::string& s, Role& v) { v = parse_role(s); }
void parse_text(const std::string& s, Pattern& v) { v = parse_pattern(s); }
void parse_text(const std::string& s, WaitKind& v) { v = parse_wait(s); }

}  // namespace

std::string_view to_string(Role role) { return role == Role::Server ? "server" : "client"; }

PeerArgs PeerArgs::of(const RunSpec& spec, Role role, std::string channel) {
  PeerArgs a;
  a.role = role;
  a.transport = std::string(spec.transport->name);
  a.channel = std::move(channel);
  a.pattern = spec.pattern;
  a.message_size = spec.message_size;
  a.messages = spec.messages;
  a.warmup_messages = spec.warmup_messages;
  a.warmup_ms = spec.warmup_ms;
  a.rate = spec.rate;
  a.wait = spec.wait;
  a.timeout = spec.timeout;
  a.zero_copy = spec.zero_copy;
  a.readers = spec.readers;
  return a;
}

RunSpec PeerArgs::run_spec() const {
  RunSpec spec;
  spec.transport = find_transport(transport);
  if (spec.transport == nullptr) throw UsageError("unknown transport '" + transport + "' (see `ipcmark list`)");
  spec.pattern = pattern;
  spec.message_size = message_size;
  spec.messages = messages;
  spec.warmup_messages = warmup_messages;
  spec.warmup_ms = warmup_ms;
  spec.rate = rate;
  spec.wait = wait;
  spec.timeout = timeout;
  spec.zero_copy = zero_copy;
  spec.readers = readers;
  return spec;
}

std::vector<std::string> PeerArgs::to_argv() const {
  std::vector<std::string> argv{std::string(kPeerCommand)};
  for_each_flag(*this, [&](const char* name, const auto& value, Need) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, bool>) {
      if (value) argv.emplace_back(name);
    } else {
      argv.insert(argv.end(), {name, text(value)});
    }
  });
  return argv;
}

void PeerArgs::add_options(CLI::App& peer) {
  for_each_flag(*this, [&](const char* name, auto& value, Need need) {
    using T = std::decay_t<decltype(value)>;
    CLI::Option* option = nullptr;
    if constexpr (std::is_same_v<T, bool>) {
      option = peer.add_flag(name, value);
    } else if constexpr (std::is_same_v<T, std::chrono::seconds>) {
      option = peer.add_option_function<std::chrono::seconds::rep>(name, [&value](auto s) { value = T(s); });
    } else if constexpr (std::is_enum_v<T>) {
      option = peer.add_option_function<std::string>(name, [&value, name](const std::string& s) {
        try {
          parse_text(s, value);
        } catch (const UsageError& e) {
          throw CLI::ValidationError(name, e.what());
        }
      });
    } else {
      option = peer.add_option(name, value);
    }
    if (need == Need::Required) option->required();
  });
}

}  // namespace ipcmark
